package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;

/**
 * Issue 29, on real node JVMs: which journal a node uses. A node on a journal of its own (its own
 * H2 file, as two nodes started each on its default file have) is refused when it asks to join,
 * and the cluster serves on; a node on the cluster's journal joins, and when it is killed its
 * spaces and their pids are all still there. And {@code -Dconfig.file=conf/postgres.conf}, the
 * form README gives, makes a node use PostgreSQL.
 */
class JournalIdentityIT {

  static {
    System.setProperty("h2.bindAddress", "127.0.0.1"); // read once, when H2 loads
  }

  private static final Duration READY = Duration.ofSeconds(180);
  private static final Duration SERVED = Duration.ofSeconds(120);
  private static final Pattern IDENTITY = Pattern.compile("\\(identity ([0-9a-f-]{36})\\)");

  @Test
  void aNodeOnAnotherJournal_isRefused_andOneOnTheClustersJournalJoins() throws Exception {
    Path logs = Files.createDirectories(Path.of("target", "journal-identity-logs", "join-" + System.currentTimeMillis()));
    Server h2 = null;
    List<String> shared = new ArrayList<>();
    Optional<Map<String, String>> pg = TestPostgres.freshSchema("identity");
    if (pg.isPresent()) {
      pg.get().forEach((k, v) -> shared.add(k + "=" + v));
    } else {
      h2 = Server.createTcpServer("-tcpPort", "0", "-ifNotExists", "-baseDir", logs.toAbsolutePath().toString()).start();
      shared.add("pidspace.jdbc.url=jdbc:h2:tcp://127.0.0.1:" + h2.getPort() + "/cluster;WRITE_DELAY=0");
    }
    int one = NodeProcess.freePort();
    int other = NodeProcess.freePort();
    // A keeps the lower address: of two members, keep-majority keeps the side with the lowest one
    // when the other is killed
    int portA = Math.min(one, other);
    NodeProcess a = new NodeProcess("A", portA, List.of(portA), shared, logs);
    // the H2 file under its own data directory that a node started without a journal setting uses
    NodeProcess alone = new NodeProcess("B-own-journal", NodeProcess.freePort(), List.of(portA),
        List.of("pidspace.data-dir=" + logs.resolve("b-own").toAbsolutePath()), logs);
    NodeProcess b = new NodeProcess("B-shared-journal", Math.max(one, other), List.of(portA), shared, logs);
    try {
      a.start();
      a.awaitReady(READY);
      String clusterJournal = identity(a);
      Map<Integer, List<Integer>> pids = new LinkedHashMap<>();
      createWithPids(a, 4, pids);

      alone.start();
      assertTrue(alone.awaitExit(READY), alone + " was not refused within " + READY + "; see " + logs);
      String ownJournal = identity(alone);
      assertNotEquals(clusterJournal, ownJournal, "two H2 files, two journals");
      assertEquals(78, alone.exitValue(), "EX_CONFIG: starting it again unchanged cannot help");
      assertEquals(1, alone.logged("was refused by the cluster at akka://pidspace@127.0.0.1:" + portA), alone.log());
      assertEquals(1, a.logged("the joining node's journal is not the cluster's: journal identity " + ownJournal
          + " on the joining node, " + clusterJournal + " in the cluster"), "the cluster names both journals");
      assertEquals(1, members(a), "the refused node never became a member");
      assertServed(a, pids);

      b.start();
      b.awaitReady(READY);
      assertEquals(clusterJournal, identity(b), "one journal, one identity");
      assertEquals(2, members(a));
      createWithPids(b, 4, pids); // new spaces' shards go to the region with the fewest: mostly b's
      assertServed(b, pids);
      System.out.println("journal identity: " + b + " hosted " + metric(b, "pidspace_spaces_hosted") + " of "
          + pids.size() + " spaces when it was killed");

      // the reported loss: with one journal, what b hosted is still there after its kill -9
      b.kill();
      assertServed(a, pids);
    } finally {
      for (NodeProcess node : List.of(a, alone, b)) {
        if (node.isAlive()) {
          node.kill();
        }
      }
      if (h2 != null) {
        h2.stop();
      }
    }
  }

