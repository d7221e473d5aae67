package io.pidspace.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pidspace.core.PidspaceException.Code;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Exact vpids (alloc-at), holds, live pid_max and the portable image: each refusal and success. */
class PidMapExactTest {

  private static final PidLayout LAYOUT = PidLayout.DEFAULT;
  private static final int OTHER = 5;
  private static final long LATER = Long.MAX_VALUE;

  private static PidMap space(int pidMax) {
    return PidMap.create(LAYOUT, OTHER, pidMax);
  }

  private static int[] live(PidMap map) {
    IntStream.Builder live = IntStream.builder();
    map.forEachAllocated(live::add);
    return live.build().toArray();
  }

  @Test
  void allocAt_takesExactlyThoseVpids_andLeavesLastPid() {
    PidMap map = space(1000);
    PidMap.Draft run = map.draft();
    assertNull(run.allocAt(new int[] {700, 3}, 0));
    assertArrayEquals(new int[] {3, 700}, live(map));
    assertEquals(1, map.lastPid());
    assertEquals(2, map.alloc()); // next-fit goes on from where it was
    assertEquals(4, map.alloc()); // and skips what alloc-at took
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, 1000, 1 << 22})
  void allocAt_outOfRange_refusedAndChangesNothing(int vpid) {
    PidMap map = space(1000);
    PidspaceException refusal = map.draft().allocAt(new int[] {10, vpid}, 0);
    assertEquals(Code.OUT_OF_RANGE, refusal.code());
    assertTrue(refusal.getMessage().contains("1..999"), refusal.getMessage());
    assertEquals(0, map.allocated());
  }

  @Test
  void allocAt_duplicate_refused() {
    PidMap map = space(1000);
    assertEquals(Code.BAD_REQUEST, map.draft().allocAt(new int[] {10, 11, 10}, 0).code());
    assertEquals(0, map.allocated());
  }

  @Test
  void allocAt_inUse_refusedNamingTheTakenVpids_allOrNothing() {
    PidMap map = space(1000);
    map.draft().allocAt(new int[] {20, 30}, 0);
    PidspaceException refusal = map.draft().allocAt(new int[] {10, 20, 30, 40}, 0);
    assertEquals(Code.PID_IN_USE, refusal.code());
    assertEquals("vpids 20, 30 of space 5 are in use", refusal.getMessage());
    assertArrayEquals(new int[] {20, 30}, live(map));
  }

  @Test
  void allocAt_ofHeldVpid_refusedWithoutTheHold_takenWithIt() {
    PidMap map = space(1000);
    int hold = map.draft().hold(new int[] {50, 51}, LATER);
    assertEquals(Code.PID_HELD, map.draft().allocAt(new int[] {50}, 0).code());
    int other = map.draft().hold(new int[] {60}, LATER);
    assertEquals(Code.PID_HELD, map.draft().allocAt(new int[] {50}, other).code());
    assertEquals(Code.UNKNOWN_HOLD, map.draft().allocAt(new int[] {50}, 99).code());
    assertNull(map.draft().allocAt(new int[] {50, 7}, hold)); // a free unheld vpid may come along
    assertTrue(map.isHeld(51));
    assertNull(map.draft().allocAt(new int[] {51}, hold));
    assertEquals(List.of(other), map.holds().stream().map(Hold::id).toList()); // fully claimed: gone
  }

  @Test
  void hold_isSkippedByNextFit_andReleaseFreesIt() {
    PidMap map = space(1000);
    PidMap.Draft run = map.draft();
    int hold = run.hold(new int[] {2, 3}, LATER);
    assertEquals(4, map.alloc());
    assertNull(map.draft().release(hold));
    assertFalse(map.isHeld(2));
    assertEquals(5, map.alloc());
    assertEquals(Code.UNKNOWN_HOLD, map.draft().release(hold).code());
  }

  @Test
  void hold_refusals_changeNothing() {
    PidMap map = space(1000);
    map.draft().allocAt(new int[] {9}, 0);
    map.draft().hold(new int[] {8}, LATER);
    assertEquals(Code.PID_IN_USE, assertThrows(PidspaceException.class, () -> map.draft().hold(new int[] {7, 9}, LATER)).code());
    assertEquals(Code.PID_HELD, assertThrows(PidspaceException.class, () -> map.draft().hold(new int[] {7, 8}, LATER)).code());
    assertEquals(Code.OUT_OF_RANGE, assertThrows(PidspaceException.class, () -> map.draft().hold(new int[] {1000}, LATER)).code());
    assertEquals(Code.BAD_REQUEST, assertThrows(PidspaceException.class, () -> map.draft().hold(new int[] {7, 7}, LATER)).code());
    assertEquals(Code.BAD_REQUEST, assertThrows(PidspaceException.class, () -> map.draft().hold(new int[0], LATER)).code());
    assertEquals(1, map.holds().size());
    assertFalse(map.isHeld(7));
  }

  @Test
  void expireHolds_releasesOnlyThoseWhoseTimeIsUp() {
    PidMap map = space(1000);
    PidMap.Draft run = map.draft();
    int early = run.hold(new int[] {2}, 100);
    int late = run.hold(new int[] {3}, 200);
    PidMap.Draft expiry = map.draft();
    expiry.expireHolds(150);
    assertEquals(List.of(new PidMap.HoldReleased(early)), expiry.records());
    assertEquals(List.of(late), map.holds().stream().map(Hold::id).toList());
    assertEquals(2, map.alloc());
  }

  @Test
  void setPidMax_raisesAndLowers_nextFitUsesTheNewBound() {
    PidMap map = space(400);
    map.draft().allocAt(new int[] {399}, 0);
    assertEquals(Code.PID_IN_USE, assertThrows(PidspaceException.class, () -> map.draft().setPidMax(399)).code());
    map.draft().setPidMax(5000);
    assertEquals(5000, map.pidMax());
    assertNull(map.draft().allocAt(new int[] {4999}, 0));
    PidspaceException refusal = assertThrows(PidspaceException.class, () -> map.draft().setPidMax(4000));
    assertEquals("pid_max of space 5 can go down to 5000 at the lowest: vpid 4999 is allocated", refusal.getMessage());
    map.free(4999);
    map.free(399);
    int held = map.draft().hold(new int[] {450}, LATER);
    assertEquals(Code.PID_HELD, assertThrows(PidspaceException.class, () -> map.draft().setPidMax(450)).code());
    map.draft().release(held);
    map.draft().setPidMax(301);
    assertEquals(2, map.alloc());
    assertEquals(Code.OUT_OF_RANGE, assertThrows(PidspaceException.class, () -> map.draft().setPidMax(300)).code());
    assertEquals(Code.OUT_OF_RANGE,
        assertThrows(PidspaceException.class, () -> map.draft().setPidMax(LAYOUT.pidMaxLimit() + 1)).code());
  }

  @Test
  void setPidMax_belowLastPid_wrapsNextFitToTheReservedFloor() {
    PidMap map = space(1000);
    int[] vpids = new int[400];
    map.alloc(400, vpids);
    for (int v : vpids) {
      map.free(v);
    }
    map.draft().setPidMax(301);
    assertEquals(300, map.lastPid());
    assertEquals(1, map.alloc());
  }

  @Test
  void reuseDelay_keepsFreedVpidsFromNextFitUntilTheirTime_allocAtMayTakeThem() {
    PidMap map = space(301);
    PidMap.Draft setup = map.draft();
    setup.at(1_000);
    setup.setReuseDelay(500);
    int[] all = new int[299];
    assertEquals(299, map.alloc(299, all)); // vpids 2..300
    PidMap.Draft run = map.draft();
    run.at(1_000);
    assertNull(run.free(100));
    assertNull(run.free(7));
    assertEquals(1, map.alloc()); // not 7 nor 100: they cool down until 1,500
    assertEquals(PidMap.NONE, map.alloc());
    List<PidMap.Step> record = run.records();
    assertEquals("Cooled [100, 7] until [1500, 1500]", record.stream().filter(s -> s instanceof PidMap.Cooled)
        .map(s -> "Cooled " + Arrays.toString(((PidMap.Cooled) s).vpids()) + " until "
            + Arrays.toString(((PidMap.Cooled) s).until())).findFirst().orElseThrow());
    PidMap.Draft later = map.draft();
    later.at(1_500);
    assertEquals(7, map.alloc());
    assertNull(later.free(7));
    assertNull(later.allocAt(new int[] {7}, 0)); // an exact request may take a cooling vpid

    assertEquals(Code.OUT_OF_RANGE, assertThrows(PidspaceException.class, () -> map.draft().setReuseDelay(-1)).code());
    assertEquals(Code.OUT_OF_RANGE,
        assertThrows(PidspaceException.class, () -> map.draft().setReuseDelay(PidMap.MAX_REUSE_DELAY + 1)).code());
  }

  @Test
  void reuseDelay_rollsBack_replays_andTravelsInTheImage() {
    PidMap map = space(1000);
    map.alloc(10, new int[10]); // 2..11
    PidMap.Draft run = map.draft();
    run.at(0);
    run.setReuseDelay(1_000);
    run.free(5);
    List<PidMap.Step> record = run.records();
    run.rollback();
    assertEquals(0, map.reuseDelay());
    assertEquals(0, map.cooling()[0].length);
    replay(map, record);
    assertEquals(1_000, map.reuseDelay());
    assertArrayEquals(new long[] {5}, map.cooling()[0]);
    PidMap copy = PidMap.fromImage(LAYOUT, 9, map.image());
    assertEquals(1_000, copy.reuseDelay());
    assertArrayEquals(map.cooling()[1], copy.cooling()[1]);
    int[] next = new int[990];
    int[] copyNext = new int[990];
    assertEquals(map.alloc(990, next), copy.alloc(990, copyNext));
    assertArrayEquals(next, copyNext);
  }

  @Test
  void reconcile_reportsLeakedAndUnknown_andFreesALeakOnlyAfterItWasLeakedInTheLastReportsToo() {
    PidMap map = space(1000);
    map.alloc(5, new int[5]); // 2..6
    int[] alive = {2, 3, 4, 50};
    for (int report = 1; report <= 3; report++) {
      Reconciled r = map.draft().reconcile(alive, 3);
      assertArrayEquals(new int[] {5, 6}, r.leaked());
      assertArrayEquals(new int[] {50}, r.unknown());
      assertArrayEquals(new int[0], r.freed(), "report " + report + ": fewer than 3 reports before it");
    }
    map.draft().reconcile(new int[] {2, 3, 4, 6}, 0); // 6 is alive in this one: its count starts again
    map.draft().reconcile(alive, 0);
    map.draft().reconcile(alive, 0);
    PidMap.Draft run = map.draft();
    Reconciled applied = run.reconcile(alive, 3);
    assertArrayEquals(new int[] {5}, applied.freed());
    List<PidMap.Step> record = run.records();
    assertEquals(1, record.size());
    assertArrayEquals(new int[] {-5}, ((PidMap.Pids) record.get(0)).changes()); // stored as a plain free
    assertFalse(map.isAllocated(5));
    assertTrue(map.isAllocated(6));
    assertArrayEquals(new int[0], map.draft().reconcile(alive, 0).freed()); // without apply: a report only

    assertEquals(Code.OUT_OF_RANGE, assertThrows(PidspaceException.class, () -> map.draft().reconcile(new int[] {1000}, 0)).code());
    assertEquals(Code.OUT_OF_RANGE, assertThrows(PidspaceException.class, () -> map.draft().reconcile(new int[] {0}, 0)).code());
    assertEquals(Code.BAD_REQUEST, assertThrows(PidspaceException.class, () -> map.draft().reconcile(new int[] {2, 2}, 0)).code());
  }

  @Test
  void run_rollsBackAllocAtHoldsAndPidMax_andItsRecordReplays() {
    PidMap map = space(1000);
    int kept = map.draft().hold(new int[] {100, 101}, LATER);
    map.alloc(); // its page exists before the run: a rollback keeps created pages
    SpaceStats before = map.stats();
    String holdsBefore = holds(map);
    PidMap.Draft run = map.draft();
    run.alloc(2, new int[2]);
    assertNull(run.allocAt(new int[] {100}, kept));
    int added = run.hold(new int[] {200}, LATER);
    run.setPidMax(2000);
    assertNull(run.free(2));
    assertNull(run.release(added));
    List<PidMap.Step> record = run.records();
    run.rollback();
    assertEquals(before, map.stats());
    assertEquals(holdsBefore, holds(map));
    replay(map, record);
    assertEquals(2000, map.pidMax());
    assertArrayEquals(new int[] {3, 4, 100}, live(map));
    assertEquals("[101]", map.holds().stream().map(h -> Arrays.toString(h.vpids())).toList().get(0));
    assertEquals(2, map.lastHold());
  }

  private static String holds(PidMap map) {
    return map.holds().stream().map(h -> h.id() + Arrays.toString(h.vpids()) + h.expiresAt()).toList().toString();
  }

  static void replay(PidMap map, List<PidMap.Step> record) {
    for (PidMap.Step step : record) {
      if (step instanceof PidMap.Pids p) {
        map.apply(p.changes());
      } else if (step instanceof PidMap.HoldPlaced h) {
        map.applyHold(h.hold());
      } else if (step instanceof PidMap.HoldReleased r) {
        map.applyRelease(r.hold());
      } else if (step instanceof PidMap.PidMaxSet m) {
        map.applyPidMax(m.pidMax());
      } else if (step instanceof PidMap.ReuseDelaySet d) {
        map.applyReuseDelay(d.reuseDelay());
      } else if (step instanceof PidMap.Cooled c) {
        map.applyCooled(c.vpids(), c.until());
      }
    }
  }

  @Test
  void image_roundTrips_andTheCopyHandsOutWhatTheSourceWould() {
    PidMap map = PidMap.create(LAYOUT, OTHER, 4_194_304);
    map.alloc(100_000, new int[100_000]);
    map.draft().allocAt(new int[] {4_000_000}, 0);
    map.draft().hold(new int[] {100_002, 100_003}, LATER);
    SpaceImage image = map.image();
    PidMap copy = PidMap.fromImage(LAYOUT, 9, image);
    assertEquals(map.allocated(), copy.allocated());
    assertEquals(map.lastPid(), copy.lastPid());
    assertEquals(holds(map), holds(copy));
    int[] next = new int[1000];
    int[] copyNext = new int[1000];
    map.alloc(1000, next);
    copy.alloc(1000, copyNext);
    assertArrayEquals(next, copyNext);
    assertEquals(map.draft().hold(new int[] {4_100_000}, LATER), copy.draft().hold(new int[] {4_100_000}, LATER));
  }

  @Test
  void fromImage_refusesWhatCannotDescribeASpace() {
    PidMap map = space(1000);
    map.draft().allocAt(new int[] {10}, 0);
    SpaceImage good = map.image();
    List<SpaceImage> bad = List.of(
        new SpaceImage(2, 22, 1000, 1, good.allocated(), List.of(), 0, 0, null, null),
        new SpaceImage(1, 20, 1000, 1, good.allocated(), List.of(), 0, 0, null, null),
        new SpaceImage(1, 22, 1000, 1000, good.allocated(), List.of(), 0, 0, null, null),
        new SpaceImage(1, 22, 10, 1, good.allocated(), List.of(), 0, 0, null, null),
        new SpaceImage(1, 22, 1000, 1, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, List.of(), 0, 0, null, null),
        new SpaceImage(1, 22, 1000, 1, new byte[] {0x3a, 0x30, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}, List.of(), 0, 0, null, null),
        new SpaceImage(1, 22, 1000, 1, null, List.of(), 0, 0, null, null),
        new SpaceImage(1, 22, 5, 1, good.allocated(), List.of(), 0, 0, null, null),
        new SpaceImage(1, 22, 1000, 1, good.allocated(), List.of(new Hold(1, new int[] {10}, LATER)), 1, 0, null, null),
        new SpaceImage(1, 22, 1000, 1, good.allocated(), List.of(new Hold(2, new int[] {11}, LATER)), 1, 0, null, null),
        new SpaceImage(1, 22, 1000, 1, good.allocated(),
            List.of(new Hold(1, new int[] {11}, LATER), new Hold(2, new int[] {11}, LATER)), 2, 0, null, null),
        new SpaceImage(1, 22, 1000, 1, good.allocated(), null, 0, 0, null, null),
        new SpaceImage(1, 22, 1000, 1, good.allocated(), List.of(), 0, -1, null, null),
        new SpaceImage(1, 22, 1000, 1, good.allocated(), List.of(), 0, 0, new int[] {5}, new long[0]),
        new SpaceImage(1, 22, 1000, 1, good.allocated(), List.of(), 0, 0, new int[] {1000}, new long[] {1}));
    for (SpaceImage image : bad) {
      PidspaceException refusal = assertThrows(PidspaceException.class, () -> PidMap.fromImage(LAYOUT, 9, image));
      assertTrue(refusal.code() == Code.BAD_REQUEST || refusal.code() == Code.OUT_OF_RANGE, refusal.refusal().toString());
    }
    PidMap ok = PidMap.fromImage(LAYOUT, 9, good);
    assertArrayEquals(new int[] {10}, live(ok));
  }

  @Test
  void fromImage_refusesAVpidBeyondPidMax() {
    PidMap big = space(2000);
    big.draft().allocAt(new int[] {1500}, 0);
    SpaceImage image = big.image();
    SpaceImage lowered = new SpaceImage(1, 22, 1000, 1, image.allocated(), List.of(), 0, 0, null, null);
    assertEquals(Code.BAD_REQUEST, assertThrows(PidspaceException.class, () -> PidMap.fromImage(LAYOUT, 9, lowered)).code());
  }
}
