package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of one durable node (H2 file journal) while clients create, destroy, allocate and free
 * on a handful of space ids; sometimes the kill lands right after a create or destroy was sent,
 * between the space's event and the registry's. After every restart: the registry's list and
 * the spaces that answer agree (no orphan space), every acknowledged pid that nothing could have
 * freed is still allocated, no alloc hands out a pid the model holds live, and a create of an id
 * that exists is refused rather than resetting the space (DESIGN §1, §3).
 */
class CreateDestroyCrashIT {

  private static final int CYCLES = Integer.getInteger("pidspace.crash.cycles", 20);
  private static final int K = 4;        // the space ids the load works on: 1..K
  private static final int CHECKED = K + 3; // orphans are looked for a little beyond them
  private static final int WORKERS = 3;
  private static final Duration READY = Duration.ofSeconds(180);
  private static final Duration SETTLE = Duration.ofSeconds(60); // a restarted node may finish its own work first
  private static final Duration CALL = Duration.ofSeconds(30);

  enum Exists { YES, NO, UNKNOWN }

  // The model: only what was acknowledged, and what might have happened.
  private final Exists[] exists = new Exists[CHECKED + 1];
  private final int[] epoch = new int[CHECKED + 1];            // bumped when a destroy is SENT
  // a destroy is in flight, or its outcome unknown until a restart settles it: it may still
  // free pids that an alloc sent meanwhile gets
  private final boolean[] destroying = new boolean[CHECKED + 1];
  private final Map<Integer, Integer> live = new HashMap<>();  // acknowledged pid -> epoch of its space at alloc send
  // Frees of one pid may overlap (a worker's stale copy of a pid that was destroyed and handed
  // out again): only a free that ran alone may call a pid lost, only a pid no free raced is live.
  private final Map<Integer, Integer> freesInFlight = new HashMap<>();
  private final Map<Integer, Integer> freesSent = new HashMap<>();
  private final Map<Integer, Long> lastFreeAnswered = new HashMap<>();
  private final Map<Integer, List<String>> pidHistory = new HashMap<>();
  private final Map<Integer, List<String>> spaceHistory = new HashMap<>();
  private final List<String> violations = new ArrayList<>();
  private final Object topology = new Object(); // one create or destroy at a time: the model stays exact

  private final long seed = Long.getLong("pidspace.crash.seed", System.nanoTime());
  private final long t0 = System.nanoTime();
  private final AtomicInteger acked = new AtomicInteger();
  private volatile boolean running;

