package io.pidspace.core;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.roaringbitmap.RoaringBitmap;

/** A {@link PidMap} to a {@link SpaceImage} and back; the image is checked whole, as it may come from outside. */
final class ImageCodec {

  private ImageCodec() {}

  static SpaceImage image(PidMap map, PidLayout layout) {
    long[][] cooling = map.cooling();
    return new SpaceImage(SpaceImage.FORMAT, layout.shift(), map.pidMax(), map.lastPid(), portable(map.bits), map.holds(),
        map.lastHold(), map.reuseDelay(), Arrays.stream(cooling[0]).mapToInt(v -> (int) v).toArray(), cooling[1],
        generations(map));
  }

  /**
   * Every vpid's generation that is not 0, free vpids' too (a freed vpid keeps its count, or a
   * handle from before the image would match its next holder): ascending, as pairs of unsigned
   * LEB128 varints, the vpid's distance from the one before (from 0 for the first) and the
   * generation.
   */
  private static byte[] generations(PidMap map) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(2 * map.allocated() + 16);
    int[] previous = {0};
    map.gens.forEachKnown((v, g) -> {
      varint(out, v - previous[0]);
      varint(out, g);
      previous[0] = v;
    });
    return out.toByteArray();
  }

  private static void varint(ByteArrayOutputStream out, int value) {
    while ((value & ~0x7F) != 0) {
      out.write((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.write(value);
  }

  /** Sets the generations {@code bytes} lists (null: none known, every one left 0). */
  private static void readGenerations(PidMap map, PidLayout layout, byte[] bytes) {
    if (bytes == null) {
      return;
    }
    PidspaceException invalid = PidspaceException.badRequest("the document's generations must be pairs of varints "
        + "(a vpid's distance from the one before, ascending, below " + layout.pidMaxLimit() + "; a generation of 31 bits, not 0)");
    int[] at = {0};
    long v = 0;
    boolean first = true;
    while (at[0] < bytes.length) {
      long gap = varint(bytes, at, invalid);
      long g = varint(bytes, at, invalid);
      v += gap;
      if ((!first && gap == 0) || v >= layout.pidMaxLimit() || g == 0 || g > Generations.MASK) {
        throw invalid;
      }
      map.gens.set((int) v, (int) g);
      first = false;
    }
  }

  private static long varint(byte[] bytes, int[] at, PidspaceException invalid) {
    long value = 0;
    for (int shift = 0; ; shift += 7) {
      if (at[0] == bytes.length || shift > 28) {
        throw invalid;
      }
      int b = bytes[at[0]++];
      value |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return value;
      }
    }
  }

  /**
   * The set vpids as a RoaringBitmap in its portable format (a million live vpids of 4,194,304
   * take about 512 KiB).
   */
  private static byte[] portable(PidBitmap bits) {
    RoaringBitmap portable = new RoaringBitmap();
    bits.forEach(portable::add);
    portable.runOptimize();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(portable.serializedSizeInBytes());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      portable.serialize(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** See {@link PidMap#fromImage}; a refusal says which rule the image broke, never its values. */
  static PidMap read(PidLayout layout, int space, SpaceImage image) {
    if (image.format() != SpaceImage.FORMAT) {
      throw PidspaceException.badRequest("the document's format must be " + SpaceImage.FORMAT);
    }
    if (image.shift() != layout.shift()) {
      throw PidspaceException.badRequest("the document's shift must be " + layout.shift() + ", this cluster's");
    }
    PidMap map = PidMap.create(layout, space, image.pidMax());
    if (image.lastPid() < 0 || image.lastPid() >= image.pidMax()) {
      throw PidspaceException.badRequest("the document's lastPid must be within 0.." + (image.pidMax() - 1));
    }
    map.bits.lastPid(image.lastPid());
    int[] allocated = decodeVpids(image.allocated(), layout);
    for (int i = 0; i < allocated.length; i++) {
      int v = allocated[i];
      if (v < 1 || v >= image.pidMax() || (i > 0 && v <= allocated[i - 1])) {
        throw PidspaceException.badRequest("the document's allocated vpids must be distinct and within 1..pidMax-1");
      }
      map.bits.set(v);
    }
    readGenerations(map, layout, image.generations());
    if (image.holds() == null || image.lastHold() < 0) {
      throw PidspaceException.badRequest("the document's holds must be a list and lastHold at least 0");
    }
    for (Hold hold : image.holds()) {
      if (hold == null || hold.vpids() == null || hold.id() < 1 || hold.id() > image.lastHold()
          || map.holds.exists(hold.id())) {
        throw PidspaceException.badRequest("each hold of the document needs a distinct id within 1..lastHold");
      }
      if (map.checks.checkExact(hold.vpids(), 0, true) != null) {
        throw PidspaceException.badRequest("each hold of the document must name free vpids within 1..pidMax-1, "
            + "none twice and none in another hold");
      }
      map.holds.place(hold);
    }
    map.holds.lastHold(image.lastHold());
    if (image.reuseDelay() < 0 || image.reuseDelay() > PidMap.MAX_REUSE_DELAY) {
      throw PidspaceException.badRequest("the document's reuseDelay must be within 0.." + PidMap.MAX_REUSE_DELAY + " ms");
    }
    map.cooling.delay(image.reuseDelay());
    int[] cooling = image.cooling() == null ? new int[0] : image.cooling();
    long[] until = image.coolingUntil() == null ? new long[0] : image.coolingUntil();
    if (cooling.length != until.length) {
      throw PidspaceException.badRequest("the document's cooling vpids and their ends must pair up");
    }
    for (int i = 0; i < cooling.length; i++) {
      if (cooling[i] < 1 || cooling[i] >= image.pidMax()) {
        throw PidspaceException.badRequest("the document's cooling vpids must be within 1..pidMax-1");
      }
      map.cooling.put(cooling[i], until[i]);
    }
    return map;
  }

  /** A portable RoaringBitmap from outside, read without trusting its header: ascending vpids. */
  private static int[] decodeVpids(byte[] bytes, PidLayout layout) {
    PidspaceException invalid = PidspaceException.badRequest("the document's allocated is not a portable RoaringBitmap");
    if (bytes == null || bytes.length < 4) {
      throw invalid;
    }
    // The header's container count sizes arrays before a byte of them is read: bound it first.
    ByteBuffer header = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int cookie = header.getInt();
    int containers = (cookie & 0xFFFF) == 12347 ? (cookie >>> 16) + 1
        : cookie == 12346 && bytes.length >= 8 ? header.getInt() : -1;
    if (containers < 0 || containers > (layout.pidMaxLimit() >>> 16) + 1) {
      throw invalid;
    }
    try {
      RoaringBitmap bits = new RoaringBitmap();
      bits.deserialize(ByteBuffer.wrap(bytes));
      return bits.toArray();
    } catch (IOException | RuntimeException corrupt) {
      throw invalid;
    }
  }
}
