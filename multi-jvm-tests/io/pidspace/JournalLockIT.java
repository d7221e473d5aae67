package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A second process on a journal that another one holds stops at once and says why. */
class JournalLockIT {

  @Test
  void secondReplayOnALockedH2File_exitsWithAClearError(@TempDir Path dataDir) throws Exception {
    Process holder = replay(dataDir).start();
    try {
      Writer in = holder.outputWriter(StandardCharsets.UTF_8);
      in.write("alloc 0\n");
      in.flush();
      BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("1", out.readLine()); // the journal is open and locked now

      Process second = replay(dataDir).redirectErrorStream(true).start();
      second.outputWriter(StandardCharsets.UTF_8).append("alloc 0\n").close();
      assertTrue(second.waitFor(60, TimeUnit.SECONDS), "the second replay did not stop");
      String output = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(1, second.exitValue(), output);
      assertTrue(output.contains("pidspace replay: cannot open the journal at jdbc:h2:file:"), output);
      assertTrue(output.contains("already in use"), output);
    } finally {
      holder.destroyForcibly().waitFor();
    }
  }

  private static ProcessBuilder replay(Path dataDir) {
    return new ProcessBuilder("java", "-XX:TieredStopAtLevel=1", "-jar",
        System.getProperty("pidspace.jar", "target/pidspace.jar"),
        "replay", "--persistence", "jdbc", "--data-dir", dataDir.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD);
  }
}