  @Test
  void killedNode_neverOrphansResetsLosesOrDuplicates(@TempDir Path dataDir) throws Exception {
    java.util.Arrays.fill(exists, Exists.NO);
    Path logs = Files.createDirectories(Path.of("target", "crash-logs", "create-destroy-" + System.currentTimeMillis()));
    int port = NodeProcess.freePort();
    // pidspace.data-dir is what --data-dir sets: the node's H2 file journal (WRITE_DELAY=0)
    NodeProcess node = new NodeProcess("crash-node", port, List.of(port),
        List.of("pidspace.persistence=jdbc", "pidspace.data-dir=" + dataDir.toAbsolutePath()), logs);
    Random random = new Random(seed);
    long started = System.nanoTime();
    int killsAfterTopology = 0;
    try {
      for (int cycle = 1; cycle <= CYCLES; cycle++) {
        long up = System.nanoTime();
        node.start();
        node.awaitReady(READY);
        double readySeconds = (System.nanoTime() - up) / 1e9;
        if (cycle > 1) {
          verify(node, cycle);
        }
        int before = acked.get();
        running = true;
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
          long workerSeed = random.nextLong();
          Thread t = new Thread(() -> work(node, new Random(workerSeed)), "load-" + w);
          t.start();
          workers.add(t);
        }
        Thread.sleep(300 + random.nextInt(2_500));
        String when = "after " + (acked.get() - before) + " acknowledged requests";
        if (random.nextInt(4) > 0) {
          // Most kills land in a storm of creates and destroys that act: one thread per id, each
          // destroying its space if it exists and creating it if not, until the kill. The registry
          // runs them one after another, the space's event first and the registry's second, so
          // the kill often falls between the two. One id (the keeper) only gets a create, which
          // must be refused if it exists: its live pids keep the checks after the restart busy.
          synchronized (topology) {
            int keeper = 1 + random.nextInt(K);
            AtomicInteger answered = new AtomicInteger();
            List<Thread> burst = new ArrayList<>();
            for (int id = 1; id <= K; id++) {
              int space = id;
              burst.add(new Thread(() -> {
                try {
                  do {
                    if (space != keeper && exists(space) == Exists.YES) {
                      destroyNow(node, space);
                    } else {
                      createWithIdNow(node, space);
                    }
                    answered.incrementAndGet();
                  } while (space != keeper);
                } catch (IOException | InterruptedException e) {
                  // killed under way: recorded as an unknown outcome
                }
              }, "burst-" + id));
            }
            long delay = TimeUnit.MILLISECONDS.toNanos(20 + random.nextInt(300));
            burst.forEach(Thread::start);
            java.util.concurrent.locks.LockSupport.parkNanos(delay);
            node.kill();
            for (Thread t : burst) {
              t.join();
            }
            when = String.format("%.0f ms into a storm of creates/destroys on %d ids (%d answered before the kill)",
                delay / 1e6, K - 1, answered.get());
            killsAfterTopology++;
          }
        }
        node.kill();
        note(-1, "---- kill -9 at the end of cycle " + cycle + " (" + when + ")");
        running = false;
        for (Thread t : workers) {
          t.join();
        }
        System.out.printf("create/destroy crash cycle %d/%d: ready after %.1f s, %d requests acknowledged, killed %s "
            + "[seed %d]%n", cycle, CYCLES, readySeconds, acked.get() - before, when, seed);
      }
      node.start();
      node.awaitReady(READY);
      verify(node, CYCLES + 1);
      System.out.printf("create/destroy crash: %d cycles (%d killed in a burst of creates/destroys), %d requests "
              + "acknowledged, %d pids live at the end, %.1f s [seed %d]%n",
          CYCLES, killsAfterTopology, acked.get(), live.size(), (System.nanoTime() - started) / 1e9, seed);
    } finally {
      running = false;
      if (node.isAlive()) {
        node.kill();
      }
    }
  }

  // ---------------------------------------------------------------- the load

  private void work(NodeProcess node, Random random) {
    List<Integer> mine = new ArrayList<>();
    while (running) {
      int space = 1 + random.nextInt(K);
      int roll = random.nextInt(100);
      try {
        if (roll < 12) {
          createWithId(node, space);
        } else if (roll < 17) {
          createAnyId(node);
        } else if (roll < 24) {
          destroy(node, space);
        } else if (roll < 62 || mine.isEmpty()) {
          alloc(node, space, random.nextBoolean() ? 0 : 2 + random.nextInt(4), mine);
          if (mine.size() > 60) {
            mine.subList(0, 30).clear(); // forget some: pids held a long time make the checks after a restart count
          }
        } else if (random.nextBoolean() || mine.size() == 1) {
          free(node, List.of(mine.remove(random.nextInt(mine.size()))), false);
        } else {
          List<Integer> batch = new ArrayList<>();
          for (int k = 1 + random.nextInt(Math.min(5, mine.size())); k > 0; k--) {
            batch.add(mine.remove(random.nextInt(mine.size())));
          }
          free(node, batch, true);
        }
      } catch (IOException e) {
        // the node was killed with this request in flight: its outcome is unknown, as recorded
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void createWithId(NodeProcess node, int space) throws IOException, InterruptedException {
    synchronized (topology) {
      createWithIdNow(node, space);
    }
  }

  /** Without the lock: the caller makes sure nothing else is sent for this id meanwhile. */
  private void createWithIdNow(NodeProcess node, int space) throws IOException, InterruptedException {
    Exists before = exists(space);
    NodeProcess.Answer a;
    try {
      a = node.call("POST", "/v1/spaces", "{\"id\": " + space + ", \"pidMax\": 400}", CALL);
    } catch (IOException e) {
      // a create must never change a space that exists; one that did not may now exist
      setExists(space, before == Exists.YES ? Exists.YES : Exists.UNKNOWN, "create " + space + ": no answer");
      throw e;
    }
    note(space, "create " + space + ": " + a.status() + " " + a.json());
    if (a.status() == 201) {
      acked.incrementAndGet();
      if (before == Exists.YES) {
        violation("create of space " + space + ", which exists, was acknowledged (a reset, not a refusal): "
            + a.json() + spaceHistoryOf(space));
      }
      setExists(space, Exists.YES, null);
    } else if (a.status() >= 500 || a.status() == 409 && before == Exists.NO) {
      setExists(space, before == Exists.YES ? Exists.YES : Exists.UNKNOWN, null);
    }
  }

  private void createAnyId(NodeProcess node) throws IOException, InterruptedException {
    synchronized (topology) {
      int expected = -1;
      synchronized (this) {
        for (int id = 1; id <= K && expected < 0; id++) {
          if (exists[id] == Exists.UNKNOWN) {
            return; // the registry's choice would be a guess
          }
          expected = exists[id] == Exists.NO ? id : -1;
        }
      }
      if (expected < 0) {
        return; // all of 1..K exist: the registry would pick an id outside the load's
      }
      NodeProcess.Answer a;
      try {
        a = node.call("POST", "/v1/spaces", "{\"pidMax\": 400}", CALL);
      } catch (IOException e) {
        setExists(expected, Exists.UNKNOWN, "create (any id, expected " + expected + "): no answer");
        throw e;
      }
      if (a.status() == 201) {
        acked.incrementAndGet();
        int id = a.json().get("id").asInt();
        note(id, "create (any id): " + a.status() + " " + a.json());
        if (id <= CHECKED && exists(id) == Exists.YES) {
          violation("create (any id) answered space " + id + ", which exists: " + a.json() + spaceHistoryOf(id));
        }
        if (id <= CHECKED) {
          setExists(id, Exists.YES, null);
        }
      } else {
        note(expected, "create (any id, expected " + expected + "): " + a.status() + " " + a.json());
        if (a.status() >= 500) {
          setExists(expected, Exists.UNKNOWN, null);
        }
      }
    }
  }

  private void destroy(NodeProcess node, int space) throws IOException, InterruptedException {
    synchronized (topology) {
      destroyNow(node, space);
    }
  }

  /** Without the lock: the caller makes sure nothing else is sent for this id meanwhile. */
  private void destroyNow(NodeProcess node, int space) throws IOException, InterruptedException {
    Exists before;
    synchronized (this) {
      before = exists[space];
      epoch[space]++; // from now on every pid of the space may be gone
      destroying[space] = true;
      live.keySet().removeIf(p -> {
        if (p >> 22 == space) {
          pidNote(p, "destroy of its space sent");
          return true;
        }
        return false;
      });
    }
    NodeProcess.Answer a;
    try {
      a = node.call("DELETE", "/v1/spaces/" + space, null, CALL);
    } catch (IOException e) {
      setExists(space, Exists.UNKNOWN, "destroy " + space + ": no answer");
      throw e;
    }
    note(space, "destroy " + space + ": " + a.status() + " " + a.json());
    if (a.status() < 500) {
      setDestroying(space, false); // answered for certain: done, or refused and changed nothing
    }
    if (a.status() == 204) {
      acked.incrementAndGet();
      setExists(space, Exists.NO, null);
    } else if (a.status() == 404) {
      if (before == Exists.YES) {
        violation("space " + space + " exists by the model but destroy calls it unknown: " + a.json()
            + spaceHistoryOf(space));
      }
      setExists(space, Exists.NO, null);
    } else if (a.status() >= 500) {
      setExists(space, Exists.UNKNOWN, null);
    }
  }

  private void alloc(NodeProcess node, int space, int count, List<Integer> mine) throws IOException, InterruptedException {
    int sentEpoch;
    long sent = System.nanoTime();
    synchronized (this) {
      sentEpoch = destroying[space] ? -1 : epoch[space]; // -1: never live, a destroy may overtake it
    }
    NodeProcess.Answer a = node.call("POST", "/v1/spaces/" + space + "/pids" + (count > 0 ? "?count=" + count : ""), null, CALL);
    if (a.status() == 200) {
      acked.incrementAndGet();
      for (JsonNode p : a.json().get("pids")) {
        int pid = p.asInt();
        if (!mine.contains(pid)) { // a stale copy (its space was destroyed since) must not go twice into one batch
          mine.add(pid);
        }
        handedOut(pid, sentEpoch, sent, "alloc " + space + (count > 0 ? " count " + count : ""));
      }
    }
  }

  /** An acknowledged alloc: the pid must not be live by the model; it is live from now on. */
  private synchronized void handedOut(int pid, int sentEpoch, long sent, String how) {
    int space = pid >> 22;
    if (live.containsKey(pid)) {
      violation("pid " + pid + " handed out again while live (" + how + ")" + pidHistoryOf(pid));
    }
    pidNote(pid, how + ": acknowledged");
    if (epoch[space] == sentEpoch && freesInFlight.getOrDefault(pid, 0) == 0
        && lastFreeAnswered.getOrDefault(pid, Long.MIN_VALUE) - sent < 0) {
      live.put(pid, sentEpoch);
    } // else a destroy or a free of the same number overlapped the alloc: the pid's fate is unknown
  }

  private void free(NodeProcess node, List<Integer> pids, boolean batch) throws IOException, InterruptedException {
    Map<Integer, Integer> alone = new HashMap<>(); // pid the model held live, no other free of it in flight -> epoch
    Map<Integer, Integer> sentAs = new HashMap<>();
    synchronized (this) {
      for (int p : pids) {
        Integer e = live.remove(p); // from now on it may be free: never blame a later alloc of it
        if (e != null && freesInFlight.getOrDefault(p, 0) == 0) {
          alone.put(p, e);
        }
        freesInFlight.merge(p, 1, Integer::sum);
        sentAs.put(p, freesSent.merge(p, 1, Integer::sum));
        pidNote(p, (batch ? "batch " : "") + "free sent");
      }
    }
    Map<Integer, String> refused = new HashMap<>();
    try {
      if (batch) {
        NodeProcess.Answer a = node.call("POST", "/v1/pids:free", "{\"pids\": " + pids + "}", CALL);
        if (a.status() == 200) {
          acked.incrementAndGet();
          a.json().get("refused").forEach(r -> refused.put(r.get("pid").asInt(), r.get("error").asText()));
        }
        pids.forEach(p -> pidNote(p, "batch free: " + a.status() + " " + refused.getOrDefault(p, "")));
      } else {
        int p = pids.get(0);
        NodeProcess.Answer a = node.call("DELETE", "/v1/pids/" + p, null, CALL);
        pidNote(p, "free: " + a.status() + " " + a.json());
        if (a.status() == 204) {
          acked.incrementAndGet();
        } else if (a.status() == 404) {
          refused.put(p, a.json().get("error").asText());
        }
      }
    } finally {
      synchronized (this) {
        long now = System.nanoTime();
        for (int p : pids) {
          freesInFlight.merge(p, -1, Integer::sum);
          lastFreeAnswered.put(p, now);
        }
      }
    }
    synchronized (this) {
      refused.forEach((p, code) -> {
        Integer e = alone.get(p);
        boolean lost = code.equals("not-allocated") || code.equals("unknown-space");
        if (lost && e != null && epoch[p >> 22] == e && freesSent.get(p).equals(sentAs.get(p))) {
          violation("acknowledged pid " + p + " was lost: its free was refused with " + code + pidHistoryOf(p)
              + spaceHistoryOf(p >> 22));
        }
      });
    }
  }

  // ---------------------------------------------------------------- after a restart

  private void verify(NodeProcess node, int cycle) throws Exception {
    long deadline = System.nanoTime() + SETTLE.toNanos();
    // (i) the list and the spaces that answer agree, and agree with what was acknowledged
    List<String> problems;
    Set<Integer> answering;
    while (true) {
      problems = new ArrayList<>();
      answering = new TreeSet<>();
      Set<Integer> listed = listed(node);
      for (int id = 1; id <= CHECKED; id++) {
        int status = node.call("GET", "/v1/spaces/" + id, null, CALL).status();
        if (status == 200) {
          answering.add(id);
        }
        Exists model = exists(id);
        if (status == 200 && !listed.contains(id)) {
          problems.add("orphan: space " + id + " answers GET /v1/spaces/" + id + " but GET /v1/spaces does not list it "
              + listed + spaceHistoryOf(id));
        } else if (status != 200 && listed.contains(id)) {
          problems.add("space " + id + " is listed but GET /v1/spaces/" + id + " answers " + status + spaceHistoryOf(id));
        } else if (model == Exists.YES && status != 200) {
          problems.add("space " + id + ", acknowledged as existing, answers " + status + spaceHistoryOf(id));
        } else if (model == Exists.NO && status == 200) {
          problems.add("space " + id + ", acknowledged as gone, exists again" + spaceHistoryOf(id));
        }
      }
      if (problems.isEmpty() || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(1_000);
    }
    problems.forEach(this::violation);
    for (int id = 1; id <= CHECKED; id++) {
      setDestroying(id, false); // the restart settled every destroy that was cut short
    }
    for (int id = 1; id <= CHECKED; id++) {
      if (exists(id) == Exists.UNKNOWN) {
        setExists(id, answering.contains(id) ? Exists.YES : Exists.NO, "after restart " + cycle + ": "
            + (answering.contains(id) ? "exists" : "does not exist"));
      }
    }
    // (ii) every acknowledged pid that nothing could have freed is still allocated
    int checked = 0;
    for (int pid : new ArrayList<>(live.keySet())) {
      NodeProcess.Answer a = node.call("GET", "/v1/pids/" + pid, null, CALL);
      while (a.status() >= 500 && System.nanoTime() < deadline) {
        Thread.sleep(500);
        a = node.call("GET", "/v1/pids/" + pid, null, CALL);
      }
      checked++;
      if (a.status() != 200 || !a.json().get("allocated").asBoolean()) {
        violation("acknowledged pid " + pid + " lost after restart " + cycle + ": " + a.status() + " " + a.json()
            + pidHistoryOf(pid) + spaceHistoryOf(pid >> 22));
      }
    }
    // (iii) a create of an id that exists is refused; a reset would hand out live pids again
    for (int id : answering) {
      // pids in it first (an orphan hands them out too), so that a reset shows as pids handed out again
      NodeProcess.Answer held = node.call("POST", "/v1/spaces/" + id + "/pids?count=3", null, CALL);
      if (held.status() == 200) {
        int heldEpoch = epoch[id];
        long heldSent = System.nanoTime() - CALL.toNanos(); // no free or destroy is running now
        held.json().get("pids").forEach(p -> handedOut(p.asInt(), heldEpoch, heldSent, "alloc " + id + " count 3 before the probe"));
      }
      NodeProcess.Answer a = node.call("POST", "/v1/spaces", "{\"id\": " + id + ", \"pidMax\": 400}", CALL);
      note(id, "create " + id + " (probe after restart " + cycle + "): " + a.status() + " " + a.json());
      if (a.status() == 201) {
        violation("create of existing space " + id + " after restart " + cycle + " was acknowledged (it reset it): "
            + a.json() + spaceHistoryOf(id));
        setExists(id, Exists.YES, null);
        NodeProcess.Answer more = node.call("POST", "/v1/spaces/" + id + "/pids?count=5", null, CALL);
        if (more.status() == 200) {
          int sentEpoch = epoch[id];
          more.json().get("pids").forEach(p -> handedOut(p.asInt(), sentEpoch, 0, "alloc " + id + " count 5 after the reset"));
        }
      } else if (a.status() != 409) {
        setExists(id, Exists.UNKNOWN, null);
      }
    }
    System.out.printf("after restart %d: spaces %s exist, %d acknowledged live pids checked, %d violation(s)%n",
        cycle, answering, checked, violations.size());
    synchronized (this) {
      assertTrue(violations.isEmpty(), violations.size() + " violation(s) after restart " + cycle + " [seed " + seed
          + "]:\n" + String.join("\n", violations));
    }
  }

  /** The ids GET /v1/spaces lists: with stats, or (a space that did not answer) with an error. */
  private static Set<Integer> listed(NodeProcess node) throws Exception {
    NodeProcess.Answer a = node.call("GET", "/v1/spaces", null, CALL);
    Set<Integer> ids = new HashSet<>();
    if (a.status() == 200) {
      a.json().get("spaces").forEach(s -> ids.add(s.get("id").asInt()));
    }
    return ids;
  }

  // ---------------------------------------------------------------- bookkeeping

  private synchronized void setDestroying(int id, boolean value) {
    destroying[id] = value;
  }

  private synchronized Exists exists(int id) {
    return exists[id];
  }

  private synchronized void setExists(int id, Exists value, String why) {
    exists[id] = value;
    if (why != null) {
      note(id, why);
    }
  }

  private synchronized void note(int space, String what) {
    String line = String.format("%+.3f s %s", (System.nanoTime() - t0) / 1e9, what);
    if (space < 0) {
      spaceHistory.values().forEach(h -> h.add(line));
      live.keySet().forEach(pid -> pidHistory.computeIfAbsent(pid, k -> new ArrayList<>()).add(line));
    } else {
      spaceHistory.computeIfAbsent(space, k -> new ArrayList<>()).add(line);
    }
  }

  private synchronized void pidNote(int pid, String what) {
    pidHistory.computeIfAbsent(pid, k -> new ArrayList<>())
        .add(String.format("%+.3f s %s", (System.nanoTime() - t0) / 1e9, what));
  }

  private synchronized String pidHistoryOf(int pid) {
    return tail("pid " + pid, pidHistory.getOrDefault(pid, List.of()));
  }

  private synchronized String spaceHistoryOf(int space) {
    return tail("space " + space, spaceHistory.getOrDefault(space, List.of()));
  }

  private static String tail(String what, List<String> lines) {
    StringBuilder out = new StringBuilder("\n  history of " + what + (lines.size() > 25 ? " (last 25)" : "") + ":");
    lines.subList(Math.max(0, lines.size() - 25), lines.size()).forEach(l -> out.append("\n    ").append(l));
    return out.toString();
  }

  private synchronized void violation(String what) {
    System.out.println("VIOLATION: " + what);
    violations.add(what);
  }
}
