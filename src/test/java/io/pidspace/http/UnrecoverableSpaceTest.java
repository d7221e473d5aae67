package io.pidspace.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 27 over HTTP, on a one-node cluster (spaces sharded, their restarts capped): a space
 * whose snapshots cannot be read answers 500 {@code space-unrecoverable} at once, naming the
 * persistence id, the listing carries it, and {@code /metrics} counts it.
 */
class UnrecoverableSpaceTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void unreadableSnapshot_answers500SpaceUnrecoverable_andTheGaugeCountsIt() throws Exception {
    String url = "jdbc:h2:mem:unrecoverable-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    Map<String, Object> settings = Map.of("pidspace.snapshot-every", 2);
    try (TestNode node = new TestNode(url, settings)) {
      assertEquals(201, node.send("POST", "/v1/spaces", "{\"id\": 9}").statusCode());
      assertEquals(201, node.send("POST", "/v1/spaces", "{\"id\": 10}").statusCode());
      assertEquals(200, node.send("POST", "/v1/spaces/9/pids?count=3", "").statusCode());
      assertEquals(200, node.send("POST", "/v1/spaces/9/pids", "").statusCode());
    }
    try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement s = c.createStatement()) {
      assertTrue(s.executeUpdate("UPDATE \"snapshot\" SET \"snapshot_payload\" = X'00ff00ff'"
          + " WHERE \"persistence_id\" = 'PidSpace|9'") > 0, "no snapshot to corrupt");
    }

    try (TestNode node = new TestNode(url, settings)) {
      for (int i = 0; i < 5; i++) { // the first starts the space; the later ones find it stopped or backing off
        long start = System.nanoTime();
        HttpResponse<String> alloc = node.send("POST", "/v1/spaces/9/pids", "");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 5_000, "answered after " + millis + " ms");
        assertEquals(500, alloc.statusCode(), alloc.body());
        assertTrue(alloc.headers().firstValue("Retry-After").isEmpty(), "not an invitation to retry");
        JsonNode error = JSON.readTree(alloc.body());
        assertEquals("space-unrecoverable", error.get("error").asText());
        String message = error.get("message").asText();
        assertTrue(message.contains("PidSpace|9") && message.contains("snapshot"), message);
        Thread.sleep(500);
      }
      assertEquals(200, node.send("POST", "/v1/spaces/10/pids", "").statusCode(), "another space serves");

      JsonNode listed = null;
      for (JsonNode space : JSON.readTree(node.send("GET", "/v1/spaces", null).body()).get("spaces")) {
        listed = space.get("id").asInt() == 9 ? space : listed;
      }
      assertEquals("space-unrecoverable", listed.get("error").asText(), String.valueOf(listed));

      HttpResponse<String> metrics = TestNode.request(node.management, "GET", "/metrics", null);
      assertEquals(200, metrics.statusCode());
      assertTrue(metrics.body().lines().anyMatch(line -> line.equals("pidspace_spaces_unrecoverable 1.0")),
          metrics.body().lines().filter(line -> line.contains("unrecoverable")).toList().toString());
    }
  }
}
