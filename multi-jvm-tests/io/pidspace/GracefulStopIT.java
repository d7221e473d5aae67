package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;

/**
 * Issue 27 on real node JVMs: with the node's reservations on (pidspace-node.conf), a graceful
 * stop leaks nothing. Two nodes on one journal (an H2 TCP server started here, or PostgreSQL when
 * {@code PIDSPACE_TEST_PG_URL} is set) host spaces of 4,096 vpids, and single allocs through
 * both leave each space with allocs answered inside its reservation, unstored. SIGTERM of one
 * node hands its shards to the other, and SIGTERM of the last node and its restart recover every
 * space: each time every space counts exactly the pids handed out and can hand out exactly the
 * rest, none twice. (Before, each recovery counted the free vpids of the range leaked: 256 with
 * 30 held.)
 */
class GracefulStopIT {

  static {
    System.setProperty("h2.bindAddress", "127.0.0.1"); // read once, when H2 loads
  }

  private static final Duration READY = Duration.ofSeconds(180);
  private static final Duration CALL = Duration.ofSeconds(30); // above the node's 10 s ask timeout
  private static final int SPACES = 6; // ids 1..6
  private static final int PID_MAX = 4_096;
  private static final HttpClient MANAGEMENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** The pids each space has handed out and not freed, as the client saw them. */
  private final Map<Integer, Set<Integer>> held = new TreeMap<>();

  @Test
  void sigtermOfOneNodeThenOfTheLast_everySpaceCountsExactlyItsPidsAndHandsOutExactlyTheRest() throws Exception {
    Server h2 = null;
    List<String> settings = new ArrayList<>(List.of("pidspace.persistence=jdbc"));
    Optional<Map<String, String>> pg = TestPostgres.freshSchema("graceful");
    if (pg.isPresent()) {
      pg.get().forEach((k, v) -> settings.add(k + "=" + v));
    } else {
      h2 = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
      settings.add("pidspace.jdbc.url=jdbc:h2:tcp://127.0.0.1:" + h2.getPort()
          + "/mem:graceful" + System.nanoTime() + ";DB_CLOSE_DELAY=-1;WRITE_DELAY=0");
    }
    Path logs = Files.createDirectories(Path.of("target", "cluster-logs", "graceful-" + System.currentTimeMillis()));
    int portA = NodeProcess.freePort();
    NodeProcess a = new NodeProcess("A", portA, List.of(portA), settings, logs);
    NodeProcess b = new NodeProcess("B", NodeProcess.freePort(), List.of(portA), settings, logs);
    try {
      a.start();
      a.awaitReady(READY);
      b.start();
      b.awaitReady(READY);

      for (int space = 1; space <= SPACES; space++) {
        ok(a.call("POST", "/v1/spaces", "{\"id\": " + space + ", \"pidMax\": " + PID_MAX + "}", CALL), 201);
        held.put(space, new HashSet<>());
      }
      for (int space = 1; space <= SPACES; space++) { // 13 to 28 single allocs, through both nodes
        for (int i = 0; i < 10 + 3 * space; i++) {
          allocOne(i % 2 == 0 ? a : b, space);
        }
      }
      assertTrue(hostedShards(a) > 0 && hostedShards(b) > 0,
          "spaces on both nodes: A hosts " + hostedShards(a) + " shards, B " + hostedShards(b));

      b.stop(); // SIGTERM: B leaves, its shards hand off to A
      assertExact(a, "after B's SIGTERM");

      for (int space = 1; space <= SPACES; space++) { // unstored allocs again, now all on A
        for (int i = 0; i < 5; i++) {
          allocOne(a, space);
        }
      }
      a.stop(); // SIGTERM of the last node
      a.start();
      a.awaitReady(READY);
      assertExact(a, "after the last node's SIGTERM and restart");

      assertEquals(0, a.logged("unfinished reservation"), "A recovered a space as after a crash; see " + logs);
      assertEquals(0, b.logged("unfinished reservation"), "B recovered a space as after a crash; see " + logs);
    } finally {
      for (NodeProcess node : List.of(a, b)) {
        if (node.isAlive()) {
          node.kill();
        }
      }
      if (h2 != null) {
        h2.stop();
      }
    }
  }

  private void allocOne(NodeProcess via, int space) throws Exception {
    JsonNode pids = ok(via.call("POST", "/v1/spaces/" + space + "/pids", null, CALL), 200).get("pids");
    assertEquals(1, pids.size(), pids.toString());
    assertTrue(held.get(space).add(pids.get(0).asInt()), "pid " + pids.get(0) + " handed out twice");
  }

  /**
   * Every space counts exactly its held pids, then hands out every other vpid of 1..pid_max-1
   * once (none it holds) and is exhausted; those are freed again, so it holds what it held.
   */
  private void assertExact(NodeProcess node, String when) throws Exception {
    for (int space = 1; space <= SPACES; space++) {
      Set<Integer> mine = held.get(space);
      // the first request brings the space up on this node: a read, so that a retry changes nothing
      JsonNode stats = awaitOk(node, "/v1/spaces/" + space);
      assertEquals(mine.size(), stats.get("allocated").asInt(), "space " + space + " allocated, " + when);

      List<Integer> rest = new ArrayList<>();
      ok(node.call("POST", "/v1/spaces/" + space + "/pids?count=" + PID_MAX, null, CALL), 200)
          .get("pids").forEach(p -> rest.add(p.asInt()));
      assertEquals(PID_MAX - 1 - mine.size(), rest.size(), "space " + space + " handed out the rest, " + when);
      assertEquals(rest.size(), new HashSet<>(rest).size(), "space " + space + ": distinct, " + when);
      for (int pid : rest) {
        assertFalse(mine.contains(pid), "space " + space + " handed out pid " + pid + " twice, " + when);
      }
      NodeProcess.Answer exhausted = node.call("POST", "/v1/spaces/" + space + "/pids", null, CALL);
      assertEquals(409, exhausted.status(), "space " + space + " is full, " + when + ": " + exhausted.json());
      assertEquals("space-exhausted", exhausted.json().get("error").asText());

      String body = rest.stream().map(String::valueOf).collect(Collectors.joining(", ", "{\"pids\": [", "]}"));
      JsonNode freed = ok(node.call("POST", "/v1/pids:free", body, CALL), 200);
      assertEquals(rest.size(), freed.get("freed").size(), freed.get("refused").toString());
      assertEquals(mine.size(), ok(node.call("GET", "/v1/spaces/" + space, null, CALL), 200).get("allocated").asInt());
    }
  }

  /** GET {@code path} until it answers 200: a space whose shard just moved may answer 503 first. */
  private static JsonNode awaitOk(NodeProcess node, String path) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    NodeProcess.Answer last = null;
    while (System.nanoTime() < deadline) {
      try {
        last = node.call("GET", path, null, CALL);
        if (last.status() == 200) {
          return last.json();
        }
      } catch (IOException e) {
        // busy: ask again
      }
      Thread.sleep(250);
    }
    throw new AssertionError("GET " + path + " via " + node + " did not answer 200 within 90 s; last " + last);
  }

  private static int hostedShards(NodeProcess node) throws Exception {
    HttpResponse<String> r = MANAGEMENT.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.managementPort + "/cluster/shards/PidSpace"))
            .timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("regions").size();
  }

  private static JsonNode ok(NodeProcess.Answer answer, int status) {
    assertEquals(status, answer.status(), String.valueOf(answer.json()));
    return answer.json();
  }
}
