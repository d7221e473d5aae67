package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException.Code;
import io.pidspace.core.SpaceStats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The protocol of one {@link PidSpace}, spoken directly with probes (no registry, no coalescer). */
class PidSpaceTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final int MAX_BATCH = 1_000;
  private static final PidspaceSettings settings = PidspaceSettings.from(ConfigFactory
      .parseString("pidspace.max-batch = " + MAX_BATCH)
      .withFallback(testKit.system().settings().config()));
  private static final PidLayout layout = settings.layout();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyRequest_beforeCreate_isUnknownSpace() {
    int space = 1;
    ActorRef<PidSpace.Command> pidSpace = spawn(space);

    assertEquals(Code.UNKNOWN_SPACE, allocRefused(pidSpace, 1));
    assertEquals(Code.UNKNOWN_SPACE, freeRefused(pidSpace, layout.encode(space, 2)));
    assertEquals(Code.UNKNOWN_SPACE, lookupRefused(pidSpace, layout.encode(space, 2)));
    assertEquals(Code.UNKNOWN_SPACE, code(one(pidSpace, new Request.Stats())));
    FreeResult batch = freeBatch(pidSpace, layout.encode(space, 2), layout.encode(space, 3));
    assertEquals(0, batch.freed().length);
    assertEquals(List.of(layout.encode(space, 2) + " unknown-space", layout.encode(space, 3) + " unknown-space"),
        Replies.refusals(batch));
  }

  @Test
  void create_startsFreshSpaceWhoseFirstPidIsVpid2() {
    int space = 2;
    ActorRef<PidSpace.Command> pidSpace = spawn(space);

    assertEquals(new SpaceStats(space, 5_000, 0, 1, 0), create(pidSpace, 5_000));
    assertArrayEquals(new int[] {layout.encode(space, 2)}, allocated(pidSpace, 1));
    assertEquals(new SpaceStats(space, 5_000, 1, 2, 1), stats(pidSpace));
  }

  @Test
  void alloc_count_handsOutNextFitRunAsGlobalPids() {
    int space = 3;
    ActorRef<PidSpace.Command> pidSpace = created(space);

    assertArrayEquals(globalPids(space, 2, 3, 4, 5, 6), allocated(pidSpace, 5));
    assertArrayEquals(globalPids(space, 7), allocated(pidSpace, 1));
    assertEquals(6, stats(pidSpace).allocated());
  }

  @Test
  void alloc_whenFull_isExhaustedAndBatchStopsEarly() {
    int space = 5;
    ActorRef<PidSpace.Command> pidSpace = spawn(space);
    create(pidSpace, PidLayout.PID_MAX_MIN); // vpids 1..300

    assertEquals(200, allocated(pidSpace, 200).length);
    int[] rest = allocated(pidSpace, 200);
    assertEquals(100, rest.length);
    assertEquals(layout.encode(space, 1), rest[99], "the wrap ends at the reserved floor, vpid 1");
    assertEquals(Code.SPACE_EXHAUSTED, allocRefused(pidSpace, 1));

    freed(pidSpace, layout.encode(space, 150));
    assertArrayEquals(globalPids(space, 150), allocated(pidSpace, 1));
  }

  @Test
  void free_allocatedPid_freesItOnce() {
    int space = 6;
    ActorRef<PidSpace.Command> pidSpace = created(space);
    int pid = allocated(pidSpace, 3)[1];

    assertEquals(new PidInfo(pid, space, 3, true), info(pidSpace, pid));
    freed(pidSpace, pid);
    assertEquals(new PidInfo(pid, space, 3, false), info(pidSpace, pid));
    assertEquals(Code.NOT_ALLOCATED, freeRefused(pidSpace, pid));
    assertEquals(2, stats(pidSpace).allocated());
  }

  @Test
  void free_reservedOrBeyondPidMaxOrNeverAllocated_isRefused() {
    int space = 7;
    ActorRef<PidSpace.Command> pidSpace = spawn(space);
    create(pidSpace, 1_000);
    allocated(pidSpace, 2);

    assertEquals(Code.RESERVED_PID, freeRefused(pidSpace, layout.encode(space, 0)));
    assertEquals(Code.OUT_OF_RANGE, freeRefused(pidSpace, layout.encode(space, 1_000)));
    assertEquals(Code.NOT_ALLOCATED, freeRefused(pidSpace, layout.encode(space, 999)));
    assertEquals(new SpaceStats(space, 1_000, 2, 3, 1), stats(pidSpace));
  }

  @Test
  void freeBatch_freesEachValidPidOnceAndListsEveryRefusal() {
    int space = 8;
    ActorRef<PidSpace.Command> pidSpace = created(space);
    int[] pids = allocated(pidSpace, 4); // vpids 2..5

    FreeResult result = freeBatch(pidSpace, pids[0], pids[1], pids[1], layout.encode(space, 0),
        layout.encode(space, 40_000), layout.encode(space, 77), pids[3]);

    assertArrayEquals(new int[] {pids[0], pids[1], pids[3]}, result.freed());
    assertEquals(List.of(
            pids[1] + " not-allocated",
            layout.encode(space, 0) + " reserved-pid",
            layout.encode(space, 40_000) + " out-of-range",
            layout.encode(space, 77) + " not-allocated"),
        Replies.refusals(result));
    assertEquals(1, stats(pidSpace).allocated());
    assertTrue(info(pidSpace, pids[2]).allocated());
  }

  @Test
  void destroy_freesEverythingAndMakesSpaceUnknownUntilCreatedAgain() {
    int space = 9;
    ActorRef<PidSpace.Command> pidSpace = created(space);
    int pid = allocated(pidSpace, 10)[0];

    assertFalse(destroy(pidSpace, generations.incrementAndGet()).exists());

    assertEquals(Code.UNKNOWN_SPACE, allocRefused(pidSpace, 1));
    assertEquals(Code.UNKNOWN_SPACE, freeRefused(pidSpace, pid));
    assertEquals(Code.UNKNOWN_SPACE, lookupRefused(pidSpace, pid));

    assertEquals(new SpaceStats(space, 2_000, 0, 1, 0), create(pidSpace, 2_000));
    assertFalse(info(pidSpace, pid).allocated());
    assertArrayEquals(globalPids(space, 2), allocated(pidSpace, 1));
  }

  @Test
  void create_ofExistingSpace_neverResetsIt_whateverItsGeneration() {
    int space = 10;
    ActorRef<PidSpace.Command> pidSpace = spawn(space);
    long generation = generations.incrementAndGet();
    create(pidSpace, generation, settings.pidMax());
    int[] live = allocated(pidSpace, 10);

    PidSpace.Status again = create(pidSpace, generation, settings.pidMax());
    PidSpace.Status newer = create(pidSpace, generations.incrementAndGet(), 1_000);

    assertEquals(new PidSpace.Status(true, generation, new SpaceStats(space, settings.pidMax(), 10, 11, 1)), again);
    assertEquals(again, newer, "a create of a newer generation reports the space as it is");
    assertTrue(info(pidSpace, live[9]).allocated());
    assertArrayEquals(globalPids(space, 12), allocated(pidSpace, 1));
  }

  @Test
  void createOrDestroy_ofAnOlderOrTheSameGeneration_changesNothing() {
    int space = 11;
    ActorRef<PidSpace.Command> pidSpace = spawn(space);
    long created = generations.incrementAndGet();
    create(pidSpace, created, settings.pidMax());
    int pid = allocated(pidSpace, 1)[0];

    assertTrue(destroy(pidSpace, created).exists(), "a destroy must be newer than the create");
    assertTrue(destroy(pidSpace, created - 1).exists());
    long destroyed = generations.incrementAndGet();
    assertEquals(new PidSpace.Status(false, destroyed, null), destroy(pidSpace, destroyed));
    assertEquals(new PidSpace.Status(false, destroyed, null), destroy(pidSpace, destroyed), "a repeat is answered alike");
    assertEquals(new PidSpace.Status(false, destroyed, null), create(pidSpace, created, settings.pidMax()),
        "a late create of an older generation stays fenced");
    assertEquals(Code.UNKNOWN_SPACE, lookupRefused(pidSpace, pid));
  }

  @Test
  void run_decidesMixedRequestsInArrivalOrder_asIfOneByOne() {
    int space = 12;
    ActorRef<PidSpace.Command> pidSpace = spawn(space);
    create(pidSpace, PidLayout.PID_MAX_MIN); // vpids 1..300
    int[] first = allocated(pidSpace, 299); // 2..300; only vpid 1 is left, below last_pid 300

    int vpid = layout.vpidOf(first[0]);
    List<Result> outcomes = run(pidSpace,
        new Request.Alloc(1), // wraps to vpid 1
        new Request.Alloc(1), // exhausted
        new Request.Free(new int[] {vpid, vpid}, null), // vpid 2 freed once, then a double free
        new Request.Lookup(vpid),
        new Request.Alloc(2), // vpid 2 again, then nothing left
        new Request.Stats());

    assertArrayEquals(globalPids(space, 1), ((Result.Pids) outcomes.get(0)).pids());
    assertEquals(Code.SPACE_EXHAUSTED, code(outcomes.get(1)));
    FreeResult freed = ((Result.Freed) outcomes.get(2)).result();
    assertArrayEquals(new int[] {first[0]}, freed.freed());
    assertEquals(List.of(first[0] + " not-allocated"), Replies.refusals(freed));
    assertFalse(((Result.Info) outcomes.get(3)).info().allocated());
    assertArrayEquals(globalPids(space, 2), ((Result.Pids) outcomes.get(4)).pids());
    assertEquals(new SpaceStats(space, PidLayout.PID_MAX_MIN, 300, 2, 1), ((Result.Stats) outcomes.get(5)).stats());
  }

  @Test
  void run_requestPastItsDeadline_isUnavailableAndChangesNothing() {
    int space = 13;
    ActorRef<PidSpace.Command> pidSpace = created(space);

    TestProbe<PidSpace.Results> probe = testKit.createTestProbe();
    long now = System.currentTimeMillis();
    pidSpace.tell(new PidSpace.Run(List.of(new Request.Alloc(5), new Request.Alloc(1)),
        new long[] {now - 1, now + 60_000}, probe.getRef()));
    List<Result> outcomes = probe.receiveMessage().results();

    assertEquals(Code.UNAVAILABLE, code(outcomes.get(0)));
    assertArrayEquals(globalPids(space, 2), ((Result.Pids) outcomes.get(1)).pids());
    assertEquals(1, stats(pidSpace).allocated());
  }

  @Test
  void defaultSpace_existsFromStartAndCannotBeCreatedOrDestroyed() {
    ActorRef<PidSpace.Command> spaceZero = spawn(PidLayout.DEFAULT_SPACE);

    assertEquals(new SpaceStats(0, settings.pidMax(), 0, 0, 1), stats(spaceZero));
    assertEquals(new PidSpace.Status(true, 0, stats(spaceZero)), create(spaceZero, generations.incrementAndGet(), 1_000));
    assertTrue(destroy(spaceZero, generations.incrementAndGet()).exists());

    assertArrayEquals(new int[] {1, 2}, allocated(spaceZero, 2), "space 0 starts at vpid 1: vpid 0 is taken");
    assertEquals(Code.RESERVED_PID, freeRefused(spaceZero, 0));
    assertEquals(2, stats(spaceZero).allocated());
  }

  @Test
  void passivate_inMemory_stopsAtOnce() {
    ActorRef<PidSpace.Command> pidSpace = created(14);
    allocated(pidSpace, 3);
    TestProbe<Object> watcher = testKit.createTestProbe();

    pidSpace.tell(PidSpace.Passivate.INSTANCE); // nothing to store: its state lives in memory only
    watcher.expectTerminated(pidSpace);
  }

  // --- helpers: one request, its answer ---

  private static final AtomicLong generations = new AtomicLong();

  private static ActorRef<PidSpace.Command> spawn(int space) {
    return testKit.spawn(PidSpace.create(settings, space, false));
  }

  private static ActorRef<PidSpace.Command> created(int space) {
    ActorRef<PidSpace.Command> pidSpace = spawn(space);
    create(pidSpace, settings.pidMax());
    return pidSpace;
  }

  private static SpaceStats create(ActorRef<PidSpace.Command> pidSpace, int pidMax) {
    PidSpace.Status status = create(pidSpace, generations.incrementAndGet(), pidMax);
    assertTrue(status.exists());
    return status.stats();
  }

  private static PidSpace.Status create(ActorRef<PidSpace.Command> pidSpace, long generation, int pidMax) {
    TestProbe<PidSpace.Status> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Create(generation, pidMax, probe.getRef()));
    return probe.receiveMessage();
  }

  private static PidSpace.Status destroy(ActorRef<PidSpace.Command> pidSpace, long generation) {
    TestProbe<PidSpace.Status> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Destroy(generation, probe.getRef()));
    return probe.receiveMessage();
  }

  /** One run of requests; their answers in order. */
  static List<Result> run(ActorRef<PidSpace.Command> pidSpace, Request<?>... requests) {
    TestProbe<PidSpace.Results> probe = testKit.createTestProbe();
    long[] deadlines = new long[requests.length];
    Arrays.fill(deadlines, System.currentTimeMillis() + 60_000);
    pidSpace.tell(new PidSpace.Run(List.of(requests), deadlines, probe.getRef()));
    return probe.receiveMessage().results();
  }

  private static Result one(ActorRef<PidSpace.Command> pidSpace, Request<?> request) {
    return run(pidSpace, request).get(0);
  }

  private static Code code(Result outcome) {
    assertInstanceOf(Result.Refused.class, outcome, () -> "expected a refusal, got " + outcome);
    return ((Result.Refused) outcome).refusal().code();
  }

  private static <R extends Result> R ok(Result outcome, Class<R> kind) {
    return assertInstanceOf(kind, outcome);
  }

  private static int[] allocated(ActorRef<PidSpace.Command> pidSpace, int count) {
    return ok(one(pidSpace, new Request.Alloc(count)), Result.Pids.class).pids();
  }

  private static Code allocRefused(ActorRef<PidSpace.Command> pidSpace, int count) {
    return code(one(pidSpace, new Request.Alloc(count)));
  }

  private static void freed(ActorRef<PidSpace.Command> pidSpace, int pid) {
    FreeResult result = freeBatch(pidSpace, pid);
    assertEquals(List.of(), result.refused());
  }

  /** The router's decoding: the space gets the vpids of its own pids. */
  private static int[] vpids(int... pids) {
    return Arrays.stream(pids).map(layout::vpidOf).toArray();
  }

  private static Code freeRefused(ActorRef<PidSpace.Command> pidSpace, int pid) {
    Result outcome = one(pidSpace, new Request.Free(vpids(pid), null));
    if (outcome instanceof Result.Refused) {
      return code(outcome);
    }
    List<FreeResult.Refusal> refused = ok(outcome, Result.Freed.class).result().refused();
    assertEquals(1, refused.size(), () -> "expected a refusal, got " + outcome);
    return refused.get(0).reason().code();
  }

  private static PidInfo info(ActorRef<PidSpace.Command> pidSpace, int pid) {
    return ok(one(pidSpace, new Request.Lookup(layout.vpidOf(pid))), Result.Info.class).info();
  }

  private static Code lookupRefused(ActorRef<PidSpace.Command> pidSpace, int pid) {
    return code(one(pidSpace, new Request.Lookup(layout.vpidOf(pid))));
  }

  private static SpaceStats stats(ActorRef<PidSpace.Command> pidSpace) {
    return ok(one(pidSpace, new Request.Stats()), Result.Stats.class).stats();
  }

  private static FreeResult freeBatch(ActorRef<PidSpace.Command> pidSpace, int... pids) {
    Result outcome = one(pidSpace, new Request.Free(vpids(pids), null));
    if (outcome instanceof Result.Refused refused) {
      List<FreeResult.Refusal> all = new ArrayList<>();
      for (int pid : pids) {
        all.add(new FreeResult.Refusal(pid, refused.refusal()));
      }
      return new FreeResult(new int[0], all);
    }
    return ok(outcome, Result.Freed.class).result();
  }

  private static int[] globalPids(int space, int... vpids) {
    int[] pids = new int[vpids.length];
    for (int i = 0; i < vpids.length; i++) {
      pids[i] = layout.encode(space, vpids[i]);
    }
    return pids;
  }
}