  /** README's "With PostgreSQL instead": the file named the way every Akka application names one. */
  @Test
  void configFilePostgresConf_makesTheNodeUsePostgres() throws Exception {
    Optional<Map<String, String>> pg = TestPostgres.freshSchema("configfile");
    assumeTrue(pg.isPresent(), "PIDSPACE_TEST_PG_URL is not set");
    Path logs = Files.createDirectories(Path.of("target", "journal-identity-logs", "pg-" + System.currentTimeMillis()));
    int port = NodeProcess.freePort();
    // and a data directory of its own, where an H2 file would show that the setting was ignored
    Path dataDir = logs.resolve("data").toAbsolutePath();
    NodeProcess node = new NodeProcess("postgres-conf", port, List.of(port),
        List.of("config.file=conf/postgres.conf", "pidspace.data-dir=" + dataDir), logs);
    String url = pg.get().get("pidspace.jdbc.url");
    node.env.put("PIDSPACE_JDBC_URL", url);
    node.env.put("PIDSPACE_JDBC_USER", pg.get().get("pidspace.jdbc.user"));
    node.env.put("PIDSPACE_JDBC_PASSWORD", pg.get().get("pidspace.jdbc.password"));
    try {
      node.start();
      node.awaitReady(READY);
      assertEquals(1, node.logged("journal " + url + " (identity "), node.log());
      assertEquals(1, node.logged("config conf/postgres.conf, conf/application.conf (-Dconfig.file)"), node.log());
      assertEquals(201, node.call("POST", "/v1/spaces", "{}").status());
      try (Connection c = DriverManager.getConnection(url, pg.get().get("pidspace.jdbc.user"), pg.get().get("pidspace.jdbc.password"));
          ResultSet identity = c.createStatement().executeQuery("SELECT identity FROM journal_identity")) {
        assertTrue(identity.next());
        assertEquals(identity(node), identity.getString(1));
        try (ResultSet events = c.createStatement().executeQuery("SELECT count(*) FROM event_journal")) {
          events.next();
          assertTrue(events.getLong(1) > 0, "the create is in PostgreSQL");
        }
      }
      assertTrue(!Files.exists(dataDir.resolve("pidspace.mv.db")), "no H2 journal in " + dataDir);
      node.stop();
    } finally {
      if (node.isAlive()) {
        node.kill();
      }
    }
  }

  /** The journal identity a node's log names (its start line, or its refusal). */
  private static String identity(NodeProcess node) throws Exception {
    Matcher m = IDENTITY.matcher(node.log());
    assertTrue(m.find(), "no journal identity in the log of " + node + ":\n" + node.log());
    return m.group(1);
  }

  /** {@code count} new spaces through {@code node}, three pids each. */
  private static void createWithPids(NodeProcess node, int count, Map<Integer, List<Integer>> into) throws Exception {
    for (int i = 0; i < count; i++) {
      NodeProcess.Answer created = node.call("POST", "/v1/spaces", "{}");
      assertEquals(201, created.status(), String.valueOf(created.json()));
      int space = created.json().get("id").asInt();
      NodeProcess.Answer allocated = node.call("POST", "/v1/spaces/" + space + "/pids?count=3", null);
      assertEquals(200, allocated.status(), String.valueOf(allocated.json()));
      List<Integer> pids = new ArrayList<>();
      allocated.json().get("pids").forEach(p -> pids.add(p.asInt()));
      into.put(space, pids);
    }
  }

  /** Every space answers through {@code node} (waiting while one moves) and holds its pids. */
  private static void assertServed(NodeProcess node, Map<Integer, List<Integer>> pids) throws Exception {
    for (Map.Entry<Integer, List<Integer>> space : pids.entrySet()) {
      JsonNode stats = get(node, "/v1/spaces/" + space.getKey());
      // at least: a space that moved may count its reservation's unused vpids as allocated (leaked)
      assertTrue(stats.get("allocated").asInt() >= space.getValue().size(), "space " + space.getKey() + ": " + stats);
      for (int pid : space.getValue()) {
        JsonNode info = get(node, "/v1/pids/" + pid);
        assertTrue(info.get("allocated").asBoolean(), "pid " + pid + " through " + node + ": " + info);
      }
    }
  }

  /** A GET that answers 200 within {@link #SERVED}: a space between homes answers 503, or late. */
  private static JsonNode get(NodeProcess node, String path) throws Exception {
    long deadline = System.nanoTime() + SERVED.toNanos();
    String last = "nothing";
    while (System.nanoTime() < deadline) {
      try {
        NodeProcess.Answer answer = node.call("GET", path, null);
        if (answer.status() == 200) {
          return answer.json();
        }
        last = answer.status() + " " + answer.json();
      } catch (java.io.IOException e) {
        last = e.toString();
      }
      Thread.sleep(500);
    }
    throw new AssertionError("GET " + path + " through " + node + " did not answer 200 within " + SERVED + ": " + last);
  }

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** Members of the cluster as {@code node} sees them (Akka Management). */
  private static int members(NodeProcess node) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + node.managementPort + "/cluster/members")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("members").size();
  }

  /** One unlabelled gauge of {@code node}'s /metrics. */
  private static String metric(NodeProcess node, String name) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + node.managementPort + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body().lines().filter(l -> l.startsWith(name + " ")).map(l -> l.substring(name.length() + 1))
        .findFirst().orElse("?");
  }
}
