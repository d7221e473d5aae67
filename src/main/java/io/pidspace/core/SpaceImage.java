package io.pidspace.core;

import java.util.List;

/**
 * The whole state of one space, portable between nodes and clusters: what export gives and
 * import takes. {@code allocated} is a RoaringBitmap in its portable serialization (vpid 0 of
 * space 0 excluded); {@code lastHold} the last hold id used, so an imported space numbers its
 * next hold as the source would; {@code reuseDelay} (millis, 0 off) and the vpids still cooling down
 * with their ends (epoch millis). {@code generations}: the generation ({@link PidMap#generation})
 * of every vpid ever allocated, free ones too, ascending, as pairs of unsigned LEB128 varints
 * (the vpid's distance from the one before, the generation); null in documents and snapshots
 * written before generations, read as "unknown" (any generation matches). Read it through {@link PidMap#fromImage}, which checks it all.
 */
public record SpaceImage(int format, int shift, int pidMax, int lastPid, byte[] allocated, List<Hold> holds,
    int lastHold, long reuseDelay, int[] cooling, long[] coolingUntil, byte[] generations)
    implements CborSerializable {

  public static final int FORMAT = 1;

  /** An image without generations, as builds before them wrote. */
  public SpaceImage(int format, int shift, int pidMax, int lastPid, byte[] allocated, List<Hold> holds,
      int lastHold, long reuseDelay, int[] cooling, long[] coolingUntil) {
    this(format, shift, pidMax, lastPid, allocated, holds, lastHold, reuseDelay, cooling, coolingUntil, null);
  }
}
