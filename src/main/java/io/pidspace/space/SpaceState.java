package io.pidspace.space;

import io.pidspace.core.CborSerializable;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.roaringbitmap.RoaringBitmap;

/**
 * What a {@link PidSpace} holds: its {@link PidMap}, or nothing while the space does not exist.
 * Changed only by {@link #apply}, both live and when the journal is replayed.
 */
final class SpaceState {

  private final PidLayout layout;
  private final int space;
  private PidMap map;

  private SpaceState(PidLayout layout, int space, PidMap map) {
    this.layout = layout;
    this.space = space;
    this.map = map;
  }

  /** Before any event: space 0 exists from the start, every other space does not. */
  static SpaceState initial(PidLayout layout, int space, int defaultPidMax) {
    return new SpaceState(
        layout, space, space == PidLayout.DEFAULT_SPACE ? PidMap.create(layout, space, defaultPidMax) : null);
  }

  boolean exists() {
    return map != null;
  }

  /** The space's map; only while it {@link #exists()}. */
  PidMap map() {
    return map;
  }

  SpaceState apply(SpaceEvent event) {
    if (event instanceof SpaceEvent.PidsAllocated e) {
      map.markAllocated(e.vpids(), e.vpids().length);
    } else if (event instanceof SpaceEvent.PidsFreed e) {
      map.markFreed(e.vpids(), e.vpids().length);
    } else if (event instanceof SpaceEvent.SpaceCreated e) {
      map = PidMap.create(layout, space, e.pidMax());
    } else if (event == SpaceEvent.SpaceDestroyed.INSTANCE) {
      map = null;
    }
    return this;
  }

  /**
   * The stored form of a space: its bound, cursor and live vpids as a RoaringBitmap in the
   * portable format (a million live vpids of 4,194,304 take about 512 KiB). {@code pidMax} 0
   * means the space does not exist.
   */
  record Snapshot(int pidMax, int lastPid, byte[] allocated) implements CborSerializable {}

  Snapshot toSnapshot() {
    if (map == null) {
      return new Snapshot(0, 0, new byte[0]);
    }
    RoaringBitmap bits = new RoaringBitmap();
    map.forEachAllocated(bits::add);
    bits.runOptimize();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(bits.serializedSizeInBytes());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      bits.serialize(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Snapshot(map.pidMax(), map.lastPid(), bytes.toByteArray());
  }

  static SpaceState fromSnapshot(PidLayout layout, int space, Snapshot snapshot) {
    if (snapshot.pidMax() == 0) {
      return new SpaceState(layout, space, null);
    }
    RoaringBitmap bits = new RoaringBitmap();
    try {
      bits.deserialize(ByteBuffer.wrap(snapshot.allocated()));
    } catch (IOException e) {
      throw new UncheckedIOException("snapshot of space " + space + " is corrupt", e);
    }
    return new SpaceState(layout, space,
        PidMap.restore(layout, space, snapshot.pidMax(), snapshot.lastPid(), bits.toArray()));
  }
}
