package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.SpaceStats;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability against {@code kill -9}: the built jar runs {@code replay --persistence jdbc} on an
 * H2 file journal and answers one command at a time; it is killed at a random moment, sometimes
 * with a command sent and not yet answered. The test then opens the same journal in-process and
 * checks it against a model that holds exactly what was acknowledged: every acknowledged pid is
 * still allocated, every acknowledged free stays freed, acknowledged creates and destroys stand,
 * and the next-fit cursor continues where it was (the next cycle's answers must equal the
 * model's, pid for pid).
 *
 * <p>With reservations on ({@code pidspace.reservation}), allocs inside one are answered before
 * they are stored, and recovery counts every free vpid of the unfinished one as allocated. Then
 * every acknowledged pid must still be allocated, and the model takes the recovered space as it
 * is (leaks included) before the next cycle, whose answers must again equal it pid for pid: a pid
 * handed out twice would be one the model holds. What a kill leaks is at most the range the space
 * had stored, and with bursts of pipelined commands the ranges grow past their first size, so
 * some kill must find one grown.
 */
class CrashRecoveryIT {

  private static final PidLayout LAYOUT = PidLayout.DEFAULT;

  /** What was acknowledged: the spaces and their maps, as the core computes them. */
  private final TreeMap<Integer, PidMap> model = new TreeMap<>();

  private final long seed = Long.getLong("pidspace.crash.seed", System.nanoTime());
  private final Random random = new Random(seed);
  private int acknowledged;
  private int cycles = 20;
  private int pidMax = 2_000; // small spaces: wrap-around and exhaustion happen too
  private int reservation; // pidspace.reservation of both the killed process and the check
  private boolean bursts; // most steps send hundreds of allocs and frees before reading an answer
  private int maxLeaked; // the most free vpids one recovery found in an unfinished range

  @Test
  void killedReplay_keepsEveryAcknowledgedAllocFreeCreateAndDestroy(@TempDir Path dataDir) throws Exception {
    crashCycles(dataDir);
  }

  @Test
  void killedReplay_withReservations_keepsEveryAcknowledgedPidAndHandsOutNoneTwice(@TempDir Path dataDir)
      throws Exception {
    reservation = 64;
    crashCycles(dataDir);
  }

  /**
   * Ranges that grow (PidSpace.reservationAhead): a 65,536-vpid space allows 4,096 vpids (a
   * sixteenth), bursts renew 1,024 faster than the growth threshold, and a kill leaves the grown
   * range unfinished.
   */
  @Test
  void killedReplay_withGrownReservations_leaksAtMostTheRangeAndHandsOutNoneTwice(@TempDir Path dataDir)
      throws Exception {
    cycles = 12;
    pidMax = 65_536;
    reservation = 16_384;
    bursts = true;
    crashCycles(dataDir);
    assertTrue(maxLeaked > 1_024, "no kill found a range grown past its first 1,024 vpids: the most leaked was "
        + maxLeaked + " [seed " + seed + "]");
  }

  private void crashCycles(Path dataDir) throws Exception {
    model.put(0, PidMap.create(LAYOUT, 0, pidMax));
    Path logs = Files.createDirectories(Path.of("target", "crash-logs"));
    for (int cycle = 0; cycle < cycles; cycle++) {
      int before = acknowledged;
      List<String> pending = runUntilKilled(dataDir, logs.resolve("cycle-" + cycle + ".log"));
      verify(dataDir, pending, cycle);
      System.out.printf("crash cycle %d/%d: %d commands acknowledged, killed %s, journal verified%s [seed %d]%n",
          cycle + 1, cycles, acknowledged - before,
          pending.isEmpty() ? "between commands" : pending.size() == 1 ? "during '" + pending.get(0) + "'"
              : "with " + pending.size() + " commands unanswered",
          reservation > 0 ? ", most leaked so far " + maxLeaked : "", seed);
    }
  }

  /** Drives one process until it is killed; returns the commands it was killed with unanswered. */
  private List<String> runUntilKilled(Path dataDir, Path log) throws Exception {
    Process process = new ProcessBuilder(
            "java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Dpidspace.pid-max=" + pidMax,
            "-Dpidspace.reservation=" + reservation,
            "-jar", System.getProperty("pidspace.jar", "target/pidspace.jar"),
            "replay", "--persistence", "jdbc", "--data-dir", dataDir.toString())
        .redirectError(log.toFile())
        .start();
    Writer in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    long killAt = Long.MAX_VALUE;
    boolean killWithPending = random.nextBoolean();
    try {
      while (true) {
        List<String> step = nextStep();
        for (String command : step) {
          in.write(command + "\n");
        }
        in.flush();
        for (int i = 0; i < step.size(); i++) {
          if (System.nanoTime() >= killAt && killWithPending) {
            Thread.sleep(random.nextInt(3)); // the writes may or may not reach the journal
            return kill(process, step.subList(i, step.size()));
          }
          String answer = out.readLine();
          if (answer == null) {
            fail("replay ended before it was killed; see " + log);
          }
          if (answer.startsWith("error: unavailable")) {
            // A starved host: the command waited past its deadline and its outcome is not known,
            // as with one the kill leaves unanswered (a CI run at load 20 saw this once).
            return kill(process, step.subList(i, step.size()));
          }
          apply(step.get(i), answer);
          acknowledged++;
          if (killAt == Long.MAX_VALUE) {
            killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100 + random.nextInt(600));
          }
        }
        if (System.nanoTime() >= killAt) {
          return kill(process, List.of());
        }
      }
    } catch (IOException e) {
      fail("replay died on its own: " + e + "; see " + log);
      return null;
    }
  }

  private static List<String> kill(Process process, List<String> pending) throws InterruptedException {
    process.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
    process.waitFor();
    return pending;
  }

  /**
   * One command, or with {@code bursts} mostly a burst of 500 to 4,000 commands on one space: a
   * third of them allocs only, which a reservation answers unstored, the rest 70 % frees, which
   * are stored before their answer (and keep the space from filling up).
   */
  private List<String> nextStep() {
    if (!bursts || random.nextInt(10) == 0) {
      return List.of(nextCommand());
    }
    List<Integer> ids = new ArrayList<>(model.keySet());
    int space = ids.get(random.nextInt(ids.size()));
    List<Integer> live = livePids(space);
    Collections.shuffle(live, random);
    int size = 500 + random.nextInt(3_500);
    int freesInTen = random.nextInt(3) == 0 ? 0 : 7;
    List<String> burst = new ArrayList<>(size);
    for (int i = 0; i < size; i++) { // frees only of pids live before the burst, each once
      burst.add(random.nextInt(10) < freesInTen && !live.isEmpty() ? "free " + live.remove(live.size() - 1) : "alloc " + space);
    }
    return burst;
  }

  private String nextCommand() {
    int roll = random.nextInt(100);
    List<Integer> ids = new ArrayList<>(model.keySet());
    if (roll < 3 && model.size() < 6) {
      return "space-create";
    }
    if (roll < 5 && model.size() > 1) {
      return "space-destroy " + ids.get(1 + random.nextInt(ids.size() - 1));
    }
    int space = ids.get(random.nextInt(ids.size()));
    List<Integer> live = livePids(space);
    if (roll < 45 && !live.isEmpty()) {
      return "free " + live.get(random.nextInt(live.size()));
    }
    return "alloc " + space;
  }

  /** Applies an acknowledged command to the model; the answer must be what the model says. */
  private void apply(String command, String answer) {
    String[] words = command.split(" ");
    switch (words[0]) {
      case "alloc" -> {
        int space = Integer.parseInt(words[1]);
        int vpid = model.get(space).alloc();
        assertEquals(vpid < 0 ? "-1" : Integer.toString(LAYOUT.encode(space, vpid)), answer, command + " [seed " + seed + "]");
      }
      case "free" -> {
        assertEquals("ok", answer, command + " [seed " + seed + "]");
        int pid = Integer.parseInt(words[1]);
        model.get(LAYOUT.spaceOf(pid)).free(LAYOUT.vpidOf(pid));
      }
      case "space-create" -> {
        int id = lowestFreeId();
        assertEquals(Integer.toString(id), answer, command + " [seed " + seed + "]");
        model.put(id, PidMap.create(LAYOUT, id, pidMax));
      }
      case "space-destroy" -> {
        assertEquals("ok", answer, command + " [seed " + seed + "]");
        model.remove(Integer.parseInt(words[1]));
      }
      default -> throw new IllegalStateException(command);
    }
  }

  /** Opens the journal in-process, settles the unanswered commands, and compares with the model. */
  private void verify(Path dataDir, List<String> pending, int cycle) throws Exception {
    String where = "cycle " + cycle + " [seed " + seed + "]";
    // A plain local actor system recovers the same journal faster than a cluster would form.
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "verify", ConfigFactory.load(ConfigFactory.parseMap(Map.of(
        "akka.actor.provider", "local",
        "akka.loglevel", "WARNING",
        "pidspace.persistence", "jdbc",
        "pidspace.data-dir", dataDir.toString(),
        "pidspace.pid-max", pidMax,
        "pidspace.reservation", reservation))));
    try {
      PidAuthority authority = PidAuthority.get(system);
      for (String command : pending) { // in order: each is settled on the model the ones before left
        if (pendingWasStored(authority, command)) {
          apply(command, expectedAnswer(command));
        }
      }
      assertEquals(new ArrayList<>(model.keySet()), spaceIds(authority), "spaces after the kill, " + where);
      if (reservation > 0) {
        takeRecoveredSpaces(authority, where);
        return;
      }
      for (Map.Entry<Integer, PidMap> e : model.entrySet()) {
        SpaceStats stats = await(authority.stats(e.getKey()));
        // what durability promises; pages in use are a memory detail that a snapshot does not keep
        SpaceStats expected = e.getValue().stats();
        assertEquals(List.of(expected.pidMax(), expected.allocated(), expected.lastPid()),
            List.of(stats.pidMax(), stats.allocated(), stats.lastPid()), "space " + e.getKey() + " after the kill, " + where);
        for (int pid : livePids(e.getKey())) {
          assertTrue(await(authority.lookup(pid)).allocated(), "acknowledged pid " + pid + " lost, " + where);
        }
      }
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      // The connection pool may still be closing after termination, and while this JVM has the
      // H2 file open, the next replay cannot: close the database here and now.
      try (Connection c = DriverManager.getConnection(system.settings().config().getString("pidspace.jdbc.url"), "sa", "");
          Statement shutdown = c.createStatement()) {
        shutdown.execute("SHUTDOWN");
      }
    }
  }

  /**
   * With reservations: every acknowledged pid is still allocated, and what else is allocated (the
   * leak) fits in one range; then the model becomes the recovered spaces, leaked vpids and cursor
   * included.
   */
  private void takeRecoveredSpaces(PidAuthority authority, String where) throws Exception {
    for (Map.Entry<Integer, PidMap> e : model.entrySet()) {
      int space = e.getKey();
      PidMap recovered = PidMap.fromImage(LAYOUT, space, await(authority.exportSpace(space)));
      for (int pid : livePids(space)) {
        assertTrue(recovered.isAllocated(LAYOUT.vpidOf(pid)), "acknowledged pid " + pid + " lost, " + where);
      }
      SpaceStats stats = await(authority.stats(space));
      assertEquals(stats.allocated(), recovered.allocated(), "space " + space + ": export and stats disagree, " + where);
      int leaked = recovered.allocated() - e.getValue().allocated();
      int range = Math.min(reservation, pidMax / 16);
      assertTrue(leaked <= range, "space " + space + " leaked " + leaked + " vpids, more than a range of " + range + ", " + where);
      maxLeaked = Math.max(maxLeaked, leaked);
      e.setValue(recovered);
    }
  }

  /** Whether the journal holds the effect of the command that was sent but never answered. */
  private boolean pendingWasStored(PidAuthority authority, String command) throws Exception {
    String[] words = command.split(" ");
    return switch (words[0]) {
      case "alloc" -> {
        int space = Integer.parseInt(words[1]);
        int[] next = new int[1];
        yield model.get(space).peek(1, next) == 1
            && await(authority.lookup(LAYOUT.encode(space, next[0]))).allocated();
      }
      case "free" -> !await(authority.lookup(Integer.parseInt(words[1]))).allocated();
      case "space-create" -> spaceIds(authority).contains(lowestFreeId());
      case "space-destroy" -> !spaceIds(authority).contains(Integer.parseInt(words[1]));
      default -> throw new IllegalStateException(command);
    };
  }

  private static List<Integer> spaceIds(PidAuthority authority) throws Exception {
    return Arrays.stream(await(authority.spaceIds())).boxed().toList();
  }

  private String expectedAnswer(String command) {
    String[] words = command.split(" ");
    return switch (words[0]) {
      case "alloc" -> {
        int space = Integer.parseInt(words[1]);
        int[] next = new int[1];
        yield model.get(space).peek(1, next) == 1 ? Integer.toString(LAYOUT.encode(space, next[0])) : "-1";
      }
      case "space-create" -> Integer.toString(lowestFreeId());
      default -> "ok";
    };
  }

  private int lowestFreeId() {
    int id = 1;
    while (model.containsKey(id)) {
      id++;
    }
    return id;
  }

  private List<Integer> livePids(int space) {
    List<Integer> pids = new ArrayList<>();
    model.get(space).forEachAllocated(v -> pids.add(LAYOUT.encode(space, v)));
    return pids;
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

}
