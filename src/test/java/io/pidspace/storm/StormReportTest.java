package io.pidspace.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pidspace.cli.PidspaceVersion;
import io.pidspace.cli.StormCommand;
import io.pidspace.testkit.HeadlessChromium;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The JSON fields docs/storm.md promises, and the HTML report as a browser draws it. */
class StormReportTest {

  private static final StormReport.Meta META = new StormReport.Meta("2026-11-30T07:00:00Z", "9.9.9-test",
      "pidspace storm --clock virtual --pid-max 1000");

  /** Real clock with --compare; bursts of 500 on pid_max 400 exhaust both targets' spaces. */
  private static StormReport real;
  /** Virtual, never exhausted. */
  private static StormReport virtual;
  /** Virtual, exhausted: 2,000 live pids on average asked of pid_max 1,000. */
  private static StormReport exhausted;

  @BeforeAll
  static void storms() {
    real = Storm.run(Args.options("--compare", "--containers", "2", "--forkers", "2", "--rate", "300",
        "--pid-max", "400", "--burst", "500", "--burst-every", "500ms", "--container-lifetime", "1s",
        "--duration", "1500ms", "--warmup", "0"), StormTarget::inMemory, Progress.NONE, Storm.TO_THE_END);
    virtual = virtual("--clock", "virtual", "--containers", "3", "--duration", "1m");
    exhausted = virtual("--clock", "virtual", "--containers", "3", "--pid-max", "1000", "--rate", "1000",
        "--burst", "0", "--container-lifetime", "20s", "--duration", "1m").withMeta(META);
  }

  private static StormReport virtual(String... args) {
    return Storm.run(Args.options(args), () -> { throw new AssertionError("the virtual clock drives no target"); },
        Progress.NONE, Storm.TO_THE_END);
  }

  private static JsonNode json(StormReport report) throws Exception {
    return new ObjectMapper().readTree(report.toJson(true));
  }

  private static void assertFields(JsonNode node, String... names) {
    for (String name : names) {
      assertTrue(node.has(name), "field " + name + " in " + node);
    }
  }

  private static final String[] SERIES = {"time_seconds", "forks_per_second", "allocs_per_second",
      "frees_per_second", "exhausted_per_second", "occupancy_max_percent", "occupancy_mean_percent", "live_per_slot"};

