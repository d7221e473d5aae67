package io.pidspace.space;

import static io.pidspace.space.LocalSystems.await;
import static io.pidspace.space.LocalSystems.refusal;
import static io.pidspace.space.LocalSystems.stop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.Hold;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.PidspaceException.Code;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Alloc-at, holds, live pid_max and export/import through the facade on a real journal (H2 in
 * memory): every refusal and success, and each survives a restart of the actor system (from
 * events, and from a snapshot).
 */
class ExactVpidsDurableTest {

  private static final PidLayout LAYOUT = PidLayout.DEFAULT;
  private static final Duration LONG = Duration.ofHours(1);

  private static String memoryDb() {
    return LocalSystems.memoryDb("exact");
  }

  private static ActorSystem<Void> start(String url, int snapshotEvery) {
    return LocalSystems.start("exact", Map.of("pidspace.snapshot-every", snapshotEvery, "pidspace.jdbc.url", url));
  }

  private static int[] pids(int space, int... vpids) {
    int[] pids = new int[vpids.length];
    for (int i = 0; i < vpids.length; i++) {
      pids[i] = LAYOUT.encode(space, vpids[i]);
    }
    return pids;
  }

  @Test
  void allocAt_answersInTheOrderAsked_refusesAllOrNothing_andLeavesLastPid() throws Exception {
    ActorSystem<Void> system = start(memoryDb(), 1000);
    try {
      PidAuthority a = PidAuthority.get(system);
      await(a.createSpace(1, 1_000));
      assertArrayEquals(pids(1, 700, 5), await(a.allocAt(1, new int[] {700, 5}, 0)));
      assertEquals(1, await(a.stats(1)).lastPid());
      PidspaceException inUse = refusal(a.allocAt(1, new int[] {6, 700}, 0));
      assertEquals(Code.PID_IN_USE, inUse.code());
      assertEquals("vpid 700 of space 1 is in use", inUse.getMessage());
      assertFalse(await(a.lookup(LAYOUT.encode(1, 6))).allocated());
      assertEquals(Code.OUT_OF_RANGE, refusal(a.allocAt(1, new int[] {1_000}, 0)).code());
      assertEquals(Code.OUT_OF_RANGE, refusal(a.allocAt(1, new int[] {0}, 0)).code());
      assertEquals(Code.BAD_REQUEST, refusal(a.allocAt(1, new int[] {8, 8}, 0)).code());
      assertEquals(Code.BAD_REQUEST, refusal(a.allocAt(1, new int[0], 0)).code());
      assertEquals(Code.UNKNOWN_SPACE, refusal(a.allocAt(2, new int[] {8}, 0)).code());
      assertEquals(Code.OUT_OF_RANGE, refusal(a.allocAt(512, new int[] {8}, 0)).code());
      assertEquals(LAYOUT.encode(1, 2), await(a.alloc(1)));
      assertArrayEquals(pids(0, 77), await(a.allocAt(0, new int[] {77}, 0))); // space 0: below 300 too
    } finally {
      stop(system);
    }
  }

  @Test
  void holds_skipNextFit_refuseOthers_claimRelease_andExpire() throws Exception {
    ActorSystem<Void> system = start(memoryDb(), 1000);
    try {
      PidAuthority a = PidAuthority.get(system);
      await(a.createSpace(1, 1_000));
      int hold = await(a.hold(1, new int[] {2, 3, 4}, LONG));
      assertEquals(LAYOUT.encode(1, 5), await(a.alloc(1)));
      assertEquals(Code.PID_HELD, refusal(a.allocAt(1, new int[] {3}, 0)).code());
      assertEquals(Code.PID_HELD, refusal(a.hold(1, new int[] {4}, LONG)).code());
      assertEquals(Code.PID_IN_USE, refusal(a.hold(1, new int[] {5}, LONG)).code());
      assertEquals(Code.OUT_OF_RANGE, refusal(a.hold(1, new int[] {6}, Duration.ofDays(2))).code());
      assertEquals(Code.UNKNOWN_HOLD, refusal(a.allocAt(1, new int[] {3}, hold + 1)).code());
      assertArrayEquals(pids(1, 3), await(a.allocAt(1, new int[] {3}, hold)));
      await(a.release(1, hold));
      assertEquals(Code.UNKNOWN_HOLD, refusal(a.release(1, hold)).code());
      assertArrayEquals(pids(1, 2, 4), await(a.allocAt(1, new int[] {2, 4}, 0))); // free and unheld again

      int brief = await(a.hold(1, new int[] {9}, Duration.ofMillis(1)));
      Thread.sleep(20); // past its time to live: the next request releases it first
      assertArrayEquals(pids(1, 9), await(a.allocAt(1, new int[] {9}, 0)));
      assertEquals(Code.UNKNOWN_HOLD, refusal(a.release(1, brief)).code());
    } finally {
      stop(system);
    }
  }

