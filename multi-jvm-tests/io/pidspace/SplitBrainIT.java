package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.h2.tools.Server;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DESIGN §3's split brain, made permanent: two separate single-node clusters (each seeds only
 * itself) on ONE journal, so each runs its own registry singleton and its own copy of every
 * space. Both create, destroy, allocate and free on the same few space ids at once. The journal
 * must be the fence: no pid may be acknowledged twice unless a free of it, or a destroy of its
 * space, could have happened in between. A create is never such a separator: a create that
 * resets a space that holds pids is exactly the bug this test is for.
 */
class SplitBrainIT {

  static {
    System.setProperty("h2.bindAddress", "127.0.0.1"); // read once, when H2 loads
  }

  private static final Duration READY = Duration.ofSeconds(180);
  private static final Duration CALL = Duration.ofSeconds(30); // above the node's 10 s ask timeout
  private static final int SPACES = 3; // ids 1..3, the same on both sides
  private static final int WORKERS_PER_NODE = 3;
  private static final int OPS_PER_WORKER = 150;
  private static final long LOAD_NANOS = TimeUnit.SECONDS.toNanos(45);
  private static final int MIN_ALLOCS = 20; // keep going past the deadline until this many were acknowledged

  enum Outcome { ACK, REFUSED, UNKNOWN }

  /** One request as the client saw it; a batch free is one Op per pid (each pid has its own answer). */
  record Op(String node, String kind, int space, int[] pids, long send, long end, Outcome outcome, String detail) {
    String show(long t0) {
      return String.format("%s %s space %d %s sent %+.3f s, answered %+.3f s: %s %s", node, kind, space,
          pids.length > 8 ? pids.length + " pids" : java.util.Arrays.toString(pids),
          (send - t0) / 1e9, (end - t0) / 1e9, outcome, detail);
    }
  }

  private final List<Op> history = new ArrayList<>();
  private final long seed = Long.getLong("pidspace.splitbrain.seed", System.nanoTime());

  static Stream<String> journals() {
    String pg = System.getenv("PIDSPACE_TEST_PG_URL");
    return pg == null || pg.isBlank() ? Stream.of("h2") : Stream.of("h2", "postgres");
  }

