package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.SpaceImage;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A space's snapshot is its export's image with the generation and the reservation; the older flat form reads alike. */
class SpaceStateTest {

  private static final PidLayout LAYOUT = PidLayout.DEFAULT;

  private static String describe(SpaceImage image) {
    return image.pidMax() + " " + image.lastPid() + " " + Arrays.toString(image.allocated()) + " "
        + image.holds().stream().map(h -> h.id() + Arrays.toString(h.vpids()) + h.expiresAt()).toList() + " "
        + image.lastHold() + " " + image.reuseDelay() + " " + Arrays.toString(image.cooling()) + " "
        + Arrays.toString(image.coolingUntil());
  }

  /** Space 1 with every part set, and a vpid still cooling above a pid_max lowered after its free. */
  private static SpaceState space() {
    SpaceState state = SpaceState.initial(LAYOUT, 1, 4_096).apply(new SpaceEvent.SpaceCreated(3, 2_000));
    PidMap.Draft run = state.openDraft();
    run.at(1_000);
    run.alloc(10, new int[10]);
    run.allocAt(new int[] {900}, 0);
    run.setReuseDelay(60_000);
    run.free(900);
    run.free(4);
    run.hold(new int[] {20, 21}, 90_000);
    run.release(run.hold(new int[] {22}, 90_000));
    run.setPidMax(500);
    state.closeDraft();
    return state;
  }

  @Test
  void aSnapshot_restoresEveryPart_evenAVpidCoolingAboveALoweredPidMax() {
    SpaceState state = space();
    SpaceImage image = state.map().image();
    assertEquals("[4, 900]", Arrays.toString(image.cooling()));

    SpaceState.ImageSnapshot snapshot = (SpaceState.ImageSnapshot) state.toSnapshot();
    assertEquals(describe(image), describe(snapshot.image()));
    SpaceState restored = SpaceState.fromSnapshot(LAYOUT, 1, snapshot);
    assertEquals(describe(image), describe(restored.map().image()));
    assertEquals(3, restored.generation());
    assertEquals(state.map().stats(), restored.map().stats());
  }

  @Test
  void theFlatFormOfOlderBuilds_readsAsTheSameSpace() {
    SpaceImage image = space().map().image();
    SpaceState flat = SpaceState.fromSnapshot(LAYOUT, 1, new SpaceState.FlatSnapshot(image.pidMax(), image.lastPid(),
        image.allocated(), 3, image.holds(), image.lastHold(), image.reuseDelay(), image.cooling(),
        image.coolingUntil(), 0, 0, 5_000));
    assertEquals(describe(image), describe(flat.map().image()));
    assertEquals(5_000, flat.reservedUntil());

    SpaceState oldest = SpaceState.fromSnapshot(LAYOUT, 1, new SpaceState.FlatSnapshot(image.pidMax(),
        image.lastPid(), image.allocated(), 3, null, 0, 0, null, null, 0, 0, 0)); // before holds and reuse delays
    assertEquals(image.allocated().length, oldest.map().image().allocated().length);
    assertEquals(0, oldest.map().holds().size());

    SpaceState destroyed = SpaceState.fromSnapshot(LAYOUT, 1, new SpaceState.FlatSnapshot(0, 0, new byte[0], 4,
        null, 0, 0, null, null, 0, 0, 7_000));
    assertFalse(destroyed.exists());
    assertEquals(4, destroyed.generation());
    assertNull(((SpaceState.ImageSnapshot) destroyed.toSnapshot()).image());
  }

  /** The snapshot keeps the generations (the events before it are deleted); recovery's leaked marks bump them. */
  @Test
  void snapshot_keepsTheGenerations_andLeakedMarksBumpThem() {
    SpaceState state = SpaceState.initial(LAYOUT, 1, 4_096).apply(new SpaceEvent.SpaceCreated(3, 2_000));
    PidMap.Draft run = state.openDraft();
    run.alloc(2, new int[2]); // vpids 2 and 3
    run.free(2);
    run.allocAt(new int[] {2}, 0);
    state.closeDraft();
    state.apply(new SpaceEvent.Reserved(3, 10, Long.MAX_VALUE));
    SpaceState recovered = SpaceState.fromSnapshot(LAYOUT, 1, state.toSnapshot());
    assertEquals(2, recovered.map().generation(2));
    assertEquals(1, recovered.map().generation(3));
    assertEquals(7, recovered.markReservationLeaked()); // vpids 4..10
    assertEquals(1, recovered.map().generation(4));
    assertEquals(1, recovered.map().generation(10));
    assertEquals(0, recovered.map().generation(11));
  }
}
