package io.pidspace.space;

import static io.pidspace.Stages.refusal;
import static io.pidspace.Stages.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException.Code;
import io.pidspace.core.SpaceStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link PidRouter} and its {@link Coalescer}s over real {@link PidSpace} actors. Shift 16 with 512 spaces leaves pids
 * from {@code 512 << 16} up to {@code Integer.MAX_VALUE} outside every space: out of range.
 */
class PidRouterTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final int MAX_BATCH = 100;
  private static final PidspaceSettings settings = PidspaceSettings.from(ConfigFactory
      .parseString("pidspace { shift = 16, max-batch = " + MAX_BATCH + " }")
      .withFallback(testKit.system().settings().config()));
  private static final PidLayout layout = settings.layout();
  private static final int PID_LIMIT = layout.maxSpaces() << layout.shift();
  private static final List<ActorRef<PidSpace.Command>> spaces = IntStream.range(0, layout.maxSpaces())
      .mapToObj(id -> testKit.spawn(PidSpace.create(settings, id, false)))
      .toList();
  private static final PidRouter router = new PidRouter(testKit.system(), settings, spaces::get);
  private static final AtomicLong generations = new AtomicLong();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void alloc_answersGlobalPidsOfThatSpace() {
    create(3);

    assertArrayEquals(new int[] {(3 << 16) | 2, (3 << 16) | 3}, allocated(3, 2));
    assertArrayEquals(new int[] {1}, allocated(PidLayout.DEFAULT_SPACE, 1), "in space 0 the global pid is the vpid");
  }

  @Test
  void lookup_decodesSpaceAndVpidByShift() {
    create(4);
    int pid = allocated(4, 1)[0];

    assertEquals(new PidInfo(pid, 4, 2, true), info(pid));
    assertEquals(new PidInfo((4 << 16) | 999, 4, 999, false), info((4 << 16) | 999));
  }

  @Test
  void free_reachesOnlyTheSpaceThePidDecodesTo() {
    create(5);
    create(6);
    int inFive = allocated(5, 1)[0];
    int inSix = allocated(6, 1)[0];

    freed(inSix);

    assertTrue(info(inFive).allocated(), "same vpid in space 5 untouched");
    assertFalse(info(inSix).allocated());
    assertEquals(1, stats(5).allocated());
    assertEquals(0, stats(6).allocated());
  }

  @Test
  void freeAndLookup_pidOutsideEverySpace_isOutOfRange() {
    for (int pid : new int[] {-1, Integer.MIN_VALUE, PID_LIMIT, Integer.MAX_VALUE}) {
      assertEquals(Code.OUT_OF_RANGE, refusal(free(pid)), "free " + pid);
      assertEquals(Code.OUT_OF_RANGE, refusal(lookup(pid)), "lookup " + pid);
    }
  }

  @Test
  void allocAndStats_spaceOutsideLayout_isOutOfRange() {
    for (int space : new int[] {-1, layout.maxSpaces(), Integer.MAX_VALUE}) {
      assertEquals(Code.OUT_OF_RANGE, refusal(alloc(space, 1)), "alloc " + space);
      assertEquals(Code.OUT_OF_RANGE, refusal(getStats(space)), "stats " + space);
    }
  }

  @Test
  void everyRequest_toSpaceNeverCreated_isUnknownSpace() {
    int space = 9;
    int pid = layout.encode(space, 2);

    assertEquals(Code.UNKNOWN_SPACE, refusal(alloc(space, 1)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(free(pid)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(lookup(pid)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(getStats(space)));
  }

  @Test
  void requests_fromOneCaller_reachTheSpaceInOrder() {
    create(10);
    List<CompletableFuture<int[]>> allocs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      allocs.add(router.alloc(10, 1)); // vpids 2, 3, 4
    }
    CompletableFuture<Done> free = router.free(layout.encode(10, 3));
    CompletableFuture<PidInfo> lookup = router.lookup(layout.encode(10, 3));
    allocs.add(router.alloc(10, 2)); // next-fit: 5, 6, not 3

    for (int vpid = 2; vpid <= 4; vpid++) {
      assertArrayEquals(new int[] {layout.encode(10, vpid)}, value(allocs.get(vpid - 2)));
    }
    value(free);
    assertFalse(value(lookup).allocated());
    assertArrayEquals(new int[] {layout.encode(10, 5), layout.encode(10, 6)}, value(allocs.get(3)));
  }

  /**
   * A caller that asks again from inside its answer (a chain composed on the answers) joins the
   * very next run, together with what arrived while the last one was stored.
   */
  @Test
  void nextRun_carriesWhatTheAnswersPromptedAndWhatWaited() {
    TestProbe<PidSpace.Command> space = testKit.createTestProbe();
    PidRouter probed = new PidRouter(testKit.system(), settings, id -> space.getRef());
    List<CompletableFuture<int[]>> chained = new ArrayList<>();
    CompletableFuture<int[]> first = probed.alloc(1, 1);
    first.thenRun(() -> chained.add(probed.alloc(1, 3)));
    PidSpace.Run run1 = space.expectMessageClass(PidSpace.Run.class);
    CompletableFuture<int[]> waiting = probed.alloc(1, 2); // arrives while run 1 is out

    run1.replyTo().tell(new PidSpace.Results(List.of(allocatedOutcome(2))));
    PidSpace.Run run2 = space.expectMessageClass(PidSpace.Run.class);

    assertEquals(List.of(new Request.Alloc(2), new Request.Alloc(3)), run2.requests());
    run2.replyTo().tell(new PidSpace.Results(List.of(allocatedOutcome(3, 4), allocatedOutcome(5, 6, 7))));
    assertArrayEquals(new int[] {3, 4}, value(waiting));
    assertArrayEquals(new int[] {5, 6, 7}, value(chained.get(0)));
    space.expectNoMessage(Duration.ofMillis(100));
  }

  private static Result allocatedOutcome(int... pids) {
    return new Result.Pids(pids, new int[pids.length]);
  }

  /** The router checks a count once, where it enters: the space trusts it. */
  @Test
  void alloc_countZeroNegativeOrAboveMaxBatch_isBadRequestAndChangesNothing() {
    create(19);

    assertEquals(Code.BAD_REQUEST, refusal(alloc(19, 0)));
    assertEquals(Code.BAD_REQUEST, refusal(alloc(19, -1)));
    assertEquals(Code.BAD_REQUEST, refusal(alloc(19, MAX_BATCH + 1)));
    assertEquals(new SpaceStats(19, settings.pidMax(), 0, 1, 0), stats(19));
    assertEquals(MAX_BATCH, allocated(19, MAX_BATCH).length);
  }

  @Test
  void freeBatch_acrossSpaces_freesValidPidsOnceAndListsEveryRefusal() {
    create(11);
    create(12);
    int[] a = allocated(11, 3);
    int[] b = allocated(12, 2);
    int unknownSpacePid = layout.encode(13, 2);
    int reserved = layout.encode(12, 0);

    FreeResult result = freeBatch(a[0], b[0], -5, a[1], unknownSpacePid, a[0], PID_LIMIT, reserved, b[1], b[1]);

    int[] freed = result.freed().clone();
    Arrays.sort(freed);
    assertArrayEquals(new int[] {a[0], a[1], b[0], b[1]}, freed);
    assertEquals(
        Stream.of(-5 + " out-of-range", a[0] + " not-allocated", b[1] + " not-allocated",
            reserved + " reserved-pid", PID_LIMIT + " out-of-range", unknownSpacePid + " unknown-space").sorted().toList(),
        Replies.refusals(result).stream().sorted().toList());
    assertEquals(1, stats(11).allocated());
    assertTrue(info(a[2]).allocated());
    assertEquals(0, stats(12).allocated());
  }

  @Test
  void freeBatch_onlyInvalidOrEmpty_answersWithoutFreeing() {
    assertEquals(new FreeResult(new int[0], List.of()), freeBatch());
    assertEquals(List.of(-1 + " out-of-range", PID_LIMIT + " out-of-range"), Replies.refusals(freeBatch(-1, PID_LIMIT)));
  }

  @Test
  void freeBatch_aboveMaxBatch_refusesEveryPidAndFreesNothing() {
    create(14);
    int[] pids = allocated(14, MAX_BATCH);
    int[] tooMany = Arrays.copyOf(pids, MAX_BATCH + 1);
    tooMany[MAX_BATCH] = pids[0];

    FreeResult result = freeBatch(tooMany);

    assertEquals(0, result.freed().length);
    assertEquals(MAX_BATCH + 1, result.refused().size());
    assertTrue(result.refused().stream().allMatch(r -> r.code().equals(Code.BAD_REQUEST.wire())));
    assertEquals(MAX_BATCH, stats(14).allocated());
  }

  @Test
  void freeBatch_aSpaceThatNeverAnswers_isRefusedAsUnavailable_theOthersAreFreed() {
    create(15);
    int[] pids = allocated(15, 2);
    ActorRef<PidSpace.Command> silent = testKit.createTestProbe(PidSpace.Command.class).getRef();
    PidRouter withASilentSpace = new PidRouter(testKit.system(), quick(100), id -> id == 16 ? silent : spaces.get(id));
    int silentPid = (16 << layout.shift()) | 5;

    FreeResult result = value(withASilentSpace.free(new int[] {pids[0], silentPid, pids[1]}));

    assertArrayEquals(pids, Arrays.stream(result.freed()).sorted().toArray());
    assertEquals(List.of(silentPid + " unavailable"), Replies.refusals(result));
    assertEquals(0, stats(15).allocated());
  }

  @Test
  void coalescer_fullQueue_answersOverloadedAtOnce() {
    TestProbe<PidSpace.Command> space = testKit.createTestProbe(PidSpace.Command.class);
    PidRouter router = new PidRouter(testKit.system(), quick(2), id -> space.getRef());

    CompletableFuture<int[]> inFlight = router.alloc(17, 1);
    space.expectMessageClass(PidSpace.Run.class);
    CompletableFuture<int[]> queued1 = router.alloc(17, 1);
    CompletableFuture<int[]> queued2 = router.alloc(17, 1);

    assertEquals(Code.OVERLOADED, refusal(router.alloc(17, 1)));
    assertFalse(queued1.isDone() || queued2.isDone() || inFlight.isDone());
  }

  @Test
  void coalescer_requestWhoseCallerGaveUp_isNeverSent() throws InterruptedException {
    TestProbe<PidSpace.Command> space = testKit.createTestProbe(PidSpace.Command.class);
    PidspaceSettings slow = PidspaceSettings.from(ConfigFactory.parseString("pidspace.ask-timeout = 4s")
        .withFallback(testKit.system().settings().config()));
    PidRouter router = new PidRouter(testKit.system(), slow, id -> space.getRef());

    CompletableFuture<int[]> first = router.alloc(18, 1);
    PidSpace.Run run = space.expectMessageClass(PidSpace.Run.class);
    CompletableFuture<int[]> late = router.alloc(18, 1);
    // past the queued request's 4 s deadline, and well before the first run's 6 s timeout
    Thread.sleep(4_500);
    run.replyTo().tell(new PidSpace.Results(List.of(new Result.Pids(new int[] {7}, new int[] {1}))));

    assertArrayEquals(new int[] {7}, value(first));
    assertEquals(Code.UNAVAILABLE, refusal(late));
    space.expectNoMessage(Duration.ofMillis(300));
  }

  /** Settings with a short ask-timeout and {@code maxQueue}. */
  private static PidspaceSettings quick(int maxQueue) {
    return PidspaceSettings.from(ConfigFactory.parseString("pidspace { ask-timeout = 500ms, max-queue = " + maxQueue + " }")
        .withFallback(ConfigFactory.parseString("pidspace { shift = 16, max-batch = " + MAX_BATCH + " }"))
        .withFallback(testKit.system().settings().config()));
  }

  // --- helpers ---

  private static void create(int space) {
    TestProbe<PidSpace.Status> probe = testKit.createTestProbe();
    spaces.get(space).tell(new PidSpace.Create(generations.incrementAndGet(), settings.pidMax(), probe.getRef()));
    assertTrue(probe.receiveMessage().exists());
  }

  private static CompletableFuture<int[]> alloc(int space, int count) {
    return router.alloc(space, count);
  }

  private static int[] allocated(int space, int count) {
    return value(alloc(space, count));
  }

  private static CompletableFuture<Done> free(int pid) {
    return router.free(pid);
  }

  private static void freed(int pid) {
    value(free(pid));
  }

  private static CompletableFuture<PidInfo> lookup(int pid) {
    return router.lookup(pid);
  }

  private static PidInfo info(int pid) {
    return value(lookup(pid));
  }

  private static CompletableFuture<SpaceStats> getStats(int space) {
    return router.stats(space);
  }

  private static SpaceStats stats(int space) {
    return value(getStats(space));
  }

  private static FreeResult freeBatch(int... pids) {
    return value(router.free(pids));
  }
}