  @ParameterizedTest(name = "journal {0}")
  @MethodSource("journals")
  void twoSingleNodeClustersOnOneJournal_neverAcknowledgeAPidTwice(String journal) throws Exception {
    Server h2 = null;
    // snapshots every 10 events, so each side's events under them are deleted while the other
    // side's copy may still write there: the journal's fence, not its key, must refuse it
    List<String> settings = new ArrayList<>(List.of("pidspace.persistence=jdbc", "akka.loglevel=INFO",
        "pidspace.snapshot-every=10"));
    if (journal.equals("postgres")) {
      Map<String, String> pg = TestPostgres.freshSchema("splitbrain").orElseThrow();
      pg.forEach((k, v) -> settings.add(k + "=" + v));
    } else {
      h2 = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
      settings.add("pidspace.jdbc.url=jdbc:h2:tcp://127.0.0.1:" + h2.getPort()
          + "/mem:splitbrain" + System.nanoTime() + ";DB_CLOSE_DELAY=-1;WRITE_DELAY=0");
    }
    Path logs = Files.createDirectories(Path.of("target", "splitbrain-logs", journal + "-" + System.currentTimeMillis()));
    int portA = NodeProcess.freePort();
    int portB = NodeProcess.freePort();
    // no common seed: two clusters of one node each, two registries, two copies of every space
    NodeProcess a = new NodeProcess("A", portA, List.of(portA), settings, logs);
    NodeProcess b = new NodeProcess("B", portB, List.of(portB), settings, logs);
    long started = System.nanoTime();
    try {
      // one after the other: two nodes creating the journal's tables at once on an empty H2
      // can fail ("object already exists: event_journal_ordering_idx"), which is not this test's subject
      a.start();
      a.awaitReady(READY);
      b.start();
      b.awaitReady(READY);
      long t0 = System.nanoTime();

      // A first: it creates the spaces and hands out pids; then B, whose registry has not seen
      // A's creates, creates the same ids. Whatever B answers, A's pids must stay A's.
      Random random = new Random(seed);
      for (int space = 1; space <= SPACES; space++) {
        call(a, "create", space, "POST", "/v1/spaces", "{\"id\": " + space + ", \"pidMax\": 1000}");
        call(a, "alloc", space, "POST", "/v1/spaces/" + space + "/pids?count=3", null);
      }
      for (int space = 1; space <= SPACES; space++) {
        call(b, "create", space, "POST", "/v1/spaces", "{\"id\": " + space + ", \"pidMax\": 1000}");
        call(b, "alloc", space, "POST", "/v1/spaces/" + space + "/pids?count=3", null);
      }

      // then both sides at once, on the same ids
      AtomicInteger allocsAcked = new AtomicInteger();
      long deadline = System.nanoTime() + LOAD_NANOS;
      List<Thread> workers = new ArrayList<>();
      for (NodeProcess node : List.of(a, b)) {
        for (int w = 0; w < WORKERS_PER_NODE; w++) {
          long workerSeed = random.nextLong();
          Thread t = new Thread(() -> work(node, new Random(workerSeed), deadline, allocsAcked), node.name + "-" + w);
          t.start();
          workers.add(t);
        }
      }
      for (Thread t : workers) {
        t.join();
      }
      long loadEnd = System.nanoTime();

      List<String> violations = duplicates(t0);
      Map<Outcome, Long> byOutcome = new HashMap<>();
      synchronized (history) {
        history.forEach(op -> byOutcome.merge(op.outcome(), 1L, Long::sum));
      }
      System.out.printf("split brain [%s, seed %d]: %d requests (%d acknowledged, %d refused, %d unknown outcome), "
              + "%d allocs acknowledged, in %.1f s of load (%.1f s with start-up); %d duplicate(s)%n",
          journal, seed, history.size(), byOutcome.getOrDefault(Outcome.ACK, 0L),
          byOutcome.getOrDefault(Outcome.REFUSED, 0L), byOutcome.getOrDefault(Outcome.UNKNOWN, 0L),
          allocsAcked.get(), (loadEnd - t0) / 1e9, (loadEnd - started) / 1e9, violations.size());
      violations.forEach(System.out::println);
      assertTrue(violations.isEmpty(), violations.size() + " pid(s) acknowledged twice with no free or destroy "
          + "in between [" + journal + ", seed " + seed + "]; the first (all are printed above):\n"
          + String.join("\n", violations.subList(0, Math.min(3, violations.size()))));
      assertTrue(allocsAcked.get() > 0, "no alloc was acknowledged at all; see " + logs);
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

  /** A bounded number of random requests on the shared ids; pids this worker got are the ones it frees. */
  private void work(NodeProcess node, Random random, long deadline, AtomicInteger allocsAcked) {
    List<Integer> mine = new ArrayList<>();
    long hardStop = deadline + TimeUnit.MINUTES.toNanos(4);
    for (int i = 0; i < OPS_PER_WORKER; i++) {
      long now = System.nanoTime();
      // the budget is operations; the deadline only shortens a run that already exercised enough
      if (now > hardStop || (now > deadline && allocsAcked.get() >= MIN_ALLOCS)) {
        return;
      }
      int space = 1 + random.nextInt(SPACES);
      int roll = random.nextInt(100);
      try {
        if (roll < 8) {
          call(node, "create", space, "POST", "/v1/spaces", "{\"id\": " + space + ", \"pidMax\": 1000}");
        } else if (roll < 14) {
          call(node, "destroy", space, "DELETE", "/v1/spaces/" + space, null);
        } else if (roll < 60 || mine.isEmpty()) {
          int count = random.nextBoolean() ? 1 : 2 + random.nextInt(3);
          Op op = call(node, "alloc", space, "POST", "/v1/spaces/" + space + "/pids?count=" + count, null);
          if (op.outcome() == Outcome.ACK) {
            allocsAcked.incrementAndGet();
            for (int p : op.pids()) {
              mine.add(p);
            }
          }
        } else if (random.nextBoolean() || mine.size() == 1) {
          int pid = mine.remove(random.nextInt(mine.size()));
          call(node, "free", pid >> 22, "DELETE", "/v1/pids/" + pid, null);
        } else {
          List<Integer> batch = new ArrayList<>();
          for (int k = 1 + random.nextInt(Math.min(4, mine.size())); k > 0; k--) {
            batch.add(mine.remove(random.nextInt(mine.size())));
          }
          freeBatch(node, batch);
        }
        if (mine.size() > 40) {
          mine.subList(0, 20).clear(); // forget some: live pids of our own keep the check meaningful
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Sends one request and records it; a pid-bearing answer of an alloc becomes the Op's pids. */
  private Op call(NodeProcess node, String kind, int space, String method, String path, String body)
      throws InterruptedException {
    long send = System.nanoTime();
    Outcome outcome;
    int[] pids = new int[0];
    String detail;
    try {
      NodeProcess.Answer answer = node.call(method, path, body, CALL);
      outcome = classify(answer.status(), answer.json());
      detail = answer.status() + " " + answer.json();
      if (outcome == Outcome.ACK && kind.equals("alloc")) {
        pids = ints(answer.json().get("pids"));
      } else if (kind.equals("free")) {
        pids = new int[] {Integer.parseInt(path.substring(path.lastIndexOf('/') + 1))};
      }
    } catch (IOException e) {
      outcome = Outcome.UNKNOWN;
      detail = e.toString();
      if (kind.equals("free")) {
        pids = new int[] {Integer.parseInt(path.substring(path.lastIndexOf('/') + 1))};
      }
    }
    Op op = new Op(node.name, kind, space, pids, send, System.nanoTime(), outcome, detail);
    synchronized (history) {
      history.add(op);
    }
    return op;
  }

  private void freeBatch(NodeProcess node, List<Integer> batch) throws InterruptedException {
    long send = System.nanoTime();
    String body = "{\"pids\": " + batch + "}";
    List<Op> ops = new ArrayList<>();
    try {
      NodeProcess.Answer answer = node.call("POST", "/v1/pids:free", body, CALL);
      long end = System.nanoTime();
      Outcome whole = classify(answer.status(), answer.json());
      Map<Integer, Outcome> each = new HashMap<>();
      if (whole == Outcome.ACK) {
        for (int p : ints(answer.json().get("freed"))) {
          each.put(p, Outcome.ACK);
        }
        for (JsonNode r : answer.json().get("refused")) {
          // a refusal because the space did not answer in time may still have been stored
          each.put(r.get("pid").asInt(), uncertain(r.path("error").asText()) ? Outcome.UNKNOWN : Outcome.REFUSED);
        }
      }
      for (int p : batch) {
        ops.add(new Op(node.name, "batch-free", p >> 22, new int[] {p}, send, end,
            each.getOrDefault(p, whole == Outcome.ACK ? Outcome.UNKNOWN : whole), answer.status() + " " + answer.json()));
      }
    } catch (IOException e) {
      long end = System.nanoTime();
      for (int p : batch) {
        ops.add(new Op(node.name, "batch-free", p >> 22, new int[] {p}, send, end, Outcome.UNKNOWN, e.toString()));
      }
    }
    synchronized (history) {
      history.addAll(ops);
    }
  }

  /**
   * 2xx is acknowledged. A 4xx is a refusal that changed nothing. A 5xx (unavailable: the space
   * or registry did not answer in time; overloaded) says nothing about whether a write was
   * stored, so it counts as an unknown outcome, as a timeout does.
   */
  private static Outcome classify(int status, JsonNode json) {
    if (status / 100 == 2) {
      return Outcome.ACK;
    }
    return status >= 500 ? Outcome.UNKNOWN : Outcome.REFUSED;
  }

  private static boolean uncertain(String code) {
    return code.equals("unavailable") || code.equals("overloaded");
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array == null ? 0 : array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  /**
   * Every pair of acknowledged allocs of one pid needs a separator: a free of that pid or a
   * destroy of its space, acknowledged or of unknown outcome, sent before the later alloc was
   * acknowledged and answered after the earlier alloc was sent (a destroy of unknown outcome: at
   * any time after it was sent, since the registry finishes it later).
   */
  private List<String> duplicates(long t0) {
    Map<Integer, List<Op>> allocs = new HashMap<>();
    Map<Integer, List<Op>> frees = new HashMap<>();
    Map<Integer, List<Op>> destroys = new HashMap<>();
    synchronized (history) {
      for (Op op : history) {
        if (op.outcome() == Outcome.REFUSED) {
          continue;
        }
        switch (op.kind()) {
          case "alloc" -> {
            if (op.outcome() == Outcome.ACK) {
              for (int p : op.pids()) {
                allocs.computeIfAbsent(p, k -> new ArrayList<>()).add(op);
              }
            }
          }
          case "free", "batch-free" -> frees.computeIfAbsent(op.pids()[0], k -> new ArrayList<>()).add(op);
          case "destroy" -> destroys.computeIfAbsent(op.space(), k -> new ArrayList<>()).add(op);
          default -> { } // creates never separate two allocs
        }
      }
    }
    List<String> violations = new ArrayList<>();
    for (Map.Entry<Integer, List<Op>> e : allocs.entrySet()) {
      int pid = e.getKey();
      List<Op> got = e.getValue();
      if (got.size() < 2) {
        continue;
      }
      got.sort(Comparator.comparingLong(Op::end));
      List<Op> separators = new ArrayList<>(frees.getOrDefault(pid, List.of()));
      separators.addAll(destroys.getOrDefault(pid >> 22, List.of()));
      for (int i = 0; i < got.size(); i++) {
        for (int j = i + 1; j < got.size(); j++) {
          Op first = got.get(i);
          Op second = got.get(j);
          // A destroy of unknown outcome stays pending in the registry, which keeps retrying it
          // (docs/protocol.md): it may take effect any time after it was sent, not only before its answer.
          boolean separated = separators.stream().anyMatch(s -> s.send() < second.end()
              && (s.end() > first.send() || s.outcome() == Outcome.UNKNOWN && s.kind().equals("destroy")));
          if (!separated) {
            violations.add(historyOf(pid, first, second, t0));
            i = got.size(); // one report per pid, with its whole history
            break;
          }
        }
      }
    }
    return violations;
  }

  /** The pid's history up to the second acknowledgement (its last lines: what led there), the pair marked. */
  private String historyOf(int pid, Op first, Op second, long t0) {
    StringBuilder out = new StringBuilder("pid " + pid + " (space " + (pid >> 22) + ", vpid " + (pid & ((1 << 22) - 1))
        + ") acknowledged twice (the allocs marked >>) with no free of it or destroy of its space in between:");
    List<Op> relevant;
    synchronized (history) {
      relevant = history.stream()
          .filter(op -> op.send() <= second.end())
          .filter(op -> op.space() == pid >> 22 && (op.kind().equals("create") || op.kind().equals("destroy"))
              || java.util.Arrays.stream(op.pids()).anyMatch(p -> p == pid))
          .sorted(Comparator.comparingLong(Op::send))
          .toList();
    }
    List<Op> shown = relevant.subList(Math.max(0, relevant.indexOf(first) - 3), relevant.size());
    for (int i = 0; i < shown.size(); i++) {
      if (shown.size() > 40 && i == 4) {
        out.append("\n    ... ").append(shown.size() - 34).append(" more requests ...");
        i = shown.size() - 30;
      }
      Op op = shown.get(i);
      out.append(op == first || op == second ? "\n >> " : "\n    ").append(op.show(t0));
    }
    return out.toString();
  }
}
