package io.pidspace.testkit;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's Chromium, headless, for tests of pages the project serves or writes: the DOM after the
 * page's scripts ran, or a screenshot. A fresh profile each call; no network beyond what the page
 * asks for (the flags keep Chromium from calling home, which this machine refuses).
 * {@code .ci/run} installs the {@code chromium} package; a test fails, not skips, without it.
 */
public final class HeadlessChromium {
  private static final Path BINARY = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
  private static final long PROCESS_TIMEOUT_SECONDS = 120;

  private HeadlessChromium() {}

  /** The serialised DOM once the page has run for {@code virtualTimeMillis} of virtual time. */
  public static String dumpDom(URI page, int virtualTimeMillis) throws IOException, InterruptedException {
    return new String(run(List.of("--virtual-time-budget=" + virtualTimeMillis, "--dump-dom", page.toString()), null),
        StandardCharsets.UTF_8);
  }

  /** A PNG of the page at {@code width}x{@code height} after {@code virtualTimeMillis} of virtual time. */
  public static Path screenshot(URI page, Path png, int width, int height, int virtualTimeMillis)
      throws IOException, InterruptedException {
    Files.deleteIfExists(png);
    run(List.of("--virtual-time-budget=" + virtualTimeMillis, "--window-size=" + width + "," + height,
        "--hide-scrollbars", "--screenshot=" + png.toAbsolutePath(), page.toString()), png);
    if (!Files.isRegularFile(png) || Files.size(png) == 0) {
      throw new IOException("chromium wrote no screenshot to " + png);
    }
    return png;
  }

  private static byte[] run(List<String> args, Path workDir) throws IOException, InterruptedException {
    if (!Files.isExecutable(BINARY)) {
      throw new IOException(BINARY + " is missing: install Debian's chromium package (.ci/run does)");
    }
    Path profile = Files.createTempDirectory("pidspace-chromium-");
    try {
      List<String> command = new ArrayList<>(List.of(BINARY.toString(), "--headless", "--no-sandbox",
          "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile));
      command.addAll(args);
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectError(ProcessBuilder.Redirect.DISCARD);
      if (workDir != null && workDir.toAbsolutePath().getParent() != null) {
        builder.directory(workDir.toAbsolutePath().getParent().toFile());
      }
      Process process = builder.start();
      byte[] out = process.getInputStream().readAllBytes();
      if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("chromium did not finish in " + PROCESS_TIMEOUT_SECONDS + " s");
      }
      if (process.exitValue() != 0) {
        throw new IOException("chromium exited with " + process.exitValue());
      }
      return out;
    } finally {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
