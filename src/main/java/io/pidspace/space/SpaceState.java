package io.pidspace.space;

import io.pidspace.core.CborSerializable;
import io.pidspace.core.Hold;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.roaringbitmap.RoaringBitmap;

/**
 * What a {@link PidSpace} holds: its {@link PidMap}, or nothing while the space does not exist,
 * the registry generation of its last create or destroy, and its reservation. Changed by
 * {@link #apply}, both live and when the journal is replayed; besides that, only by the
 * {@link #openRun() open run} of changes answered inside the reservation and not yet stored.
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
  private PidMap.Run unstored;

  private SpaceState(PidLayout layout, int space, PidMap map, long generation, boolean recorded,
      int reservedFrom, int reservedUpTo, long reservedUntil) {
    this.layout = layout;
    this.space = space;
    this.map = map;
    this.generation = generation;
    this.recorded = recorded;
    this.reservedFrom = reservedFrom;
    this.reservedUpTo = reservedUpTo;
    this.reservedUntil = reservedUntil;
  }

  /** Before any event: space 0 exists from the start, every other space does not. */
  static SpaceState initial(PidLayout layout, int space, int defaultPidMax) {
    return new SpaceState(layout, space,
        space == PidLayout.DEFAULT_SPACE ? PidMap.create(layout, space, defaultPidMax) : null, 0, false, 0, 0, 0);
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
   * or a new one. {@link #closeRun} ends it once it is stored or kept.
   */
  PidMap.Run openRun() {
    if (unstored == null) {
      unstored = map.begin();
    }
    return unstored;
  }

  void closeRun() {
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
    PidMap.Run marks = openRun();
    int n = 0;
    for (int v = reservedFrom + 1; v <= Math.min(reservedUpTo, map.pidMax() - 1); v++) {
      if (marks.take(v)) {
        n++;
      }
    }
    if (marks.size() == 0) {
      closeRun();
    }
    return n;
  }

  SpaceState apply(SpaceEvent event) {
    if (event instanceof SpaceEvent.PidsChanged e) {
      map.apply(e.changes());
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
    } else if (event instanceof SpaceEvent.SpaceDestroyed e) {
      map = null;
      generation = e.generation();
      reservedFrom = reservedUpTo = 0;
      unstored = null;
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
    }
    return this;
  }

  /**
   * The stored form of a space: its bound, cursor, generation and live vpids as a RoaringBitmap
   * in the portable format (a million live vpids of 4,194,304 take about 512 KiB). {@code pidMax}
   * 0 means the space does not exist. {@code holds}, {@code lastHold}, {@code reuseDelay} and the
   * cooling vpids are absent (null, 0) in snapshots of older builds.
   */
  record Snapshot(int pidMax, int lastPid, byte[] allocated, long generation, List<Hold> holds, int lastHold,
      long reuseDelay, int[] cooling, long[] coolingUntil, int reservedFrom, int reservedUpTo, long reservedUntil)
      implements CborSerializable {}

  Snapshot toSnapshot() {
    if (map == null) {
      return new Snapshot(0, 0, new byte[0], generation, List.of(), 0, 0, new int[0], new long[0], 0, 0, reservedUntil);
    }
    long[][] cooling = map.cooling();
    return new Snapshot(map.pidMax(), map.lastPid(), map.allocatedBitmap(), generation, map.holds(), map.lastHold(),
        map.reuseDelay(), java.util.Arrays.stream(cooling[0]).mapToInt(v -> (int) v).toArray(), cooling[1],
        reservedFrom, reservedUpTo, reservedUntil);
  }

  static SpaceState fromSnapshot(PidLayout layout, int space, Snapshot snapshot) {
    if (snapshot.pidMax() == 0) {
      return new SpaceState(layout, space, null, snapshot.generation(), true, 0, 0, snapshot.reservedUntil());
    }
    RoaringBitmap bits = new RoaringBitmap();
    try {
      bits.deserialize(ByteBuffer.wrap(snapshot.allocated()));
    } catch (IOException e) {
      throw new UncheckedIOException("snapshot of space " + space + " is corrupt", e);
    }
    PidMap map = PidMap.restore(layout, space, snapshot.pidMax(), snapshot.lastPid(), bits.toArray());
    if (snapshot.holds() != null) {
      snapshot.holds().forEach(map::applyHold);
      map.restoreLastHold(snapshot.lastHold());
    }
    map.applyReuseDelay(snapshot.reuseDelay());
    if (snapshot.cooling() != null) {
      map.applyCooled(snapshot.cooling(), snapshot.coolingUntil());
    }
    return new SpaceState(layout, space, map, snapshot.generation(), true, snapshot.reservedFrom(), snapshot.reservedUpTo(),
        snapshot.reservedUntil());
  }
}
