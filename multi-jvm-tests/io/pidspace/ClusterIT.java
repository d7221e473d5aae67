package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three real node JVMs from the built jar on 127.0.0.1, sharing one journal: an H2 TCP server
 * started here, or PostgreSQL when {@code PIDSPACE_TEST_PG_URL} is set. The scenarios run in
 * order on one cluster; a load of allocs and frees runs through the failures, and no pid may
 * ever be live twice, nor an acknowledged alloc or free be lost.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

  private static final Duration READY = Duration.ofSeconds(120);
  private static final int SPACES = 6;
  /**
   * The goal is under 5 s (README "Failover, measured"); on a machine shared with other builds
   * the figure is noisy, so the test prints it and fails only far above it, where a default that
   * regressed (SBR's 20 s, the removal margin, a 10 s ask) would land.
   */
  private static final Duration FAILOVER_CEILING = Duration.ofSeconds(40); // Akka's defaults took 47.5 s
  private static final HttpClient MANAGEMENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private Server h2;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private Load load;

  @BeforeAll
  void startCluster() throws Exception {
    // The shipped failover defaults (pidspace-node.conf): only the journal is set here.
    List<String> settings = new ArrayList<>(journalSettings());
    Path logs = Files.createDirectories(Path.of("target", "cluster-logs"));
    List<Integer> ports = List.of(NodeProcess.freePort(), NodeProcess.freePort(), NodeProcess.freePort());
    for (int i = 0; i < 3; i++) {
      nodes.add(new NodeProcess("node-" + (i + 1), ports.get(i), ports, settings, logs));
    }
    for (NodeProcess node : nodes) {
      node.start();
    }
    for (NodeProcess node : nodes) {
      node.awaitReady(READY);
    }
    for (int i = 1; i <= SPACES; i++) {
      NodeProcess via = nodes.get(i % 3);
      assertEquals(201, via.call("POST", "/v1/spaces", "{}").status(), "create a space via " + via);
    }
  }

  /** The shared journal: PostgreSQL in a fresh schema when CI provides one, else an H2 TCP server. */
  private List<String> journalSettings() throws Exception {
    Optional<Map<String, String>> pg = TestPostgres.freshSchema("cluster");
    if (pg.isPresent()) {
      System.out.println("cluster journal: PostgreSQL, " + pg.get().get("pidspace.jdbc.url"));
      return pg.get().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }
    h2 = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
    System.out.println("cluster journal: H2 TCP server on port " + h2.getPort());
    return List.of("pidspace.jdbc.url=jdbc:h2:tcp://127.0.0.1:" + h2.getPort() + "/mem:cluster;DB_CLOSE_DELAY=-1");
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (load != null) {
      load.stop();
    }
    for (NodeProcess node : nodes) {
      if (node.isAlive()) {
        node.kill();
      }
    }
    if (h2 != null) {
      h2.stop();
    }
  }

  @Test
  @Order(1)
  void cluster_formsSpreadsSpacesAndAnyNodeServesAnySpace() throws Exception {
    Set<Integer> pids = new HashSet<>();
    for (NodeProcess node : nodes) {
      JsonNode spaces = node.call("GET", "/v1/spaces", null).json();
      assertEquals(SPACES + 1, count(spaces), "spaces as " + node + " lists them: " + spaces);
      for (int space = 0; space <= SPACES; space++) {
        NodeProcess.Answer a = node.call("POST", "/v1/spaces/" + space + "/pids?count=2", null);
        assertEquals(200, a.status(), "alloc in space " + space + " via " + node + ": " + a.json());
        a.json().get("pids").forEach(p -> assertTrue(pids.add(p.asInt()), "pid " + p + " handed out twice"));
      }
    }
    int hosting = 0;
    for (NodeProcess node : nodes) {
      hosting += hostedShards(node) > 0 ? 1 : 0;
    }
    assertTrue(hosting >= 2, "spaces live on " + hosting + " node(s) only");
  }

  @Test
  @Order(2)
  void killedNodeUnderLoad_spacesServeAgainWithoutDuplicates() throws Exception {
    load = new Load(nodes);
    load.start();
    Thread.sleep(3_000);
    NodeProcess victim = shardHostingNonOldest();
    int shards = hostedShards(victim);
    long crashDownedBefore = crashDownings(victim);
    victim.kill();
    Timeline timeline = new Timeline(victim, nodes);
    long everySpace = timeline.awaitEverySpaceAllocating(load, Duration.ofSeconds(90));
    timeline.close();
    timeline.print("kill -9 of " + victim + ", which hosted " + shards + " shards", "every space allocating again",
        everySpace);
    System.out.printf("kill -9: %s was downed by %s%n", victim, crashDownings(victim) > crashDownedBefore
        ? "crash-downing (its port refused connections)" : "the split brain resolver");
    timeline.assertRefusalsCarryRetryAfter();
    Thread.sleep(2_000);
    victim.start();
    victim.awaitReady(READY);
    load.assertClean();
    assertTrue(everySpace < FAILOVER_CEILING.toMillis(), "spaces came back only " + everySpace + " ms after the kill");
  }

  /**
   * A node frozen for 10 s (SIGSTOP: a long GC pause, a stalled VM) while its spaces move away.
   * Whatever it does when it wakes (it was downed: it exits; or it rejoins), the copies of its
   * spaces it still holds hand out nothing: their writes fail at the journal's key.
   */
  @Test
  @Order(3)
  void pausedNodeUnderLoad_isDownedOrRejoinsAndHandsOutNothingTwice() throws Exception {
    NodeProcess paused = shardHostingNonOldest();
    long crashDownedBefore = crashDownings(paused);
    paused.pause();
    Timeline timeline = new Timeline(paused, nodes);
    CompletableFuture<Long> back = CompletableFuture.supplyAsync(() -> {
      try {
        return timeline.awaitEverySpaceAllocating(load, Duration.ofSeconds(60));
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
    try {
      Thread.sleep(10_000);
    } finally {
      paused.resume();
    }
    long everySpace = back.get();
    timeline.close();
    timeline.print("SIGSTOP of " + paused + " for 10 s", "every space allocating on the others", everySpace);
    // a frozen process keeps its port (the kernel accepts): only the resolver may down it
    assertEquals(crashDownedBefore, crashDownings(paused),
        paused + " was only paused, yet crash-downing took it for a crashed one");
    timeline.assertRefusalsCarryRetryAfter();
    boolean exited = paused.awaitExit(Duration.ofSeconds(60));
    System.out.printf("pause: after SIGCONT %s %s%n", paused,
        exited ? "found itself downed and exited (exit-jvm); restarting it" : "rejoined");
    if (exited) {
      paused.start();
    }
    paused.awaitReady(READY);
    // one cluster again, not an island that downed the others when it woke
    for (NodeProcess node : nodes) {
      awaitUpMembers(node, 3, Duration.ofSeconds(60));
    }
    for (NodeProcess node : nodes) {
      for (int space = 0; space <= SPACES; space++) {
        awaitStatus(node, "GET", "/v1/spaces/" + space, 200, Duration.ofSeconds(60));
      }
    }
    load.assertClean();
  }

  @Test
  @Order(4)
  void rollingRestartUnderLoad_keepsEveryAcknowledgedPid() throws Exception {
    for (NodeProcess node : nodes) {
      node.stop();
      node.start();
      node.awaitReady(READY);
    }
    load.stop();
    load.assertClean();
    NodeProcess any = nodes.get(0);
    for (int pid : load.live.keySet()) {
      NodeProcess.Answer a = any.call("GET", "/v1/pids/" + pid, null);
      assertEquals(200, a.status(), "lookup " + pid + ": " + a.json());
      assertTrue(a.json().get("allocated").asBoolean(), "acknowledged pid " + pid + " was lost");
    }
    System.out.printf("load: %d allocs and %d frees acknowledged through failover and rolling restart%n",
        load.allocs.get(), load.frees.get());
  }

  @Test
  @Order(5)
  void registryNodeDies_createAndDestroyWorkAgainAndNoIdIsGivenTwice() throws Exception {
    NodeProcess registryNode = oldest();
    long crashDownedBefore = crashDownings(registryNode);
    registryNode.kill();
    Timeline timeline = new Timeline(registryNode, nodes);
    NodeProcess survivor = timeline.survivors.get(0);
    JsonNode created = awaitStatus(survivor, "POST", "/v1/spaces", 201, Duration.ofSeconds(90)).json();
    long createdAfter = timeline.elapsedMillis();
    timeline.close();
    timeline.print("kill -9 of " + registryNode + ", which ran the registry", "a space created again", createdAfter);
    System.out.printf("kill -9: %s was downed by %s%n", registryNode, crashDownings(registryNode) > crashDownedBefore
        ? "crash-downing (its port refused connections)" : "the split brain resolver");
    assertTrue(createdAfter < FAILOVER_CEILING.toMillis(), "the registry came back only " + createdAfter + " ms after the kill");
    int id = created.get("id").asInt();
    assertEquals(204, survivor.call("DELETE", "/v1/spaces/" + id, null).status());
    Set<Integer> ids = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      NodeProcess.Answer a = survivor.call("POST", "/v1/spaces", "{}");
      assertEquals(201, a.status(), a.json().toString());
      assertTrue(ids.add(a.json().get("id").asInt()), "space id given twice: " + a.json());
    }
    // a create that timed out during the failover may still have happened: count only what was acknowledged
    List<Integer> listed = new ArrayList<>();
    survivor.call("GET", "/v1/spaces", null).json().get("spaces").forEach(sp -> listed.add(sp.get("id").asInt()));
    for (int space = 0; space <= SPACES; space++) {
      assertTrue(listed.contains(space), "space " + space + " lost when the registry moved: " + listed);
    }
    assertTrue(listed.containsAll(ids), "acknowledged creates " + ids + " missing from " + listed);
    assertEquals(listed.size(), new HashSet<>(listed).size(), "an id is listed twice: " + listed);
  }

  /**
   * How often the others' CrashDowning downed {@code node} so far (the line names its remoting
   * address, which a restarted node keeps).
   */
  private long crashDownings(NodeProcess node) throws IOException {
    String line = "@127.0.0.1:" + node.port + " is unreachable and its port refuses connections: its process is gone";
    long count = 0;
    for (NodeProcess n : nodes) {
      if (n != node) {
        count += n.logged(line);
      }
    }
    return count;
  }

  /** A node that hosts shards and is not the oldest (which runs the registry and the shard coordinator). */
  private NodeProcess shardHostingNonOldest() throws Exception {
    NodeProcess oldest = oldest();
    for (NodeProcess node : nodes) {
      if (node != oldest && hostedShards(node) > 0) {
        return node;
      }
    }
    return nodes.stream().filter(n -> n != oldest).findFirst().orElseThrow();
  }

  /** Waits until {@code node} sees {@code count} members Up and none unreachable. */
  private static void awaitUpMembers(NodeProcess node, int count, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    JsonNode members = null;
    while (System.nanoTime() < deadline) {
      try {
        members = management(node, "/cluster/members");
        long up = 0;
        for (JsonNode m : members.get("members")) {
          up += m.get("status").asText().equals("Up") ? 1 : 0;
        }
        if (up == count && members.get("unreachable").isEmpty()) {
          return;
        }
      } catch (IOException e) {
        // busy: ask again
      }
      Thread.sleep(250);
    }
    throw new AssertionError(node + " does not see " + count + " members Up within " + timeout + ": " + members);
  }

  private NodeProcess oldest() throws Exception {
    NodeProcess any = nodes.stream().filter(NodeProcess::isAlive).findFirst().orElseThrow();
    String oldest = management(any, "/cluster/members").get("oldest").asText();
    return nodes.stream().filter(n -> oldest.endsWith(":" + n.port)).findFirst().orElseThrow();
  }

  private static int hostedShards(NodeProcess node) throws Exception {
    JsonNode shards = management(node, "/cluster/shards/PidSpace");
    return shards.get("regions").size();
  }

  private static JsonNode management(NodeProcess node, String path) throws Exception {
    HttpResponse<String> r = MANAGEMENT.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.managementPort + path))
            .timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
  }

  private static int count(JsonNode spaces) {
    return (spaces.has("spaces") ? spaces.get("spaces") : spaces).size();
  }

  private static NodeProcess.Answer awaitStatus(NodeProcess node, String method, String path, int status, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    NodeProcess.Answer last = null;
    while (System.nanoTime() < deadline) {
      try {
        last = node.call(method, path, method.equals("POST") ? "{}" : null);
        if (last.status() == status) {
          return last;
        }
      } catch (IOException e) {
        // the node is busy failing over
      }
      Thread.sleep(200);
    }
    throw new AssertionError(method + " " + path + " via " + node + " did not answer " + status + " within " + timeout
        + "; last answer " + last);
  }

  /**
   * What the survivors saw after a node was killed or paused, polled every 100 ms, in ms after
   * the event: when the node became unreachable, was downed, was removed, and when the
   * survivors' shard count first grew (shards re-homed on demand). -1: not seen.
   */
  static final class Timeline implements AutoCloseable {
    final List<NodeProcess> survivors;
    private final NodeProcess victim;
    private final long start = System.nanoTime();
    private final Thread poller;
    private final int shardsBefore;
    private volatile boolean running = true;
    private volatile long unreachable = -1;
    private volatile long downed = -1;
    private volatile long removed = -1;
    private volatile long rehomed = -1;
    private final Map<Integer, Long> spaceBack = new ConcurrentHashMap<>();
    // what the probes' callers saw meanwhile: refusals, and the longest wait for any answer
    private final AtomicInteger unavailable = new AtomicInteger();
    private final AtomicInteger withoutRetryAfter = new AtomicInteger();
    private final AtomicLong longestCall = new AtomicLong();

    Timeline(NodeProcess victim, List<NodeProcess> nodes) throws Exception {
      this.victim = victim;
      this.survivors = nodes.stream().filter(n -> n != victim && n.isAlive()).toList();
      int shards = 0;
      for (NodeProcess n : survivors) {
        shards += hostedShards(n);
      }
      this.shardsBefore = shards;
      this.poller = new Thread(this::poll, "timeline");
      poller.start();
    }

    long elapsedMillis() {
      return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private void poll() {
      String self = ":" + victim.port;
      while (running) {
        try {
          JsonNode members = management(survivors.get(0), "/cluster/members");
          long now = elapsedMillis();
          boolean present = false;
          for (JsonNode m : members.get("members")) {
            if (m.get("node").asText().endsWith(self)) {
              present = true;
              if (downed < 0 && m.get("status").asText().equals("Down")) {
                downed = now;
              }
            }
          }
          for (JsonNode u : members.get("unreachable")) {
            if (unreachable < 0 && u.get("node").asText().endsWith(self)) {
              unreachable = now;
            }
          }
          if (!present && removed < 0) {
            removed = now;
            unreachable = unreachable < 0 ? now : unreachable;
            downed = downed < 0 ? now : downed;
          }
          if (rehomed < 0) {
            int shards = 0;
            for (NodeProcess n : survivors) {
              shards += hostedShards(n);
            }
            if (shards > shardsBefore) {
              rehomed = elapsedMillis();
            }
          }
        } catch (Exception e) {
          // a survivor busy failing over: poll again
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    /**
     * Allocs in every space through the survivors, one prober per space, until each has answered
     * once; the pids join the load's model. The ms after the event when the last one answered.
     */
    long awaitEverySpaceAllocating(Load load, Duration timeout) throws Exception {
      List<Thread> probers = new ArrayList<>();
      for (int space = 0; space <= SPACES; space++) {
        int s = space;
        Thread t = new Thread(() -> probe(s, load, timeout), "probe-" + space);
        t.start();
        probers.add(t);
      }
      for (Thread t : probers) {
        t.join(timeout.toMillis() + 20_000);
      }
      if (spaceBack.size() < SPACES + 1) {
        throw new AssertionError("spaces allocating again within " + timeout + ": " + spaceBack);
      }
      return spaceBack.values().stream().mapToLong(Long::longValue).max().orElseThrow();
    }

    private void probe(int space, Load load, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      int attempt = 0;
      while (System.nanoTime() < deadline) {
        NodeProcess via = survivors.get(attempt++ % survivors.size());
        try {
          long sent = System.nanoTime();
          NodeProcess.Answer a = via.call("POST", "/v1/spaces/" + space + "/pids", null);
          longestCall.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent), Math::max);
          if (a.status() == 503) {
            unavailable.incrementAndGet();
            if (a.retryAfter() == null) {
              withoutRetryAfter.incrementAndGet();
            }
          }
          if (a.status() == 200) {
            spaceBack.put(space, elapsedMillis());
            load.acknowledged(a.json().get("pids").get(0).asInt(), via);
            return;
          }
          Thread.sleep(100);
        } catch (IOException e) {
          // a survivor busy failing over: try again
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      poller.join(10_000);
    }

    void print(String event, String outcome, long outcomeMillis) {
      System.out.printf("failover after %s: unreachable %s, downed %s, removed %s, shards re-homed %s, %s %.1f s"
              + " (goal: under 5 s)%s%n",
          event, seconds(unreachable), seconds(downed), seconds(removed), seconds(rehomed), outcome,
          outcomeMillis / 1000.0, spaceBack.isEmpty() ? "" : "; per space " + new java.util.TreeMap<>(spaceBack));
      if (!spaceBack.isEmpty()) {
        System.out.printf("  the probes meanwhile: %d answers 503, the longest wait for any answer %.1f s%n",
            unavailable.get(), longestCall.get() / 1000.0);
      }
    }

    /** A space between homes is answered 503 with Retry-After, never without. */
    void assertRefusalsCarryRetryAfter() {
      assertEquals(0, withoutRetryAfter.get(), "answers 503 without Retry-After, of " + unavailable.get());
    }

    private static String seconds(long millis) {
      return millis < 0 ? "not seen" : String.format("%.1f s", millis / 1000.0);
    }
  }

  /**
   * Clients that allocate and free through random live nodes. Every acknowledged pid is live
   * until its free is acknowledged; a pid handed out while live is a duplicate, and an
   * acknowledged pid that a free calls "not allocated" was lost.
   */
  static final class Load {
    final ConcurrentHashMap<Integer, Boolean> live = new ConcurrentHashMap<>();
    final List<String> violations = new ArrayList<>();
    final AtomicInteger allocs = new AtomicInteger();
    final AtomicInteger frees = new AtomicInteger();
    private final List<NodeProcess> nodes;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    Load(List<NodeProcess> nodes) {
      this.nodes = nodes;
    }

    void start() {
      for (int i = 0; i < 4; i++) {
        Thread t = new Thread(this::run, "load-" + i);
        t.start();
        threads.add(t);
      }
    }

    void stop() throws InterruptedException {
      running = false;
      for (Thread t : threads) {
        t.join(30_000);
      }
    }

    synchronized void assertClean() {
      assertTrue(violations.isEmpty(), String.join("\n", violations));
      assertTrue(allocs.get() > 0, "the load acknowledged no alloc at all");
    }

    private void run() {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      List<Integer> mine = new ArrayList<>();
      while (running) {
        NodeProcess node = nodes.get(random.nextInt(nodes.size()));
        if (!node.isAlive()) {
          continue;
        }
        try {
          if (mine.size() > 40 || (!mine.isEmpty() && random.nextInt(100) < 45)) {
            int pid = mine.remove(random.nextInt(mine.size()));
            live.remove(pid); // from now on its fate may be unknown: never call it a duplicate later
            NodeProcess.Answer a = node.call("DELETE", "/v1/pids/" + pid, null);
            if (a.status() == 204) {
              frees.incrementAndGet();
            } else if (a.status() == 404 && "not-allocated".equals(a.json().get("error").asText())) {
              violation("acknowledged pid " + pid + " was not allocated any more: " + a.json());
            }
          } else {
            int space = random.nextInt(SPACES + 1);
            NodeProcess.Answer a = node.call("POST", "/v1/spaces/" + space + "/pids", null);
            if (a.status() == 200) {
              int pid = a.json().get("pids").get(0).asInt();
              allocs.incrementAndGet();
              if (live.putIfAbsent(pid, Boolean.TRUE) != null) {
                violation("pid " + pid + " handed out while live (via " + node + ")");
              }
              mine.add(pid);
            }
          }
        } catch (IOException | InterruptedException e) {
          // a node going down: the request's fate is unknown, which the bookkeeping above allows
        }
      }
    }

    /** A pid acknowledged outside the load's threads (a probe): live from now on. */
    void acknowledged(int pid, NodeProcess via) {
      allocs.incrementAndGet();
      if (live.putIfAbsent(pid, Boolean.TRUE) != null) {
        violation("pid " + pid + " handed out while live (via " + via + ", a probe)");
      }
    }

    private synchronized void violation(String what) {
      violations.add(what);
    }
  }
}
