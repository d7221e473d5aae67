package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 29, across a kill -9 of a durable node (its own H2 file, reservations on): the
 * generations its allocs answered before the crash are still the holders' after recovery. A
 * stale free (a handle from before the pid was freed and allocated again) is refused
 * {@code stale-handle}; the holder's is accepted, also for a pid answered inside a reservation
 * and never stored (recovery's leaked mark gives it the generation it was answered).
 */
class GenerationsCrashIT {

  private static final Duration READY = Duration.ofSeconds(120);

  @Test
  void aStaleFree_isRefusedAfterAKill9_andTheHoldersIsAccepted() throws Exception {
    Path logs = Files.createDirectories(Path.of("target", "generations-crash-logs", "run-" + System.currentTimeMillis()));
    int port = NodeProcess.freePort();
    NodeProcess node = new NodeProcess("node", port, List.of(port),
        List.of("pidspace.data-dir=" + logs.resolve("data").toAbsolutePath(), "pidspace.reservation=1024"), logs);
    try {
      node.start();
      node.awaitReady(READY);
      assertEquals(201, node.call("POST", "/v1/spaces", "{\"id\": 5, \"pidMax\": 40000}").status());
      int base = 5 << 22;
      JsonNode first = node.call("POST", "/v1/spaces/5/pids?count=3", null).json();
      assertEquals("[" + (base | 2) + "," + (base | 3) + "," + (base | 4) + "]", first.get("pids").toString());
      assertEquals("[1,1,1]", first.get("generations").toString());
      assertEquals(204, node.call("DELETE", "/v1/pids/" + (base | 2) + "?generation=1", null).status());
      JsonNode again = node.call("POST", "/v1/spaces/5/pids", "{\"vpids\": [2]}").json(); // the ABA, stored
      assertEquals("[2]", again.get("generations").toString());
      JsonNode unstored = node.call("POST", "/v1/spaces/5/pids", null).json(); // inside the reservation
      int last = unstored.get("pids").get(0).asInt();
      assertEquals("[1]", unstored.get("generations").toString());

      node.kill();
      node.start();
      node.awaitReady(READY);

      NodeProcess.Answer stale = node.call("DELETE", "/v1/pids/" + (base | 2) + "?generation=1", null);
      assertEquals(409, stale.status(), String.valueOf(stale.json()));
      assertEquals("stale-handle", stale.json().get("error").asText());
      assertTrue(node.call("GET", "/v1/pids/" + (base | 2), null).json().get("allocated").asBoolean(),
          "a stale free changes nothing");
      assertEquals(204, node.call("DELETE", "/v1/pids/" + (base | 2) + "?generation=2", null).status());
      NodeProcess.Answer batch = node.call("POST", "/v1/pids:free",
          "{\"pids\": [" + (base | 3) + ", " + last + "], \"generations\": [1, 1]}");
      assertEquals(200, batch.status());
      assertEquals("[" + (base | 3) + "," + last + "]", batch.json().get("freed").toString(), batch.json().toString());
      assertEquals(0, batch.json().get("refused").size(), batch.json().toString());
    } finally {
      if (node.isAlive()) {
        node.kill();
      }
    }
  }
}
