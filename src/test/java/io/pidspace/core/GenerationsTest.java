package io.pidspace.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pidspace.core.PidspaceException.Code;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each vpid's generation: bumped by every allocation, undone with a run, replayed, carried by the image. */
class GenerationsTest {

  private static final PidLayout LAYOUT = PidLayout.DEFAULT;
  private static final int OTHER = 5;

  private static PidMap space(int pidMax) {
    return PidMap.create(LAYOUT, OTHER, pidMax);
  }

  @Test
  void nextFitAndAllocAt_bumpTheGeneration_freeKeepsIt() {
    PidMap map = space(301);
    assertEquals(0, map.generation(2));
    assertEquals(2, map.alloc());
    assertEquals(1, map.generation(2));
    map.free(2);
    assertEquals(1, map.generation(2));
    PidMap.Draft run = map.draft();
    assertNull(run.allocAt(new int[] {2}, 0));
    assertEquals(2, map.generation(2));
    int[] out = new int[3];
    assertEquals(3, run.alloc(3, out)); // 3, 4 and 5: 2 is taken
    assertEquals(1, map.generation(3));
    assertEquals(1, map.generation(5));
  }

  @Test
  void freeNamingAnotherGeneration_isRefusedStale_andChangesNothing() {
    PidMap map = space(301);
    PidMap.Draft run = map.draft();
    run.alloc(1, new int[1]);
    int first = map.generation(2);
    assertNull(run.free(2, first));
    assertNull(run.allocAt(new int[] {2}, 0)); // the ABA: the same vpid again
    assertEquals(first + 1, map.generation(2));
    PidspaceException stale = run.free(2, first);
    assertEquals(Code.STALE_HANDLE, stale.code());
    assertTrue(map.isAllocated(2));
    int size = run.size();
    assertNull(run.free(2, first + 1));
    assertEquals(size + 1, run.size());
    assertFalse(map.isAllocated(2));
    assertEquals(Code.NOT_ALLOCATED, run.free(2, first + 1).code()); // not allocated comes first
  }

  @Test
  void freeNamingNoGeneration_isUnchecked() {
    PidMap map = space(301);
    map.alloc();
    assertNull(map.draft().free(2, 0));
  }

  @Test
  void rollback_restoresTheGenerations() {
    PidMap map = space(301);
    map.alloc();
    PidMap.Draft run = map.draft();
    run.free(2);
    run.allocAt(new int[] {2, 50}, 0);
    assertTrue(run.take(60));
    run.alloc(2, new int[2]);
    run.rollback();
    assertEquals(1, map.generation(2));
    assertEquals(0, map.generation(50));
    assertEquals(0, map.generation(60));
    assertEquals(0, map.generation(61));
  }

  @Test
  void replay_reproducesTheGenerations_andACorruptRecordChangesThemNot() {
    PidMap live = space(301);
    PidMap.Draft run = live.draft();
    run.alloc(3, new int[3]);
    run.free(3);
    run.allocAt(new int[] {3, 70}, 0);
    assertTrue(run.take(80)); // a leaked-reservation mark bumps as an alloc would
    int[] changes = run.changes();
    PidMap replayed = space(301);
    replayed.apply(changes);
    for (int v : new int[] {2, 3, 4, 70, 80}) {
      assertEquals(live.generation(v), replayed.generation(v), "vpid " + v);
    }
    assertEquals(2, replayed.generation(3));
    assertThrows(IllegalStateException.class, () -> replayed.apply(new int[] {90, -3, 70}));
    assertEquals(0, replayed.generation(90));
  }

  @Test
  void image_carriesTheGenerations() {
    PidMap map = space(40_000);
    PidMap.Draft run = map.draft();
    run.alloc(3, new int[3]);
    for (int i = 0; i < 200; i++) { // a generation above one varint byte
      run.free(3);
      run.allocAt(new int[] {3}, 0);
    }
    run.allocAt(new int[] {39_000}, 0);
    PidMap copy = PidMap.fromImage(LAYOUT, OTHER, map.image());
    for (int v : new int[] {2, 3, 4, 39_000}) {
      assertEquals(map.generation(v), copy.generation(v), "vpid " + v);
    }
    assertEquals(201, copy.generation(3));
  }

  /**
   * A free vpid keeps its count through an image (a snapshot, an export): else its next holder
   * would be answered generation 1 again, and a handle from before the image would free its pid.
   */
  @Test
  void image_carriesTheGenerationsOfFreeVpids_soAnOldHandleStaysStale() {
    PidMap map = space(301);
    PidMap.Draft run = map.draft();
    run.alloc(1, new int[1]); // vpid 2, generation 1: the old handle
    assertNull(run.free(2, 1));
    PidMap copy = PidMap.fromImage(LAYOUT, OTHER, map.image());
    assertEquals(1, copy.generation(2), "free, and still counted");
    PidMap.Draft after = copy.draft();
    after.allocAt(new int[] {2}, 0);
    assertEquals(2, copy.generation(2));
    assertEquals(Code.STALE_HANDLE, after.free(2, 1).code());
  }

  @Test
  void imageWithoutGenerations_readsUnknown_anyGenerationFrees_untilAllocatedAgain() {
    PidMap map = space(301);
    map.alloc();
    map.alloc();
    SpaceImage image = map.image();
    SpaceImage old = new SpaceImage(image.format(), image.shift(), image.pidMax(), image.lastPid(), image.allocated(),
        image.holds(), image.lastHold(), image.reuseDelay(), image.cooling(), image.coolingUntil());
    PidMap upgraded = PidMap.fromImage(LAYOUT, OTHER, old);
    assertEquals(0, upgraded.generation(2));
    PidMap.Draft run = upgraded.draft();
    assertNull(run.free(2, 7));
    run.allocAt(new int[] {2}, 0);
    assertEquals(1, upgraded.generation(2));
    assertEquals(Code.STALE_HANDLE, run.free(2, 7).code());
  }

  @Test
  void imageWithCorruptGenerations_isRefused() {
    PidMap map = space(301);
    map.alloc();
    map.alloc();
    SpaceImage image = map.image();
    for (byte[] bad : List.of(new byte[] {1}, new byte[] {1, 1, 1}, new byte[] {1, (byte) 0x80},
        new byte[] {2, 1, 0, 1}, new byte[] {2, 0}, new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, 0x02, 1},
        new byte[] {1, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f})) {
      SpaceImage corrupt = new SpaceImage(image.format(), image.shift(), image.pidMax(), image.lastPid(),
          image.allocated(), image.holds(), image.lastHold(), image.reuseDelay(), image.cooling(),
          image.coolingUntil(), bad);
      PidspaceException refusal = assertThrows(PidspaceException.class, () -> PidMap.fromImage(LAYOUT, OTHER, corrupt));
      assertEquals(Code.BAD_REQUEST, refusal.code());
    }
  }
}
