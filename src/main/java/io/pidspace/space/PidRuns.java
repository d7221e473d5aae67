package io.pidspace.space;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * How a {@link SpaceEvent.PidsChanged} is stored: its changes as runs. Next-fit hands out
 * consecutive vpids and callers free what they got together, so a group commit's changes are
 * mostly runs of {@code +v, +v+1, ...} or {@code -v, -v-1, ...}: 8 alloc(64) and their frees,
 * 1,024 changes, were 5,133 bytes of CBOR integers and are 9 runs, a few dozen bytes. H2 rewrites
 * the whole B-tree page an event lands in at every commit, so the event's size is bytes written
 * per commit (docs/benchmarks.md).
 *
 * <p>Each run is two unsigned LEB128 varints: its first change minus the last change of the run
 * before (zigzag; 0 before the first run), and its length minus one. A run steps by +1 when it is
 * positive (allocs, {@code AT} kept) and by -1 when negative (frees). Events stored before keep
 * their {@code changes} array and are read as they were.
 */
final class PidRuns {

  /** A stored event never holds more changes than this (a run is at most pid_max long and a batch max-batch). */
  static final int MAX_CHANGES = 1 << 24;

  private PidRuns() {}

  static byte[] encode(int[] changes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8 + changes.length / 8);
    int last = 0;
    int i = 0;
    while (i < changes.length) {
      int first = changes[i];
      int step = first > 0 ? 1 : -1;
      int end = i + 1;
      while (end < changes.length && changes[end] == changes[end - 1] + step && Integer.signum(changes[end]) == step) {
        end++;
      }
      writeVarint(out, zigzag(first - last));
      writeVarint(out, end - i - 1);
      last = changes[end - 1];
      i = end;
    }
    return out.toByteArray();
  }

  /** The changes {@code runs} encodes; a malformed one is an {@link IllegalArgumentException}, never a huge array. */
  static int[] decode(byte[] runs) {
    int[] changes = new int[Math.min(MAX_CHANGES, Math.max(16, runs.length * 4))];
    int n = 0;
    int last = 0;
    ByteBuffer in = ByteBuffer.wrap(runs);
    while (in.hasRemaining()) {
      int first = last + unzigzag(readVarint(in)); // wraps as encode's subtraction did
      long count = (readVarint(in) & 0xFFFFFFFFL) + 1;
      long lastOfRun = first > 0 ? first + count - 1 : first - count + 1;
      if (first == 0 || first == Integer.MIN_VALUE || lastOfRun > Integer.MAX_VALUE || lastOfRun < -Integer.MAX_VALUE
          || n + count > MAX_CHANGES) {
        throw new IllegalArgumentException("a stored PidsChanged has a run out of range");
      }
      if (n + count > changes.length) {
        changes = Arrays.copyOf(changes, (int) Math.min(MAX_CHANGES, Math.max(n + count, 2L * changes.length)));
      }
      int step = first > 0 ? 1 : -1;
      int c = first;
      for (long k = 0; k < count; k++, c += step) {
        changes[n++] = c;
      }
      last = (int) lastOfRun;
    }
    return Arrays.copyOf(changes, n);
  }

  private static int zigzag(int v) {
    return (v << 1) ^ (v >> 31);
  }

  private static int unzigzag(int v) {
    return (v >>> 1) ^ -(v & 1);
  }

  private static void writeVarint(ByteArrayOutputStream out, int v) {
    while ((v & ~0x7F) != 0) {
      out.write((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out.write(v);
  }

  private static int readVarint(ByteBuffer in) {
    int v = 0;
    for (int shift = 0; shift < 35 && in.hasRemaining(); shift += 7) {
      byte b = in.get();
      v |= (b & 0x7F) << shift;
      if (b >= 0) {
        return v;
      }
    }
    throw new IllegalArgumentException("a stored PidsChanged ends inside a number");
  }

  /** Writes {@code {"runs": <bytes>}}. */
  static final class Serializer extends StdSerializer<SpaceEvent.PidsChanged> {
    Serializer() {
      super(SpaceEvent.PidsChanged.class);
    }

    @Override
    public void serialize(SpaceEvent.PidsChanged event, JsonGenerator gen, SerializerProvider provider) throws IOException {
      gen.writeStartObject();
      gen.writeBinaryField("runs", encode(event.changes()));
      gen.writeEndObject();
    }
  }

  /** Reads {@code runs}, or the {@code changes} array of an event stored before runs. */
  static final class Deserializer extends StdDeserializer<SpaceEvent.PidsChanged> {
    Deserializer() {
      super(SpaceEvent.PidsChanged.class);
    }

    @Override
    public SpaceEvent.PidsChanged deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (!p.isExpectedStartObjectToken()) {
        return (SpaceEvent.PidsChanged) ctxt.handleUnexpectedToken(SpaceEvent.PidsChanged.class, p);
      }
      int[] changes = null;
      for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
        JsonToken value = p.nextToken();
        if (field.equals("runs") && value != JsonToken.VALUE_NULL) {
          try {
            changes = decode(p.getBinaryValue());
          } catch (IllegalArgumentException e) {
            return (SpaceEvent.PidsChanged) ctxt.handleWeirdStringValue(SpaceEvent.PidsChanged.class, "runs", e.getMessage());
          }
        } else if (field.equals("changes") && value != JsonToken.VALUE_NULL) {
          changes = ctxt.readValue(p, int[].class);
        } else {
          p.skipChildren();
        }
      }
      if (changes == null) {
        return (SpaceEvent.PidsChanged) ctxt.handleWeirdStringValue(SpaceEvent.PidsChanged.class, "runs", "missing");
      }
      return new SpaceEvent.PidsChanged(changes);
    }
  }
}
