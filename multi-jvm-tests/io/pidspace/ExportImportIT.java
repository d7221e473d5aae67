package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11's migration: a space with live pids and holds, exported from a 3-node cluster (one
 * H2 TCP journal), is imported into a second 3-node cluster with its own journal, and both answer
 * a command sequence alike. The clusters run one after the other (the first records its answers,
 * then stops), so no more than three node JVMs share the 2-core build machine. Then kill -9 of a
 * single node while it imports, a few times: after the restart the space is either absent (and
 * can be imported again) or whole, never part of it.
 */
class ExportImportIT {

  private static final Duration READY = Duration.ofSeconds(180);
  private static final int SPACE = 5;
  private static final int SHIFT = 22;

  @Test
  void exportedFromACluster_importedElsewhere_bothGoOnAlike_andAKilledImportIsAllOrNothing(@TempDir Path dataDir)
      throws Exception {
    Path logs = Files.createDirectories(Path.of("target", "cluster-logs", "export-import-" + System.currentTimeMillis()));
    Server h2 = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
    List<NodeProcess> nodes = new ArrayList<>();
    NodeProcess single = null;
    try {
      List<NodeProcess> source = cluster("source", "export", h2, logs);
      nodes.addAll(source);

      // The source space, built through every node of the cluster.
      ok(source.get(0).call("POST", "/v1/spaces", "{\"id\": " + SPACE + ", \"pidMax\": 20000}"), 201);
      ok(source.get(1).call("POST", "/v1/spaces/" + SPACE + "/pids?count=500", ""), 200);
      ok(source.get(2).call("POST", "/v1/pids:free", "{\"pids\": [" + pid(10) + ", " + pid(11) + ", " + pid(300) + "]}"), 200);
      ok(source.get(0).call("POST", "/v1/spaces/" + SPACE + "/pids", "{\"vpids\": [9000, 10]}"), 200);
      String hold = ok(source.get(1).call("POST", "/v1/spaces/" + SPACE + "/holds",
          "{\"vpids\": [502, 503, 11], \"ttl\": \"1h\"}"), 201).get("hold").asText();
      ok(source.get(2).call("PATCH", "/v1/spaces/" + SPACE, "{\"pidMax\": 30000}"), 200);
      JsonNode document = ok(source.get(2).call("GET", "/v1/spaces/" + SPACE + "/export", null), 200);
      assertEquals(3, document.get("holds").get(0).get("vpids").size(), document.toString());

      // The same commands on both: identical answers (status and body), holds and refusals included.
      List<String[]> commands = List.of(
          new String[] {"POST", "/v1/spaces/" + SPACE + "/pids?count=5", ""},
          new String[] {"POST", "/v1/spaces/" + SPACE + "/pids", "{\"vpids\": [502]}"},
          new String[] {"POST", "/v1/spaces/" + SPACE + "/pids", "{\"vpids\": [502], \"hold\": \"" + hold + "\"}"},
          new String[] {"POST", "/v1/spaces/" + SPACE + "/pids", "{\"vpids\": [9000, 9001]}"},
          new String[] {"POST", "/v1/spaces/" + SPACE + "/pids", "{\"vpids\": [10, 29999]}"},
          new String[] {"POST", "/v1/spaces/" + SPACE + "/holds", "{\"vpids\": [600, 601], \"ttl\": \"1h\"}"},
          new String[] {"DELETE", "/v1/spaces/" + SPACE + "/holds/" + hold, null},
          new String[] {"POST", "/v1/spaces/" + SPACE + "/pids?count=3", ""},
          new String[] {"DELETE", "/v1/pids/" + pid(2), null},
          new String[] {"PATCH", "/v1/spaces/" + SPACE, "{\"pidMax\": 20000}"},
          new String[] {"PATCH", "/v1/spaces/" + SPACE, "{\"pidMax\": 29999}"},
          new String[] {"POST", "/v1/spaces/" + SPACE + "/pids?count=2", ""},
          new String[] {"GET", "/v1/spaces/" + SPACE, null});
      List<String> sourceAnswers = new ArrayList<>();
      for (int i = 0; i < commands.size(); i++) {
        String[] c = commands.get(i);
        NodeProcess.Answer a = source.get(i % 3).call(c[0], c[1], c[2]);
        sourceAnswers.add(a.status() + " " + a.json());
      }
      stop(source);

      List<NodeProcess> copy = cluster("target", "import", h2, logs);
      nodes.addAll(copy);
      JsonNode imported = ok(copy.get(1).call("POST", "/v1/spaces:import",
          "{\"id\": " + SPACE + ", \"document\": " + document + "}"), 201);
      assertEquals(SPACE, imported.get("id").asInt());
      assertEquals(document, ok(copy.get(2).call("GET", "/v1/spaces/" + SPACE + "/export", null), 200));
      for (int i = 0; i < commands.size(); i++) {
        String[] c = commands.get(i);
        NodeProcess.Answer b = copy.get((i + 1) % 3).call(c[0], c[1], c[2]);
        assertEquals(sourceAnswers.get(i), b.status() + " " + b.json(), String.join(" ", c[0], c[1]));
      }
      stop(copy);

      int singlePort = NodeProcess.freePort();
      single = new NodeProcess("single", singlePort, List.of(singlePort),
          List.of("pidspace.persistence=jdbc", "pidspace.data-dir=" + dataDir.toAbsolutePath()), logs);
      nodes.add(single);
      single.start();
      single.awaitReady(READY);

      // kill -9 while importing: nothing or the whole space after the restart.
      Random random = new Random();
      for (int cycle = 0; cycle < 3; cycle++) {
        int id = 10 + cycle;
        NodeProcess target = single;
        CompletableFuture<NodeProcess.Answer> answer = CompletableFuture.supplyAsync(() -> {
          try {
            return target.call("POST", "/v1/spaces:import", "{\"id\": " + id + ", \"document\": " + document + "}");
          } catch (Exception killed) {
            return null;
          }
        });
        Thread.sleep(random.nextInt(40 * (cycle + 1)));
        single.kill();
        NodeProcess.Answer before = answer.join();
        single.start();
        single.awaitReady(READY);
        NodeProcess.Answer after = single.call("GET", "/v1/spaces/" + id + "/export", null);
        boolean listed = listed(single, id);
        System.out.printf("import killed (cycle %d): answered %s before the kill; after restart %s, listed %s%n",
            cycle, before == null ? "nothing" : before.status(), after.status(), listed);
        if (after.status() == 200) {
          assertTrue(listed, "an imported space is listed");
          assertEquals(document, after.json(), "the whole space or nothing");
        } else {
          assertEquals(404, after.status(), String.valueOf(after.json()));
          assertEquals("unknown-space", after.json().get("error").asText());
          assertTrue(!listed, "a space that is not there is not listed");
          assertTrue(before == null || before.status() != 201, "an acknowledged import survives");
          ok(single.call("POST", "/v1/spaces:import", "{\"id\": " + id + ", \"document\": " + document + "}"), 201);
          assertEquals(document, ok(single.call("GET", "/v1/spaces/" + id + "/export", null), 200));
        }
      }
    } finally {
      stop(nodes);
      h2.stop();
    }
  }

