package io.pidspace.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pidspace.core.PidspaceException;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} scraped from a real node's management port: the space gauges agree with
 * {@code GET /v1/spaces}, the counters and histograms move by exactly what the test did, and no
 * request can add a label value of its own.
 */
class MetricsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SHIFT = 22;
  private static final Pattern SAMPLE = Pattern.compile("^([a-z_]+)(\\{(?:[a-z_]+=\"[^\"]*\",?)*\\})? (\\S+)$");
  private static final Pattern LABEL = Pattern.compile("([a-z_]+)=\"([^\"]*)\"");

  private static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = new TestNode();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void metrics_agreeWithTheSpaceListingAndCountWhatWasDone() throws Exception {
    assertEquals(201, node.send("POST", "/v1/spaces", "{\"id\": 40, \"pidMax\": 1000}").statusCode());
    assertEquals(201, node.send("POST", "/v1/spaces", "{\"id\": 41}").statusCode());
    Map<String, Double> before = scrape();

    assertEquals(200, node.send("POST", "/v1/spaces/40/pids?count=5", "").statusCode());
    assertEquals(200, node.send("POST", "/v1/spaces/41/pids", "").statusCode());
    int first = (40 << SHIFT) | 2;
    assertEquals(204, node.send("DELETE", "/v1/pids/" + first, null).statusCode());
    HttpResponse<String> batch = node.send("POST", "/v1/pids:free",
        "{\"pids\": [" + (first + 1) + ", " + first + "]}"); // the second was freed already
    assertEquals(200, batch.statusCode());
    assertEquals(404, node.send("POST", "/v1/spaces/42/pids", "").statusCode()); // unknown-space
    assertEquals(400, node.send("GET", "/v1/pids/abc", null).statusCode()); // bad-request

    Map<String, Double> after = scrape();
    JsonNode listing = JSON.readTree(node.send("GET", "/v1/spaces", null).body()).get("spaces");
    assertTrue(listing.size() >= 3, listing.toString());
    Set<String> listed = new TreeSet<>();
    for (JsonNode space : listing) {
      String id = space.get("id").asText();
      listed.add(id);
      int allocated = space.get("allocated").asInt();
      int pidMax = space.get("pidMax").asInt();
      assertEquals(allocated, after.get("pidspace_space_allocated{space=\"" + id + "\"}"), "space " + id);
      assertEquals(pidMax, after.get("pidspace_space_pid_max{space=\"" + id + "\"}"), "space " + id);
      assertEquals(pidMax - allocated, after.get("pidspace_space_free{space=\"" + id + "\"}"), "space " + id);
    }
    assertEquals(listed, labelValues(after, "pidspace_space_allocated", "space"));
    assertEquals(listing.size(), after.get("pidspace_spaces"));
    assertEquals(1.0, after.get("pidspace_registry_answered"));
    assertEquals(3.0, after.get("pidspace_space_allocated{space=\"40\"}")); // 5 allocated, 2 freed

    assertEquals(6, delta(before, after, "pidspace_pids_allocated_total"));
    assertEquals(2, delta(before, after, "pidspace_pids_freed_total"));
    assertEquals(1, delta(before, after, "pidspace_refusals_total{code=\"unknown-space\"}"));
    assertEquals(1, delta(before, after, "pidspace_refusals_total{code=\"bad-request\"}"));
    // The batch's refused pid is part of a 200 answer: it is not a refused request.
    String notAllocated = "pidspace_refusals_total{code=\"not-allocated\"}";
    assertEquals(before.get(notAllocated), after.get(notAllocated));
    assertEquals(3, delta(before, after,
        "pidspace_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/spaces/{id}/pids\"}"));
    assertEquals(1, delta(before, after,
        "pidspace_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/pids:free\"}"));

    // Four stored runs (5 allocs, 1 alloc, 1 free, 1 free): the group commit's batch sizes add up.
    assertEquals(4, delta(before, after, "pidspace_journal_write_pids_count"));
    assertEquals(8, delta(before, after, "pidspace_journal_write_pids_sum"));
    assertEquals(4, delta(before, after, "pidspace_journal_write_duration_seconds_count"));
    assertEquals(delta(before, after, "pidspace_journal_write_pids_count"),
        delta(before, after, "pidspace_journal_write_pids_bucket{le=\"+Inf\"}"));

    String self = node.authority.system().address().toString();
    assertEquals(1.0, after.get("pidspace_cluster_members{status=\"up\"}"));
    assertEquals(0.0, after.get("pidspace_cluster_unreachable"));
    assertEquals(1.0, after.get("pidspace_registry_local"));
    assertEquals(1.0, after.get("pidspace_registry_node{node=\"" + self + "\"}"));
    assertTrue(after.get("pidspace_shards") >= 1, "shards " + after.get("pidspace_shards"));
    assertTrue(after.get("pidspace_spaces_hosted") >= 2, "spaces hosted " + after.get("pidspace_spaces_hosted"));
  }

  @Test
  void metrics_areTheTextFormat() throws Exception {
    HttpResponse<String> metrics = TestNode.request(node.management, "GET", "/metrics", null);
    assertEquals(200, metrics.statusCode());
    assertEquals("text/plain; version=0.0.4; charset=UTF-8", metrics.headers().firstValue("Content-Type").orElseThrow());
    assertTrue(metrics.body().contains("# TYPE pidspace_space_allocated gauge\n"), metrics.body());
    assertTrue(metrics.body().contains("# TYPE pidspace_pids_allocated_total counter\n"), metrics.body());
    assertTrue(metrics.body().contains("# TYPE pidspace_http_request_duration_seconds histogram\n"), metrics.body());
  }

  @Test
  void labels_takeOnlyTheirBoundedValues() throws Exception {
    for (String path : new String[] {"/v1/spaces/999999", "/v1/spaces/x", "/v1/pids/-1", "/v1/nope", "/v1/spaces/7/pids/8"}) {
      node.send("GET", path, null);
      node.send("POST", path, "{}");
    }
    Map<String, Double> metrics = scrape();
    Set<String> routes = labelValues(metrics, "pidspace_http_request_duration_seconds_count", "route");
    assertTrue(Set.of("/v1/spaces", "/v1/spaces/{id}", "/v1/spaces/{id}/pids", "/v1/pids/{pid}", "/v1/pids:free",
            "/v1/spaces/{id}:reconcile", "/v1/spaces/{id}/holds", "/v1/spaces/{id}/holds/{hold}",
            "/v1/spaces/{id}/export", "/v1/spaces:import")
        .containsAll(routes), routes.toString());
    Set<String> codes = Arrays.stream(PidspaceException.Code.values()).map(PidspaceException.Code::wire)
        .collect(Collectors.toCollection(TreeSet::new));
    codes.addAll(Set.of("too-many-pids", "body-too-large", "request-timeout", "unauthorized", "internal"));
    Set<String> counted = labelValues(metrics, "pidspace_refusals_total", "code");
    assertTrue(codes.containsAll(counted), counted.toString());
    for (String space : labelValues(metrics, "pidspace_space_allocated", "space")) {
      int id = Integer.parseInt(space);
      assertTrue(id >= 0 && id < node.authority.layout().maxSpaces(), space);
    }
  }

  /** Every sample of the scrape by its series ({@code name{labels}}), checking each line's syntax. */
  private static Map<String, Double> scrape() throws Exception {
    HttpResponse<String> response = TestNode.request(node.management, "GET", "/metrics", null);
    assertEquals(200, response.statusCode(), response.body());
    Map<String, Double> samples = new HashMap<>();
    for (String line : response.body().split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertTrue(m.matches(), "not a sample: " + line);
      String series = m.group(1) + (m.group(2) == null ? "" : m.group(2));
      assertEquals(null, samples.put(series, Double.parseDouble(m.group(3))), "twice: " + series);
    }
    return samples;
  }

  private static double delta(Map<String, Double> before, Map<String, Double> after, String series) {
    assertTrue(after.containsKey(series), "no " + series);
    return after.get(series) - before.getOrDefault(series, 0.0);
  }

  private static Set<String> labelValues(Map<String, Double> samples, String name, String label) {
    Set<String> values = new TreeSet<>();
    for (String series : samples.keySet()) {
      if (series.startsWith(name + "{")) {
        Matcher m = LABEL.matcher(series);
        while (m.find()) {
          if (m.group(1).equals(label)) {
            values.add(m.group(2));
          }
        }
      }
    }
    return values;
  }
}
