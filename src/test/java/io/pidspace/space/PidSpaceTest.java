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
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The protocol of one {@link PidSpace}, spoken directly with probes (no registry, no router). */
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
    ActorRef<PidSpace.Command> pidSpace = testKit.spawn(PidSpace.create(settings, space));

    assertEquals(Code.UNKNOWN_SPACE, allocRefused(pidSpace, 1));
    assertEquals(Code.UNKNOWN_SPACE, freeRefused(pidSpace, layout.encode(space, 2)));
    assertEquals(Code.UNKNOWN_SPACE, lookupRefused(pidSpace, layout.encode(space, 2)));
    TestProbe<StatusReply<SpaceStats>> stats = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.GetStats(stats.getRef()));
    assertEquals(Code.UNKNOWN_SPACE, refusal(stats));
    FreeResult batch = freeBatch(pidSpace, layout.encode(space, 2), layout.encode(space, 3));
    assertEquals(0, batch.freed().length);
    assertEquals(List.of(layout.encode(space, 2) + " unknown-space", layout.encode(space, 3) + " unknown-space"),
        Replies.refusals(batch));
  }

  @Test
  void create_startsFreshSpaceWhoseFirstPidIsVpid2() {
    int space = 2;
    ActorRef<PidSpace.Command> pidSpace = testKit.spawn(PidSpace.create(settings, space));

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
  void alloc_countZeroNegativeOrAboveMaxBatch_isBadRequestAndChangesNothing() {
    ActorRef<PidSpace.Command> pidSpace = created(4);

    assertEquals(Code.BAD_REQUEST, allocRefused(pidSpace, 0));
    assertEquals(Code.BAD_REQUEST, allocRefused(pidSpace, -1));
    assertEquals(Code.BAD_REQUEST, allocRefused(pidSpace, MAX_BATCH + 1));
    assertEquals(new SpaceStats(4, settings.pidMax(), 0, 1, 0), stats(pidSpace));
    assertEquals(MAX_BATCH, allocated(pidSpace, MAX_BATCH).length);
  }

  @Test
  void alloc_whenFull_isExhaustedAndBatchStopsEarly() {
    int space = 5;
    ActorRef<PidSpace.Command> pidSpace = testKit.spawn(PidSpace.create(settings, space));
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
    ActorRef<PidSpace.Command> pidSpace = testKit.spawn(PidSpace.create(settings, space));
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

    TestProbe<StatusReply<Done>> destroyed = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Destroy(destroyed.getRef()));
    value(destroyed);

    assertEquals(Code.UNKNOWN_SPACE, allocRefused(pidSpace, 1));
    assertEquals(Code.UNKNOWN_SPACE, freeRefused(pidSpace, pid));
    assertEquals(Code.UNKNOWN_SPACE, lookupRefused(pidSpace, pid));

    assertEquals(new SpaceStats(space, 2_000, 0, 1, 0), create(pidSpace, 2_000));
    assertFalse(info(pidSpace, pid).allocated());
    assertArrayEquals(globalPids(space, 2), allocated(pidSpace, 1));
  }

  @Test
  void create_ofExistingSpace_makesItFresh() {
    int space = 10;
    ActorRef<PidSpace.Command> pidSpace = created(space);
    allocated(pidSpace, 10);

    assertEquals(new SpaceStats(space, settings.pidMax(), 0, 1, 0), create(pidSpace, settings.pidMax()));
    assertArrayEquals(globalPids(space, 2), allocated(pidSpace, 1));
  }

  @Test
  void defaultSpace_existsFromStartAndCannotBeCreatedOrDestroyed() {
    ActorRef<PidSpace.Command> spaceZero = testKit.spawn(PidSpace.create(settings, PidLayout.DEFAULT_SPACE));

    assertEquals(new SpaceStats(0, settings.pidMax(), 0, 0, 1), stats(spaceZero));
    TestProbe<StatusReply<SpaceStats>> created = testKit.createTestProbe();
    spaceZero.tell(new PidSpace.Create(settings.pidMax(), created.getRef()));
    assertEquals(Code.DEFAULT_SPACE, refusal(created));
    TestProbe<StatusReply<Done>> destroyed = testKit.createTestProbe();
    spaceZero.tell(new PidSpace.Destroy(destroyed.getRef()));
    assertEquals(Code.DEFAULT_SPACE, refusal(destroyed));

    assertArrayEquals(new int[] {1, 2}, allocated(spaceZero, 2), "space 0 starts at vpid 1: vpid 0 is taken");
    assertEquals(Code.RESERVED_PID, freeRefused(spaceZero, 0));
    assertEquals(2, stats(spaceZero).allocated());
  }

  // --- helpers: one request, its answer ---

  private static ActorRef<PidSpace.Command> created(int space) {
    ActorRef<PidSpace.Command> pidSpace = testKit.spawn(PidSpace.create(settings, space));
    create(pidSpace, settings.pidMax());
    return pidSpace;
  }

  private static SpaceStats create(ActorRef<PidSpace.Command> pidSpace, int pidMax) {
    TestProbe<StatusReply<SpaceStats>> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Create(pidMax, probe.getRef()));
    return value(probe);
  }

  private static int[] allocated(ActorRef<PidSpace.Command> pidSpace, int count) {
    TestProbe<StatusReply<PidSpace.Allocated>> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Alloc(count, probe.getRef()));
    return value(probe).pids();
  }

  private static Code allocRefused(ActorRef<PidSpace.Command> pidSpace, int count) {
    TestProbe<StatusReply<PidSpace.Allocated>> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Alloc(count, probe.getRef()));
    return refusal(probe);
  }

  private static void freed(ActorRef<PidSpace.Command> pidSpace, int pid) {
    TestProbe<StatusReply<Done>> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Free(pid, probe.getRef()));
    value(probe);
  }

  private static Code freeRefused(ActorRef<PidSpace.Command> pidSpace, int pid) {
    TestProbe<StatusReply<Done>> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Free(pid, probe.getRef()));
    return refusal(probe);
  }

  private static PidInfo info(ActorRef<PidSpace.Command> pidSpace, int pid) {
    TestProbe<StatusReply<PidInfo>> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Lookup(pid, probe.getRef()));
    return value(probe);
  }

  private static Code lookupRefused(ActorRef<PidSpace.Command> pidSpace, int pid) {
    TestProbe<StatusReply<PidInfo>> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.Lookup(pid, probe.getRef()));
    return refusal(probe);
  }

  private static SpaceStats stats(ActorRef<PidSpace.Command> pidSpace) {
    TestProbe<StatusReply<SpaceStats>> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.GetStats(probe.getRef()));
    return value(probe);
  }

  private static FreeResult freeBatch(ActorRef<PidSpace.Command> pidSpace, int... pids) {
    TestProbe<FreeResult> probe = testKit.createTestProbe();
    pidSpace.tell(new PidSpace.FreeBatch(pids, probe.getRef()));
    return probe.receiveMessage();
  }

  private static int[] globalPids(int space, int... vpids) {
    int[] pids = new int[vpids.length];
    for (int i = 0; i < vpids.length; i++) {
      pids[i] = layout.encode(space, vpids[i]);
    }
    return pids;
  }
}
