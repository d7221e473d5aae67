package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;

/**
 * Issue 29's retries on a real node JVM, with its reservations on (pidspace-node.conf): allocs
 * with idempotency keys, acknowledged and in flight when the node is killed with kill -9. After
 * its restart a retry with each key answers exactly the pids acknowledged for it, and for a key
 * whose outcome was unknown one answer that it keeps giving; no pid answers two keys, every pid
 * answered is allocated, and the keys' pids are never handed out again.
 */
class KeyedCrashIT {

  static {
    System.setProperty("h2.bindAddress", "127.0.0.1"); // read once, when H2 loads
  }

  private static final Duration READY = Duration.ofSeconds(120);
  private static final Duration CALL = Duration.ofSeconds(30); // above the node's 10 s ask timeout
  private static final int SPACE = 1;
  private static final String PIDS = "/v1/spaces/" + SPACE + "/pids";

  @Test
  void keyedAllocs_acknowledgedOrInFlightAtAKill9_answerTheSamePidsAfterTheRestart() throws Exception {
    Server h2 = null;
    List<String> settings = new ArrayList<>(List.of("pidspace.persistence=jdbc"));
    Optional<Map<String, String>> pg = TestPostgres.freshSchema("keyed");
    if (pg.isPresent()) {
      pg.get().forEach((k, v) -> settings.add(k + "=" + v));
    } else {
      h2 = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
      settings.add("pidspace.jdbc.url=jdbc:h2:tcp://127.0.0.1:" + h2.getPort()
          + "/mem:keyed" + System.nanoTime() + ";DB_CLOSE_DELAY=-1;WRITE_DELAY=0");
    }
    Path logs = Files.createDirectories(Path.of("target", "cluster-logs", "keyed-" + System.currentTimeMillis()));
    int port = NodeProcess.freePort();
    NodeProcess node = new NodeProcess("A", port, List.of(port), settings, logs);
    Map<String, List<Integer>> acknowledged = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    try {
      node.start();
      node.awaitReady(READY);
      ok(node.call("POST", "/v1/spaces", "{\"id\": " + SPACE + ", \"pidMax\": 4096}", CALL), 201);
      for (int i = 0; i < 40; i++) { // keyed allocs between unkeyed ones, which the reservation answers unstored
        String key = "before-kill-" + i;
        acknowledged.put(key, pids(ok(node.postKeyed(PIDS + "?count=" + (1 + i % 3), key, CALL), 200)));
        ok(node.call("POST", PIDS, null, CALL), 200);
      }
      Thread inFlight = new Thread(() -> { // keyed allocs still being sent when the node dies
        for (int i = 0; ; i++) {
          String key = "in-flight-" + i;
          synchronized (unknown) {
            unknown.add(key);
          }
          try {
            List<Integer> got = pids(ok(node.postKeyed(PIDS + "?count=2", key, CALL), 200));
            synchronized (unknown) {
              unknown.remove(key);
              acknowledged.put(key, got);
            }
          } catch (Exception | AssertionError dead) {
            return; // the kill: this one's outcome is unknown
          }
        }
      });
      inFlight.start();
      Thread.sleep(300);
      node.kill(); // kill -9
      inFlight.join(CALL.toMillis());
      assertFalse(inFlight.isAlive(), "the client did not notice the kill");

      node.start();
      node.awaitReady(READY);
      Map<Integer, String> owner = new HashMap<>();
      List<String> keys = new ArrayList<>(acknowledged.keySet());
      keys.addAll(unknown);
      for (String key : keys) {
        int count = key.startsWith("in-flight-") ? 2 : 1 + Integer.parseInt(key.substring("before-kill-".length())) % 3;
        List<Integer> answer = pids(ok(node.postKeyed(PIDS + "?count=" + count, key, CALL), 200));
        if (acknowledged.containsKey(key)) {
          assertEquals(acknowledged.get(key), answer, "key " + key + " answered other pids after the restart");
        }
        assertEquals(answer, pids(ok(node.postKeyed(PIDS + "?count=" + count, key, CALL), 200)), key);
        for (int pid : answer) {
          String before = owner.put(pid, key);
          assertTrue(before == null, "pid " + pid + " answered keys " + before + " and " + key);
          assertTrue(ok(node.call("GET", "/v1/pids/" + pid, null, CALL), 200).get("allocated").asBoolean(),
              "pid " + pid + " of key " + key + " is not allocated");
        }
      }
      for (int i = 0; i < 20; i++) { // new allocs never hand out a key's pid
        for (int pid : pids(ok(node.call("POST", PIDS + "?count=5", null, CALL), 200))) {
          assertFalse(owner.containsKey(pid), "pid " + pid + " of key " + owner.get(pid) + " handed out again");
        }
      }
      assertTrue(acknowledged.size() > 40, "no keyed alloc was acknowledged while the kill was coming");
    } finally {
      if (node.isAlive()) {
        node.kill();
      }
      if (h2 != null) {
        h2.stop();
      }
    }
  }

  private static List<Integer> pids(JsonNode answer) {
    List<Integer> pids = new ArrayList<>();
    answer.get("pids").forEach(p -> pids.add(p.asInt()));
    return pids;
  }

  private static JsonNode ok(NodeProcess.Answer answer, int status) {
    assertEquals(status, answer.status(), String.valueOf(answer.json()));
    return answer.json();
  }
}
