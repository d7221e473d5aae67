package io.pidspace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The pidspace command as a user meets it first: its version, a mistyped option, a storm's record of itself. */
class MainTest {

  private record Ran(int status, String out, String err) {}

  private static Ran pidspace(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    return new Ran(status, out.toString(), err.toString());
  }

  @Test
  void version_isTheBuilds() {
    String version = PidspaceVersion.get();
    assertTrue(version.matches("\\d+\\.\\d+\\.\\d+.*"), "Maven filtered version.properties: " + version);
    for (String[] args : new String[][] {{"--version"}, {"storm", "--version"}, {"spaces", "create", "--version"}}) {
      Ran ran = pidspace(args);
      assertEquals(0, ran.status());
      assertEquals("pidspace " + version, ran.out().strip(), String.join(" ", args));
    }
  }

  @Test
  void usageError_isOneShortMessageAndExit2() {
    Ran ran = pidspace("storm", "--contaners", "3");
    assertEquals(2, ran.status());
    assertTrue(ran.err().startsWith("pidspace storm: Unknown options: '--contaners', '3'"), ran.err());
    assertTrue(ran.err().contains("--containers"), "picocli's suggestion: " + ran.err());
    assertTrue(ran.err().strip().endsWith("Try 'pidspace storm --help' for more information."), ran.err());
    assertFalse(ran.err().contains("Usage:"), "not the whole usage: " + ran.err());
    assertEquals("", ran.out());
  }

  @Test
  void durableStorm_withoutDataDir_deletesTheJournalItMade() {
    Ran ran = pidspace("storm", "--persistence", "jdbc", "--containers", "1", "--forkers", "1", "--rate", "100",
        "--burst", "0", "--duration", "1s", "--warmup", "0");
    assertEquals(0, ran.status(), ran.err());
    Matcher said = Pattern.compile("journal in (\\S+) \\(deleted at the end").matcher(ran.err());
    assertTrue(said.find(), ran.err());
    Path dir = Path.of(said.group(1));
    assertTrue(dir.getFileName().toString().startsWith("pidspace-storm"), dir.toString());
    assertFalse(Files.exists(dir), dir + " is still there");
  }

  @Test
  void storm_recordsItsCommandLineAndVersion() throws Exception {
    Ran ran = pidspace("storm", "--clock", "virtual", "--duration", "10s", "--containers", "1", "--seed", "3",
        "--json", "-");
    assertEquals(0, ran.status(), ran.err());
    var meta = new ObjectMapper().readTree(ran.out()).get("meta");
    assertEquals("pidspace storm --clock virtual --duration 10s --containers 1 --seed 3 --json -",
        meta.get("command_line").asText());
    assertEquals(PidspaceVersion.get(), meta.get("version").asText());
  }
}
