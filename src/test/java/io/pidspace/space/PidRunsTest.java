package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.pidspace.core.PidMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A stored run of pid changes comes back exactly, in order, whatever it holds; old events still read. */
class PidRunsTest {

  private static final ObjectMapper CBOR = new ObjectMapper(new CBORFactory());

  @Test
  void randomChanges_roundTripExactly() {
    Random random = new Random(42);
    for (int trial = 0; trial < 2_000; trial++) {
      int[] changes = new int[random.nextInt(300)];
      int v = 1 + random.nextInt(4_194_304);
      for (int i = 0; i < changes.length; i++) {
        switch (random.nextInt(6)) {
          case 0 -> v = 1 + random.nextInt(4_194_304); // a jump
          case 1 -> v = random.nextBoolean() ? Integer.MAX_VALUE - random.nextInt(3) : 1 + random.nextInt(3); // the edges
          default -> v = v == Integer.MAX_VALUE ? v : v + 1; // a run
        }
        int kind = random.nextInt(3);
        changes[i] = kind == 0 ? v : kind == 1 ? (v < PidMap.AT ? PidMap.AT | v : v) : -v;
      }
      assertArrayEquals(changes, PidRuns.decode(PidRuns.encode(changes)), () -> "trial with " + changes.length + " changes");
    }
  }

  @Test
  void eightBatchesAndTheirFrees_storeAsAFewRuns() throws Exception {
    int[] allocs = IntStream.rangeClosed(301, 812).toArray();
    int[] frees = IntStream.range(0, 512).map(i -> -(301 + (i / 64 % 2 == 0 ? i + 64 : i - 64))).toArray();
    int[] changes = IntStream.concat(IntStream.of(allocs), IntStream.of(frees)).toArray();

    byte[] stored = CBOR.writeValueAsBytes(new SpaceEvent.PidsChanged(changes));

    assertTrue(stored.length < 64, () -> stored.length + " bytes");
    assertArrayEquals(changes, CBOR.readValue(stored, SpaceEvent.PidsChanged.class).changes());
  }

  @Test
  void anEventStoredBeforeRuns_readsAsItWas() throws Exception {
    byte[] old = CBOR.writeValueAsBytes(Map.of("changes", new int[] {2, 3, -2, PidMap.AT | 7, 2}));

    assertArrayEquals(new int[] {2, 3, -2, PidMap.AT | 7, 2}, CBOR.readValue(old, SpaceEvent.PidsChanged.class).changes());
  }

  @Test
  void malformedRuns_areRefusedWithoutAHugeArray() {
    byte[] truncated = {(byte) 0x82};
    byte[] zero = {0, 0};
    byte[] endless = {2, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F};
    byte[] pastIntRange = {(byte) 0xFC, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, 4};

    for (byte[] runs : new byte[][] {truncated, zero, endless, pastIntRange}) {
      assertThrows(IllegalArgumentException.class, () -> PidRuns.decode(runs));
    }
    assertThrows(DatabindException.class,
        () -> CBOR.readValue(CBOR.writeValueAsBytes(Map.of("runs", zero)), SpaceEvent.PidsChanged.class));
  }
}
