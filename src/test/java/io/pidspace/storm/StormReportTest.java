package io.pidspace.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pidspace.cli.StormCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The JSON fields docs/storm.md promises, and the HTML report with its charts. */
class StormReportTest {

  private static StormReport real;
  private static StormReport virtual;

  @BeforeAll
  static void storms() {
    real = Storm.run(Args.options("--compare", "--containers", "2", "--forkers", "2", "--rate", "300",
        "--container-lifetime", "1s", "--duration", "1500ms"), StormTarget::inMemory, Progress.NONE);
    virtual = Storm.run(Args.options("--clock", "virtual", "--containers", "3", "--duration", "1m"),
        () -> { throw new AssertionError("the virtual clock drives no target"); }, Progress.NONE);
  }

  private static JsonNode json(StormReport report) throws Exception {
    return new ObjectMapper().readTree(report.toJson(true));
  }

  private static void assertFields(JsonNode node, String... names) {
    for (String name : names) {
      assertTrue(node.has(name), "field " + name + " in " + node);
    }
  }

  @Test
  void json_realClockWithCompare() throws Exception {
    JsonNode root = json(real);
    assertEquals(StormReport.SCHEMA, root.get("schema").asInt());
    assertFields(root, "options", "machine", "runs", "ratio");
    assertFields(root.get("options"), "clock", "containers", "forkers", "pid_max", "loop", "rate", "burst",
        "burst_every_seconds", "lifetime", "lifetime_mean_seconds", "pareto_shape", "container_lifetime_seconds",
        "duration_seconds", "seed", "compare");
    assertEquals("real", root.get("options").get("clock").asText());
    assertFields(root.get("machine"), "cores", "java", "load_average");
    assertFields(root.get("ratio"), "allocs_per_second", "latency_p50", "latency_p99");
    assertEquals(2, root.get("runs").size());
    assertEquals("pidspace in-memory", root.get("runs").get(0).get("target").asText());
    assertEquals("baseline (seed pidmap)", root.get("runs").get(1).get("target").asText());
    for (JsonNode run : root.get("runs")) {
      assertFields(run, "target", "seconds", "counts", "latency", "series");
      assertFalse(run.has("capacity"));
      assertFields(run.get("counts"), "forks", "allocs", "frees", "exhausted", "errors", "shed",
          "died_with_container", "containers_created", "containers_destroyed", "allocs_per_second", "frees_per_second");
      assertFields(run.get("latency"), "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "mean_us");
      assertFields(run.get("series"), "time_seconds", "allocs_per_second", "frees_per_second", "latency_p50_us",
          "latency_p99_us", "live_per_slot");
      assertEquals(2, run.get("series").get("live_per_slot").size());
    }
  }

  @Test
  void json_virtualClock() throws Exception {
    JsonNode root = json(virtual);
    assertFalse(root.has("machine"), "nothing measured: the same seed gives the same file");
    assertFalse(root.has("ratio"));
    JsonNode run = root.get("runs").get(0);
    assertFalse(run.has("latency"));
    assertFields(run.get("capacity"), "pid_max", "peak", "mean", "slots", "reuse");
    assertFalse(run.get("capacity").has("first_exhaustion_seconds"), "null when never exhausted");
    assertFields(run.get("capacity").get("slots").get(0), "slot", "peak", "mean");
    assertFields(run.get("capacity").get("reuse"), "count", "min_seconds", "p1_seconds", "p50_seconds",
        "p99_seconds", "max_seconds", "buckets");
    assertFields(run.get("capacity").get("reuse").get("buckets").get(0), "up_to_seconds", "count");
    assertFalse(run.get("series").has("latency_p50_us"));
  }

  @Test
  void html_isOneOfflineFileWithItsCharts() {
    for (StormReport report : List.of(real, virtual)) {
      String html = HtmlReport.of(report);
      assertTrue(html.contains("Chart.js v4"), "Chart.js inlined");
      assertFalse(html.contains("<script src"), "no script loaded from elsewhere");
      assertFalse(html.contains("/*CHART_JS*/") || html.contains("/*REPORT_JSON*/") || html.contains("<!--SUMMARY-->"));
      for (String chart : List.of("allocs", "latency", "occupancy", "reuse")) {
        assertTrue(html.contains("<canvas id=\"" + chart + "\">"), chart);
      }
      assertTrue(html.contains(report.toJson(false).replace("</", "<\\/")), "the data the charts draw");
    }
  }

  @Test
  void command_writesSummaryJsonAndReport(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("storm.json");
    Path html = dir.resolve("storm.html");
    StringWriter out = new StringWriter();
    int exit = new CommandLine(new StormCommand()).setCaseInsensitiveEnumValuesAllowed(true)
        .setOut(new PrintWriter(out))
        .execute("--clock", "virtual", "--duration", "30s", "--containers", "2", "--no-progress",
            "--json", json.toString(), "--report", html.toString());
    assertEquals(0, exit);
    assertTrue(out.toString().startsWith("pidspace storm: virtual clock, 30s simulated"), out.toString());
    assertTrue(out.toString().contains("pid reuse"));
    assertEquals("virtual", new ObjectMapper().readTree(json.toFile()).get("options").get("clock").asText());
    assertTrue(Files.readString(html).contains("<canvas id=\"occupancy\">"));
  }
}
