package io.pidspace.space;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.Hold;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceImage;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * What a {@link PidSpace} holds: its {@link PidMap}, or nothing while the space does not exist,
 * the registry generation of its last create or destroy, and its reservation. Changed by
 * {@link #apply}, both live and when the journal is replayed; besides that, only by the
 * {@link #openDraft() open run} of changes answered inside the reservation and not yet stored.
 */
final class SpaceState {

  private final PidLayout layout;
  private final int space;
  private PidMap map;
  private long generation;
  private boolean recorded; // the journal holds a SpaceCreated: pid_max no longer comes from config
  private int reservedFrom; // allocs of from < v <= upTo may be answered before they are stored
  private int reservedUpTo;
  private long reservedUntil; // epoch millis; kept through destroys: a new generation waits for it
  // Changes in the map that the journal does not hold yet (allocs answered inside the
  // reservation, and what recovery marked leaked); the next write rolls them back and stores them.
  private PidMap.Draft unstored;
  private final AllocKeys keys;

  private SpaceState(PidLayout layout, int space, PidMap map, long generation, boolean recorded,
      int reservedFrom, int reservedUpTo, long reservedUntil, AllocKeys keys) {
    this.keys = keys;
    this.layout = layout;
    this.space = space;
    this.map = map;
    this.generation = generation;
    this.recorded = recorded;
    this.reservedFrom = reservedFrom;
    this.reservedUpTo = reservedUpTo;
    this.reservedUntil = reservedUntil;
  }

  /** The defaults of {@code pidspace.idempotency} (reference.conf), for tests of the state alone. */
  static final int DEFAULT_MAX_KEYS = 10_000;
  static final long DEFAULT_KEY_WINDOW = 86_400_000;

  static SpaceState initial(PidLayout layout, int space, int defaultPidMax) {
    return initial(layout, space, defaultPidMax, new AllocKeys(DEFAULT_MAX_KEYS, DEFAULT_KEY_WINDOW));
  }

  /** Before any event: space 0 exists from the start, every other space does not. {@code keys}: empty. */
  static SpaceState initial(PidLayout layout, int space, int defaultPidMax, AllocKeys keys) {
    return new SpaceState(layout, space,
        space == PidLayout.DEFAULT_SPACE ? PidMap.create(layout, space, defaultPidMax) : null, 0, false, 0, 0, 0, keys);
  }

  /** The stored keyed alloc of {@code key} within the window at {@code now}, or null. */
  SpaceEvent.AllocKeyed keyed(String key, long now) {
    return keys.find(key, now);
  }

  /** How many idempotency keys the space keeps. */
  int keyCount() {
    return keys.size();
  }

  boolean exists() {
    return map != null;
  }

  /** The space's map; only while it {@link #exists()}. */
  PidMap map() {
    return map;
  }

  long generation() {
    return generation;
  }

  /** Whether the journal holds this space's create (always, once a created space exists). */
  boolean recorded() {
    return recorded;
  }

  /** Whether a reservation is stored. */
  boolean reserving() {
    return reservedFrom != reservedUpTo;
  }

  int reservedFrom() {
    return reservedFrom;
  }

  /** Whether an alloc of {@code vpid} may be answered before it is stored, at {@code now} (epoch millis). */
  boolean reserved(int vpid, long now) {
    return reservedFrom < vpid && vpid <= reservedUpTo && now < reservedUntil;
  }

  /** When the last stored reservation ends (epoch millis of the node that stored it), 0 for never. */
  long reservedUntil() {
    return reservedUntil;
  }

  /**
   * The run that collects changes until the next write: the one still open with unstored changes,
   * or a new one. {@link #closeDraft} ends it once it is stored or kept.
   */
  PidMap.Draft openDraft() {
    if (unstored == null) {
      unstored = map.draft();
    }
    return unstored;
  }

  void closeDraft() {
    unstored = null;
  }

  /**
   * Recovery is over. A reservation left from before counts every free vpid in it as allocated,
   * since some may have been handed out unstored; the marks are stored with the next write, and
   * the reservation stays, now with nothing free in it.
   *
   * @return how many vpids were marked leaked
   */
  int markReservationLeaked() {
    if (map == null || !reserving()) {
      return 0;
    }
    PidMap.Draft marks = openDraft();
    int n = 0;
    for (int v = reservedFrom + 1; v <= Math.min(reservedUpTo, map.pidMax() - 1); v++) {
      if (marks.take(v)) {
        n++;
      }
    }
    if (marks.size() == 0) {
      closeDraft();
    }
    return n;
  }

  SpaceState apply(SpaceEvent event) {
    if (event instanceof SpaceEvent.PidsChanged e) {
      map.apply(e.changes());
    } else if (event instanceof SpaceEvent.AllocKeyed e) {
      keys.add(e);
    } else if (event instanceof SpaceEvent.Reserved e) {
      reservedFrom = e.from();
      reservedUpTo = e.upTo();
      reservedUntil = Math.max(reservedUntil, e.until());
    } else if (event instanceof SpaceEvent.SpaceCreated e) {
      map = PidMap.create(layout, space, e.pidMax());
      generation = e.generation();
      recorded = true;
      reservedFrom = reservedUpTo = 0;
      unstored = null;
      keys.clear(); // a space anew: its pids, and the keys that named them, are gone
    } else if (event instanceof SpaceEvent.SpaceDestroyed e) {
      map = null;
      generation = e.generation();
      reservedFrom = reservedUpTo = 0;
      unstored = null;
      keys.clear();
    } else if (event instanceof SpaceEvent.HoldPlaced e) {
      map.applyHold(e.hold());
    } else if (event instanceof SpaceEvent.HoldReleased e) {
      map.applyRelease(e.hold());
    } else if (event instanceof SpaceEvent.PidMaxChanged e) {
      map.applyPidMax(e.pidMax());
    } else if (event instanceof SpaceEvent.ReuseDelayChanged e) {
      map.applyReuseDelay(e.reuseDelay());
    } else if (event instanceof SpaceEvent.PidsCooled e) {
      map.applyCooled(e.vpids(), e.until());
    } else if (event instanceof SpaceEvent.SpaceImported e) {
      map = PidMap.fromImage(layout, space, e.image());
      generation = e.generation();
      recorded = true;
      reservedFrom = reservedUpTo = 0;
      unstored = null;
      keys.clear(); // a space anew: its pids, and the keys that named them, are gone
    }
    return this;
  }

  /**
   * What the snapshot store holds of a space. This build writes {@link ImageSnapshot}; builds up
   * to cdc5abe wrote {@link FlatSnapshot} under this interface's class name (their rows carry it
   * as the manifest), which is why reading this type reads that form.
   */
  @JsonDeserialize(as = FlatSnapshot.class)
  sealed interface Snapshot extends CborSerializable permits ImageSnapshot, FlatSnapshot {}

  /**
   * A space as its export describes it ({@code image}; null while the space does not exist), with
   * what only the journal knows of it: the generation of its last create or destroy, its
   * reservation and its idempotency keys ({@code keys}, oldest first; null in snapshots of builds
   * before them: none).
   */
  @JsonDeserialize // not the interface's: this is the form itself
  record ImageSnapshot(long generation, SpaceImage image, int reservedFrom, int reservedUpTo, long reservedUntil,
      List<SpaceEvent.AllocKeyed> keys) implements Snapshot {}

  /**
   * The form of older builds, read and never written: bound, cursor, generation and live vpids
   * as a portable RoaringBitmap; {@code pidMax} 0 means the space does not exist. {@code holds},
   * {@code lastHold}, {@code reuseDelay} and the cooling vpids are absent (null, 0) in snapshots
   * of builds older still.
   */
  @JsonDeserialize // not the interface's: this is the form itself
  record FlatSnapshot(int pidMax, int lastPid, byte[] allocated, long generation, List<Hold> holds, int lastHold,
      long reuseDelay, int[] cooling, long[] coolingUntil, int reservedFrom, int reservedUpTo, long reservedUntil)
      implements Snapshot {

    ImageSnapshot upgrade(PidLayout layout) {
      if (pidMax == 0) {
        return new ImageSnapshot(generation, null, reservedFrom, reservedUpTo, reservedUntil, null);
      }
      List<Hold> live = holds == null ? List.of() : holds;
      int last = Math.max(lastHold, live.stream().mapToInt(Hold::id).max().orElse(0));
      return new ImageSnapshot(generation, new SpaceImage(SpaceImage.FORMAT, layout.shift(), pidMax, lastPid,
          allocated, live, last, reuseDelay, cooling, coolingUntil), reservedFrom, reservedUpTo, reservedUntil, null);
    }
  }

  Snapshot toSnapshot() {
    return new ImageSnapshot(generation, map == null ? null : map.image(), reservedFrom, reservedUpTo, reservedUntil,
        keys.entries());
  }

  /** @throws IllegalStateException if {@code stored} does not make a space of this layout */
  static SpaceState fromSnapshot(PidLayout layout, int space, Snapshot stored) {
    return fromSnapshot(layout, space, stored, new AllocKeys(DEFAULT_MAX_KEYS, DEFAULT_KEY_WINDOW));
  }

  /** {@code keys}: empty; filled with the snapshot's. */
  static SpaceState fromSnapshot(PidLayout layout, int space, Snapshot stored, AllocKeys keys) {
    ImageSnapshot snapshot = stored instanceof FlatSnapshot flat ? flat.upgrade(layout) : (ImageSnapshot) stored;
    SpaceImage image = snapshot.image();
    PidMap map = null;
    if (image != null) {
      // A vpid freed while a reuse delay was on may cool above a pid_max lowered since: an import
      // refuses it, a snapshot keeps it (applied after).
      int[] cooling = image.cooling() == null ? new int[0] : image.cooling();
      long[] until = image.coolingUntil() == null ? new long[0] : image.coolingUntil();
      boolean split = cooling.length == until.length; // else the import refuses it whole
      int[] above = IntStream.range(0, cooling.length).filter(i -> split && cooling[i] >= image.pidMax()).toArray();
      int[] below = IntStream.range(0, cooling.length).filter(i -> !split || cooling[i] < image.pidMax()).toArray();
      try {
        map = PidMap.fromImage(layout, space, above.length == 0 ? image : new SpaceImage(image.format(),
            image.shift(), image.pidMax(), image.lastPid(), image.allocated(), image.holds(), image.lastHold(),
            image.reuseDelay(), pick(cooling, below), pick(until, below), image.generations()));
      } catch (PidspaceException corrupt) {
        throw new IllegalStateException("the snapshot of space " + space + " does not make a space: "
            + corrupt.getMessage(), corrupt);
      }
      map.applyCooled(pick(cooling, above), pick(until, above));
    }
    if (snapshot.keys() != null) {
      snapshot.keys().forEach(keys::add);
    }
    return new SpaceState(layout, space, map, snapshot.generation(), true, snapshot.reservedFrom(),
        snapshot.reservedUpTo(), snapshot.reservedUntil(), keys);
  }

  private static int[] pick(int[] values, int[] at) {
    return Arrays.stream(at).map(i -> values[i]).toArray();
  }

  private static long[] pick(long[] values, int[] at) {
    return Arrays.stream(at).mapToLong(i -> values[i]).toArray();
  }
}
