package io.pidspace.space;

import static io.pidspace.space.Replies.refusal;
import static io.pidspace.space.Replies.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.pattern.StatusReply;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException.Code;
import io.pidspace.core.SpaceStats;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link PidRouter} over real {@link PidSpace} actors. Shift 16 with 512 spaces leaves pids
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
      .mapToObj(id -> testKit.spawn(PidSpace.create(settings, id)))
      .toList();
  private static final ActorRef<PidRouter.Command> router = testKit.spawn(PidRouter.create(settings, spaces::get));

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
    TestProbe<StatusReply<PidSpace.Allocated>> allocs = testKit.createTestProbe();
    TestProbe<StatusReply<Done>> frees = testKit.createTestProbe();
    TestProbe<StatusReply<PidInfo>> lookups = testKit.createTestProbe();

    for (int i = 0; i < 3; i++) {
      router.tell(new PidRouter.Alloc(10, 1, allocs.getRef())); // vpids 2, 3, 4
    }
    router.tell(new PidRouter.Free(layout.encode(10, 3), frees.getRef()));
    router.tell(new PidRouter.Lookup(layout.encode(10, 3), lookups.getRef()));
    router.tell(new PidRouter.Alloc(10, 2, allocs.getRef())); // next-fit: 5, 6, not 3

    for (int vpid = 2; vpid <= 4; vpid++) {
      assertArrayEquals(new int[] {layout.encode(10, vpid)}, value(allocs).pids());
    }
    value(frees);
    assertFalse(value(lookups).allocated());
    assertArrayEquals(new int[] {layout.encode(10, 5), layout.encode(10, 6)}, value(allocs).pids());
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
    PidspaceSettings quick = PidspaceSettings.from(ConfigFactory.parseString("pidspace.ask-timeout = 300ms")
        .withFallback(ConfigFactory.parseString("pidspace { shift = 16, max-batch = " + MAX_BATCH + " }"))
        .withFallback(testKit.system().settings().config()));
    ActorRef<PidSpace.Command> silent = testKit.createTestProbe(PidSpace.Command.class).getRef();
    ActorRef<PidRouter.Command> routerWithASilentSpace =
        testKit.spawn(PidRouter.create(quick, id -> id == 16 ? silent : spaces.get(id)));
    int silentPid = (16 << layout.shift()) | 5;

    TestProbe<FreeResult> probe = testKit.createTestProbe();
    routerWithASilentSpace.tell(new PidRouter.FreeBatch(new int[] {pids[0], silentPid, pids[1]}, probe.getRef()));
    FreeResult result = probe.receiveMessage();

    assertArrayEquals(pids, Arrays.stream(result.freed()).sorted().toArray());
    assertEquals(List.of(silentPid + " unavailable"), Replies.refusals(result));
    assertEquals(0, stats(15).allocated());
  }

  // --- helpers ---

  private static void create(int space) {
    TestProbe<StatusReply<SpaceStats>> probe = testKit.createTestProbe();
    spaces.get(space).tell(new PidSpace.Create(settings.pidMax(), probe.getRef()));
    value(probe);
  }

  private static TestProbe<StatusReply<PidSpace.Allocated>> alloc(int space, int count) {
    TestProbe<StatusReply<PidSpace.Allocated>> probe = testKit.createTestProbe();
    router.tell(new PidRouter.Alloc(space, count, probe.getRef()));
    return probe;
  }

  private static int[] allocated(int space, int count) {
    return value(alloc(space, count)).pids();
  }

  private static TestProbe<StatusReply<Done>> free(int pid) {
    TestProbe<StatusReply<Done>> probe = testKit.createTestProbe();
    router.tell(new PidRouter.Free(pid, probe.getRef()));
    return probe;
  }

  private static void freed(int pid) {
    value(free(pid));
  }

  private static TestProbe<StatusReply<PidInfo>> lookup(int pid) {
    TestProbe<StatusReply<PidInfo>> probe = testKit.createTestProbe();
    router.tell(new PidRouter.Lookup(pid, probe.getRef()));
    return probe;
  }

  private static PidInfo info(int pid) {
    return value(lookup(pid));
  }

  private static TestProbe<StatusReply<SpaceStats>> getStats(int space) {
    TestProbe<StatusReply<SpaceStats>> probe = testKit.createTestProbe();
    router.tell(new PidRouter.GetStats(space, probe.getRef()));
    return probe;
  }

  private static SpaceStats stats(int space) {
    return value(getStats(space));
  }

  private static FreeResult freeBatch(int... pids) {
    TestProbe<FreeResult> probe = testKit.createTestProbe();
    router.tell(new PidRouter.FreeBatch(pids, probe.getRef()));
    return probe.receiveMessage();
  }
}