  @Test
  void pidMax_risesAndFallsLive_refusingBelowTheHighestAllocatedOrHeld() throws Exception {
    ActorSystem<Void> system = start(memoryDb(), 1000);
    try {
      PidAuthority a = PidAuthority.get(system);
      await(a.createSpace(1, 1_000));
      assertEquals(Code.OUT_OF_RANGE, refusal(a.allocAt(1, new int[] {5_000}, 0)).code());
      assertEquals(50_000, await(a.setPidMax(1, 50_000)).pidMax());
      await(a.allocAt(1, new int[] {5_000}, 0));
      PidspaceException lower = refusal(a.setPidMax(1, 4_000));
      assertEquals(Code.PID_IN_USE, lower.code());
      assertTrue(lower.getMessage().contains("vpid 5000"), lower.getMessage());
      int hold = await(a.hold(1, new int[] {6_000}, LONG));
      assertEquals(Code.PID_HELD, refusal(a.setPidMax(1, 5_500)).code());
      await(a.release(1, hold));
      assertEquals(5_001, await(a.setPidMax(1, 5_001)).pidMax());
      assertEquals(Code.OUT_OF_RANGE, refusal(a.setPidMax(1, 300)).code());
      assertEquals(Code.OUT_OF_RANGE, refusal(a.setPidMax(1, LAYOUT.pidMaxLimit() + 1)).code());
      assertEquals(Code.UNKNOWN_SPACE, refusal(a.setPidMax(2, 1_000)).code());
    } finally {
      stop(system);
    }
  }

  @Test
  void reuseDelay_keepsFreedVpidsOutOfNextFit_andSurvivesARestart() throws Exception {
    String url = memoryDb();
    ActorSystem<Void> first = start(url, 2); // snapshots too
    PidAuthority a = PidAuthority.get(first);
    await(a.createSpace(1, 1_000));
    assertEquals(Code.OUT_OF_RANGE, refusal(a.setReuseDelay(1, Duration.ofDays(2))).code());
    assertEquals(Code.UNKNOWN_SPACE, refusal(a.setReuseDelay(2, LONG)).code());
    await(a.setReuseDelay(1, LONG));
    int[] all = await(a.alloc(1, 998)); // vpids 2..999
    await(a.free(all[0]));
    assertEquals(LAYOUT.encode(1, 1), await(a.alloc(1))); // wraps past vpid 2, which cools down
    assertEquals(Code.SPACE_EXHAUSTED, refusal(a.alloc(1)).code());
    stop(first);

    ActorSystem<Void> second = start(url, 2);
    try {
      PidAuthority b = PidAuthority.get(second);
      assertEquals(Code.SPACE_EXHAUSTED, refusal(b.alloc(1)).code());
      assertEquals(LONG.toMillis(), await(b.exportSpace(1)).reuseDelay());
      assertArrayEquals(new int[] {2}, await(b.exportSpace(1)).cooling());
      assertArrayEquals(pids(1, 2), await(b.allocAt(1, new int[] {2}, 0))); // an exact request may take it
      await(b.setReuseDelay(1, Duration.ZERO));
      await(b.free(LAYOUT.encode(1, 3)));
      assertEquals(LAYOUT.encode(1, 3), await(b.alloc(1))); // off: the seed's rule again
    } finally {
      stop(second);
    }
  }

