package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive `mvn package` builds, unpacked and run as an operator would. */
class DistributionIT {

  @TempDir static Path unpacked;
  private static Path home;

  private record Ran(int exit, String out, String err) {}

  private static Ran run(Map<String, String> env, String... command) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    Path out = Files.createTempFile(unpacked, "out", ".txt");
    Path err = Files.createTempFile(unpacked, "err", ".txt");
    Process p = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), String.join(" ", command) + " did not end");
    return new Ran(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  @BeforeAll
  static void unpack() throws Exception {
    String version = System.getProperty("pidspace.version");
    Path archive = Path.of(System.getProperty("pidspace.dist", "target/pidspace-" + version + ".tar.gz"));
    assertTrue(Files.isRegularFile(archive), archive + " is built by mvn package");
    Ran tar = run(Map.of(), "tar", "xzf", archive.toAbsolutePath().toString(), "-C", unpacked.toString());
    assertEquals(0, tar.exit(), tar.err());
    home = unpacked.resolve("pidspace-" + version);
  }

  @Test
  void layout_launcherJarConfAndSystemdUnit() throws Exception {
    assertTrue(Files.isExecutable(home.resolve("bin/pidspace")));
    assertTrue(Files.isRegularFile(home.resolve("lib/pidspace.jar")));
    for (String conf : List.of("application.conf", "postgres.conf", "bootstrap.conf", "kubernetes.conf")) {
      assertTrue(Files.isRegularFile(home.resolve("conf").resolve(conf)), conf);
    }
    List<String> unit = Files.readAllLines(home.resolve("systemd/pidspace.service"), StandardCharsets.UTF_8);
    assertTrue(unit.contains("SuccessExitStatus=143"), "SIGTERM's exit is a clean stop");
    assertTrue(unit.stream().anyMatch(l -> l.startsWith("ExecStart=/opt/pidspace/bin/pidspace node")));
  }

  @Test
  void launcher_runsThroughASymlinkAndSaysTheVersion() throws Exception {
    Path link = unpacked.resolve("pidspace-link");
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, home.resolve("bin/pidspace"));
    Ran ran = run(Map.of(), link.toString(), "--version");
    assertEquals(0, ran.exit(), ran.err());
    assertEquals("pidspace " + System.getProperty("pidspace.version"), ran.out().strip());
  }

  @Test
  void launcher_withoutJavaSaysSo() throws Exception {
    Ran ran = run(Map.of("JAVA_HOME", unpacked.resolve("no-jdk-here").toString()),
        home.resolve("bin/pidspace").toString(), "--version");
    assertEquals(1, ran.exit());
    assertEquals("pidspace: no java found: install a JDK 17 or newer, or set JAVA_HOME", ran.err().strip());
  }
}