  @Test
  void json_realClockWithCompare() throws Exception {
    JsonNode root = json(real);
    assertEquals(StormReport.SCHEMA, root.get("schema").asInt());
    assertFields(root, "options", "machine", "runs", "ratio");
    assertFalse(root.has("meta"), "the command adds it");
    assertFalse(root.has("interrupted"));
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
          "died_with_container", "containers_created", "containers_destroyed", "allocs_per_second", "frees_per_second",
          "first_exhaustion_seconds");
      assertFields(run.get("latency"), "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "mean_us");
      assertFields(run.get("series"), SERIES);
      assertFields(run.get("series"), "latency_p50_us", "latency_p99_us");
      assertEquals(2, run.get("series").get("live_per_slot").size());
    }
  }

  /** The envelope: max at or above mean in every interval, the max reaching 100% once forks were refused. */
  @Test
  void series_occupancyEnvelopeAndExhaustion() {
    for (StormReport report : List.of(real, exhausted)) {
      for (StormReport.Run run : report.runs()) {
        StormReport.Series s = run.series();
        double pidMax = report.options().pidMax();
        double exhaustedSum = 0;
        double highest = 0;
        for (int i = 0; i < s.timeSeconds().length; i++) {
          assertTrue(s.occupancyMaxPercent()[i] >= s.occupancyMeanPercent()[i] - 1e-9, run.target() + " sample " + i);
          assertTrue(s.occupancyMaxPercent()[i] <= 100, run.target() + " sample " + i);
          for (int[] slot : s.livePerSlot()) {
            assertTrue(100 * slot[i] / pidMax <= s.occupancyMaxPercent()[i] + 1e-9, "a slot's live count is under the max");
          }
          double dt = s.timeSeconds()[i] - (i == 0 ? 0 : s.timeSeconds()[i - 1]);
          exhaustedSum += s.exhaustedPerSecond()[i] * dt;
          highest = Math.max(highest, s.occupancyMaxPercent()[i]);
        }
        StormReport.Counts c = run.counts();
        assertTrue(c.exhausted() > 0, run.target() + " exhausts its spaces");
        assertNotNull(c.firstExhaustionSeconds(), run.target());
        // the rates cover the duration; the count also takes in the drain after it
        assertTrue(Math.round(exhaustedSum) <= c.exhausted() && exhaustedSum > 0, run.target() + ": " + exhaustedSum);
        assertTrue(highest > 99, run.target() + ": a full space is (pid_max - 1 or 2)/pid_max of pid_max: " + highest);
      }
    }
    StormReport.Run v = exhausted.runs().get(0);
    assertEquals(v.capacity().firstExhaustionSeconds(), v.counts().firstExhaustionSeconds());
    assertTrue(v.series().forksPerSecond()[5] > v.series().allocsPerSecond()[5],
        "offered above achieved once spaces are full");
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
    assertFalse(run.get("counts").has("first_exhaustion_seconds"), "null when never exhausted");
    assertFields(run.get("capacity").get("slots").get(0), "slot", "peak", "mean");
    assertFields(run.get("capacity").get("reuse"), "count", "min_seconds", "p1_seconds", "p50_seconds",
        "p99_seconds", "max_seconds", "buckets");
    assertFields(run.get("capacity").get("reuse").get("buckets").get(0), "up_to_seconds", "count");
    assertFields(run.get("series"), SERIES);
    assertFalse(run.get("series").has("latency_p50_us"));
    assertFields(json(exhausted).get("meta"), "date", "version", "command_line");
  }

  @Test
  void html_isOneOfflineFileWithItsCharts() {
    for (StormReport report : List.of(real, virtual)) {
      String html = HtmlReport.of(report);
      assertTrue(html.contains("Chart.js v4"), "Chart.js inlined");
      assertFalse(html.contains("<script src"), "no script loaded from elsewhere");
      assertFalse(html.contains("/*CHART_JS*/") || html.contains("/*REPORT_JSON*/") || html.contains("<!--SUMMARY-->"));
      for (String chart : List.of("occupancy-envelope", "rates", "latency-time", "latency", "occupancy", "reuse")) {
        assertTrue(html.contains("<canvas id=\"" + chart + "\">"), chart);
      }
      assertTrue(html.contains(report.toJson(false).replace("</", "<\\/")), "the data the charts draw");
    }
  }

  /** The canvases of a page as Chromium left them after its scripts ran: id to data-* attributes. */
  private static Map<String, Map<String, String>> canvases(String dom) {
    Map<String, Map<String, String>> found = new HashMap<>();
    Matcher canvas = Pattern.compile("<canvas ([^>]*)>").matcher(dom);
    while (canvas.find()) {
      Map<String, String> attributes = new HashMap<>();
      Matcher a = Pattern.compile("([\\w-]+)=\"([^\"]*)\"").matcher(canvas.group(1));
      while (a.find()) {
        attributes.put(a.group(1), a.group(2));
      }
      found.put(attributes.get("id"), attributes);
    }
    return found;
  }

  private static Path page(Path dir, String name, StormReport report) throws Exception {
    Path html = dir.resolve(name + ".html");
    Files.writeString(html, HtmlReport.of(report), StandardCharsets.UTF_8);
    return html;
  }

  @Test
  void browser_drawsTheEnvelopeTheExhaustionMarkerAndTheMetadata(@TempDir Path dir) throws Exception {
    String dom = HeadlessChromium.dumpDom(page(dir, "exhausted", exhausted).toUri(), 5_000);
    Map<String, Map<String, String>> canvases = canvases(dom);
    Map<String, String> envelope = canvases.get("occupancy-envelope");
    assertEquals("yes", envelope.get("data-drawn"), dom.length() > 2000 ? envelope.toString() : dom);
    String target = "pidspace core (virtual)";
    double first = exhausted.runs().get(0).counts().firstExhaustionSeconds();
    assertEquals(List.of(target + ": mean", target + ": max", target + ": exhausted/s",
        target + ": first exhaustion at " + String.format(java.util.Locale.ROOT, "%.3f", first) + " s"),
        List.of(envelope.get("data-series").split("\\|")));
    int samples = exhausted.runs().get(0).series().timeSeconds().length;
    assertEquals(3 * samples + 2, Integer.parseInt(envelope.get("data-points")), "every sample drawn, and the marker");
    assertEquals(target + ": offered (forks/s)|" + target + ": achieved (allocs/s)|asked for: 3,000 forks/s on average",
        canvases.get("rates").get("data-series"));
    assertFalse(canvases.containsKey("latency-time"), "nothing measured on the virtual clock");
    assertTrue(dom.contains("data-first-exhaustion-seconds=\"" + first + "\""), "the note carries the time");
    assertTrue(dom.contains("data-meta=\"date\">2026-11-30T07:00:00Z<"), "run metadata");
    assertTrue(dom.contains("data-meta=\"version\">pidspace 9.9.9-test<"));
    assertTrue(dom.contains("data-meta=\"command\">pidspace storm --clock virtual --pid-max 1000<"));
    assertTrue(dom.contains("data-charts=\"" + canvases.size() + "\""), "every chart drew: " + canvases.keySet());

    String real = HeadlessChromium.dumpDom(page(dir, "real", StormReportTest.real).toUri(), 5_000);
    Map<String, String> latency = canvases(real).get("latency-time");
    assertEquals("yes", latency.get("data-drawn"));
    assertEquals("pidspace in-memory: p50|pidspace in-memory: p99|baseline (seed pidmap): p50|baseline (seed pidmap): p99",
        latency.get("data-series"));
    assertTrue(canvases(real).get("occupancy-envelope").get("data-series").contains("baseline (seed pidmap): first exhaustion at"));
  }

  /** Pixels of the exhaustion marker's red, which nothing else on the page uses. */
  private static int markerPixels(BufferedImage image) {
    int red = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int rgb = image.getRGB(x, y);
        if (((rgb >> 16) & 255) > 200 && ((rgb >> 8) & 255) < 50 && (rgb & 255) < 50) {
          red++;
        }
      }
    }
    return red;
  }

  private static int colours(BufferedImage image) {
    Set<Integer> seen = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        seen.add(image.getRGB(x, y));
      }
    }
    return seen.size();
  }

  @Test
  void screenshot_showsTheMarkerOnlyWhenSpacesRanOut(@TempDir Path dir) throws Exception {
    Path keep = Path.of("target", "storm-report-screenshots");
    Files.createDirectories(keep);
    BufferedImage full = ImageIO.read(HeadlessChromium.screenshot(page(dir, "exhausted", exhausted).toUri(),
        keep.resolve("exhausted.png"), 1280, 1400, 5_000).toFile());
    BufferedImage never = ImageIO.read(HeadlessChromium.screenshot(page(dir, "never", virtual).toUri(),
        keep.resolve("never-exhausted.png"), 1280, 1400, 5_000).toFile());
    assertTrue(colours(full) > 100, "charts, not a blank page: " + colours(full) + " colours");
    assertTrue(colours(never) > 100, "charts, not a blank page: " + colours(never) + " colours");
    assertTrue(markerPixels(full) > 200, "the first exhaustion's red line: " + markerPixels(full) + " pixels");
    assertTrue(markerPixels(never) < 20, "no marker when never exhausted: " + markerPixels(never) + " pixels");
  }

  /** Ctrl-C's path: the storm ends where it is, and the report covers that part. */
  @Test
  void stop_endsTheStormWithAPartialReport() {
    for (String clock : List.of("real", "virtual")) {
      StormOptions options = Args.options("--clock", clock, "--containers", "2", "--rate", "200",
          "--container-lifetime", "1s", "--duration", clock.equals("real") ? "10m" : "100h");
      CompletableFuture<Void> stop = new CompletableFuture<>();
      Progress.Factory stopAtFirstSample = (task, total) -> new Progress() {
        @Override
        public void update(long doneMillis, String message) {
          stop.complete(null);
        }

        @Override
        public void close() {}
      };
      StormReport report = Storm.run(options, StormTarget::baseline, stopAtFirstSample, stop);
      assertEquals(Boolean.TRUE, report.interrupted(), clock);
      StormReport.Run run = report.runs().get(0);
      assertTrue(run.seconds() < options.durationSeconds() / 2, clock + ": " + run.seconds());
      StormReport.Counts c = run.counts();
      assertTrue(c.allocs() > 0, clock);
      assertEquals(c.allocs(), c.frees() + c.diedWithContainer(), clock + ": every container ended and freed its pids");
      assertEquals(c.containersCreated(), c.containersDestroyed(), clock);
      assertTrue(Summary.of(report).contains("interrupted after "), Summary.of(report));
    }
  }

  private record Ran(int exit, String out, String err) {}

  private static Ran storm(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new StormCommand()).setCaseInsensitiveEnumValuesAllowed(true)
        .setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    return new Ran(exit, out.toString(), err.toString());
  }

  @Test
  void command_writesSummaryJsonAndReport(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("storm.json");
    Path html = dir.resolve("storm.html");
    Ran ran = storm("--clock", "virtual", "--duration", "30s", "--containers", "2", "--no-progress",
        "--json", json.toString(), "--report", html.toString());
    assertEquals(0, ran.exit(), ran.err());
    assertTrue(ran.out().startsWith("pidspace storm: virtual clock, 30s simulated"), ran.out());
    assertTrue(ran.out().contains("pid reuse"));
    JsonNode written = new ObjectMapper().readTree(json.toFile());
    assertEquals("virtual", written.get("options").get("clock").asText());
    assertEquals(PidspaceVersion.get(), written.get("meta").get("version").asText());
    assertEquals("pidspace storm --clock virtual --duration 30s --containers 2 --no-progress --json " + json
        + " --report " + html, written.get("meta").get("command_line").asText());
    assertTrue(written.get("meta").get("date").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"));
    assertTrue(Files.readString(html).contains("<canvas id=\"occupancy-envelope\">"));
  }

  @Test
  void command_jsonToStdoutSummaryToStderr() throws Exception {
    Ran ran = storm("--clock", "virtual", "--duration", "30s", "--containers", "2", "--json", "-");
    assertEquals(0, ran.exit(), ran.err());
    JsonNode json = new ObjectMapper().readTree(ran.out());
    assertEquals(30.0, json.get("options").get("duration_seconds").asDouble());
    assertTrue(ran.err().startsWith("pidspace storm: virtual clock, 30s simulated"), ran.err());
  }

  @Test
  void command_saysWhatItStartsBeforeTheStorm() {
    Ran ran = storm("--url", "http://127.0.0.1:1", "--duration", "1s");
    assertTrue(ran.err().startsWith("pidspace storm: checking that every node answers: http://127.0.0.1:1 ...\n"), ran.err());
    assertTrue(ran.err().contains("no pidspace node answers at http://127.0.0.1:1"), ran.err());
    assertTrue(ran.exit() != 0);
  }
}