  /** Three nodes on their own journal: database {@code database} of the H2 TCP server. */
  private static List<NodeProcess> cluster(String name, String database, Server h2, Path logs) throws Exception {
    List<String> journal = List.of(
        "pidspace.jdbc.url=jdbc:h2:tcp://127.0.0.1:" + h2.getPort() + "/mem:" + database + ";DB_CLOSE_DELAY=-1");
    List<Integer> ports = List.of(NodeProcess.freePort(), NodeProcess.freePort(), NodeProcess.freePort());
    List<NodeProcess> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      nodes.add(new NodeProcess(name + "-" + (i + 1), ports.get(i), ports, journal, logs));
    }
    for (NodeProcess node : nodes) {
      node.start();
    }
    for (NodeProcess node : nodes) {
      node.awaitReady(READY);
    }
    return nodes;
  }

  private static void stop(List<NodeProcess> nodes) throws InterruptedException {
    for (NodeProcess node : nodes) {
      if (node.isAlive()) {
        node.kill();
      }
    }
  }

  private static int pid(int vpid) {
    return (SPACE << SHIFT) | vpid;
  }

  private static boolean listed(NodeProcess node, int id) throws Exception {
    for (JsonNode space : ok(node.call("GET", "/v1/spaces", null), 200).get("spaces")) {
      if (space.get("id").asInt() == id) {
        return true;
      }
    }
    return false;
  }

  private static JsonNode ok(NodeProcess.Answer answer, int status) {
    assertEquals(status, answer.status(), String.valueOf(answer.json()));
    return answer.json();
  }
}