  @Test
  void everything_survivesARestart_fromEventsAndFromASnapshot() throws Exception {
    for (int snapshotEvery : new int[] {1000, 2}) {
      String url = memoryDb();
      ActorSystem<Void> first = start(url, snapshotEvery);
      PidAuthority a = PidAuthority.get(first);
      await(a.createSpace(1, 1_000));
      await(a.alloc(1, 10));
      await(a.allocAt(1, new int[] {500}, 0));
      int hold = await(a.hold(1, new int[] {600, 601}, LONG));
      await(a.setPidMax(1, 2_000));
      await(a.hold(1, new int[] {602}, LONG));
      await(a.release(1, hold + 1));
      SpaceImage before = await(a.exportSpace(1));
      stop(first);

      ActorSystem<Void> second = start(url, snapshotEvery);
      try {
        PidAuthority b = PidAuthority.get(second);
        SpaceImage after = await(b.exportSpace(1));
        assertEquals(describe(before), describe(after), "snapshot-every " + snapshotEvery);
        assertEquals(Code.PID_HELD, refusal(b.allocAt(1, new int[] {600}, 0)).code());
        assertEquals(hold + 2, await(b.hold(1, new int[] {700}, LONG)));
        assertEquals(LAYOUT.encode(1, 12), await(b.alloc(1)));
      } finally {
        stop(second);
      }
    }
  }

  @Test
  void exportImport_copiesTheSpaceWhole_andBothGoOnAlike() throws Exception {
    ActorSystem<Void> system = start(memoryDb(), 1000);
    try {
      PidAuthority a = PidAuthority.get(system);
      await(a.createSpace(1, 5_000));
      await(a.alloc(1, 100));
      await(a.free(LAYOUT.encode(1, 50)));
      await(a.allocAt(1, new int[] {4_000}, 0));
      await(a.hold(1, new int[] {102, 103}, LONG));
      SpaceImage image = await(a.exportSpace(1));
      assertEquals(SpaceImage.FORMAT, image.format());
      assertEquals(22, image.shift());

      SpaceStats imported = await(a.importSpace(PidAuthority.ANY_ID, image));
      assertEquals(2, imported.space());
      assertEquals(await(a.stats(1)).allocated(), imported.allocated());
      for (int i = 0; i < 3; i++) {
        assertEquals(LAYOUT.vpidOf(await(a.alloc(1))), LAYOUT.vpidOf(await(a.alloc(2))));
      }
      assertEquals(await(a.hold(1, new int[] {200}, LONG)), await(a.hold(2, new int[] {200}, LONG)));
      assertEquals(Code.PID_HELD, refusal(a.allocAt(2, new int[] {103}, 0)).code());

      assertEquals(Code.SPACE_ID_IN_USE, refusal(a.importSpace(1, image)).code());
      assertEquals(Code.SPACE_ID_IN_USE, refusal(a.importSpace(0, image)).code());
      SpaceImage otherShift = new SpaceImage(1, 20, image.pidMax(), image.lastPid(), image.allocated(), image.holds(),
          image.lastHold(), 0, null, null);
      assertEquals(Code.BAD_REQUEST, refusal(a.importSpace(3, otherShift)).code());
      SpaceImage heldAndLive = new SpaceImage(1, 22, image.pidMax(), image.lastPid(), image.allocated(),
          List.of(new Hold(1, new int[] {7}, 0)), 1, 0, null, null);
      assertEquals(Code.BAD_REQUEST, refusal(a.importSpace(3, heldAndLive)).code());
      assertEquals(List.of(0, 1, 2), java.util.Arrays.stream(await(a.spaceIds())).boxed().toList());
    } finally {
      stop(system);
    }
  }

  private static String describe(SpaceImage image) {
    return image.pidMax() + " " + image.lastPid() + " " + java.util.Arrays.toString(image.allocated()) + " "
        + image.holds().stream().map(h -> h.id() + java.util.Arrays.toString(h.vpids()) + h.expiresAt()).toList()
        + " " + image.lastHold();
  }
}
