package io.pidspace.core;

import static io.pidspace.core.PidMap.NONE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Random operation sequences give the same answers from {@link PidMap} and from a naive model. */
class PidMapPropertyTest {

  private static final int OPS = 3_000;

  static Stream<Arguments> runs() {
    return IntStream.of(1, 2, 3).boxed().flatMap(seed ->
        Stream.of(0, 9).flatMap(space ->
            IntStream.of(301, 32_768, 100_000, 4_194_304).mapToObj(pidMax -> Arguments.of(seed, space, pidMax))));
  }

  @ParameterizedTest(name = "seed {0}, space {1}, pid_max {2}")
  @MethodSource("runs")
  void randomOperations_agreeWithTheModel(long seed, int space, int pidMax) {
    Random rnd = new Random(seed);
    PidMap map = PidMap.create(PidLayout.DEFAULT, space, pidMax);
    Model model = new Model(space, pidMax);
    int maxBatch = Math.max(4, Math.min(pidMax / 64, 512));

    // Start near the top, half full, so that even the largest space wraps within the run.
    allocCount(map, model, pidMax - 1 - rnd.nextInt(Math.min(pidMax / 4, 4 * maxBatch)));
    freeAll(map, model, model.live.stream().filter(v -> rnd.nextBoolean()).toArray());

    boolean growing = true; // until the space runs out, then draining down to a quarter
    for (int op = 0; op < OPS; op++) {
      if (model.ranOut) {
        growing = false;
        model.ranOut = false;
      } else if (model.allocated < pidMax / 4) {
        growing = true;
      }
      String step = "seed " + seed + " op " + op;
      int r = rnd.nextInt(100);
      if (r < 10) {
        int live = model.randomLive(rnd);
        if (live != NONE) {
          model.free(live);
          map.free(live);
        }
      } else if (r < 20) {
        int bogus = model.randomNotLive(rnd);
        PidspaceException e = assertThrows(PidspaceException.class, () -> map.free(bogus), step);
        assertEquals(model.refusal(bogus), e.code(), step);
      } else if (r < 25) {
        int[] peeked = new int[1 + rnd.nextInt(maxBatch)];
        SpaceStats before = map.stats();
        map.peek(peeked.length, peeked);
        assertEquals(before, map.stats(), step);
        assertArrayEquals(peeked, allocCount(map, model, peeked.length), step);
      } else if (r < (growing ? 60 : 35)) {
        assertEquals(model.alloc(), map.alloc(), step);
      } else if (r < (growing ? 80 : 40)) {
        allocCount(map, model, 1 + rnd.nextInt(maxBatch));
      } else {
        freeAll(map, model, randomBatch(rnd, model, 1 + rnd.nextInt(growing ? maxBatch / 4 : 4 * maxBatch)));
      }
      assertEquals(model.lastPid, map.lastPid(), step);
      assertEquals(model.allocated, map.allocated(), step);
    }

    IntStream.Builder live = IntStream.builder();
    map.forEachAllocated(live::add);
    assertArrayEquals(model.live.stream().toArray(), live.build().toArray());
  }

  /**
   * A run decides mixed requests exactly as one by one (checked against the model request by
   * request); rolled back it leaves the map as it was; its record, applied, gives the model's state.
   */
  @ParameterizedTest(name = "seed {0}, space {1}, pid_max {2}")
  @MethodSource("runs")
  void randomRuns_decideAsOneByOne_rollBackExactly_andReplayTheirRecord(long seed, int space, int pidMax) {
    Random rnd = new Random(seed);
    PidMap map = PidMap.create(PidLayout.DEFAULT, space, pidMax);
    Model model = new Model(space, pidMax);
    int maxBatch = Math.max(4, Math.min(pidMax / 64, 512));
    allocCount(map, model, pidMax - 1 - rnd.nextInt(Math.min(pidMax / 4, 4 * maxBatch)));

    for (int r = 0; r < 300; r++) {
      String step = "seed " + seed + " run " + r;
      SpaceStats before = map.stats();
      boolean compareBits = r % 25 == 0; // a whole-map walk: every run would cost minutes at 4,194,304
      int[] liveBefore = compareBits ? live(map) : null;
      PidMap.Run run = map.begin();
      for (int i = 1 + rnd.nextInt(8); i > 0; i--) {
        int kind = rnd.nextInt(3);
        if (kind == 0) {
          int count = 1 + rnd.nextInt(maxBatch);
          int[] expected = new int[count];
          int m = model.allocAll(expected);
          int[] out = new int[count];
          assertEquals(m, run.alloc(count, out), step);
          assertArrayEquals(expected, out, step);
        } else {
          int vpid = kind == 1 ? model.randomLive(rnd) : model.randomNotLive(rnd);
          PidspaceException.Code expected = vpid == NONE ? PidspaceException.Code.OUT_OF_RANGE : model.refusal(vpid);
          PidspaceException refusal = run.free(vpid);
          assertEquals(expected, refusal == null ? null : refusal.code(), step);
          if (expected == null) {
            model.free(vpid);
          }
        }
      }
      int[] record = run.changes();
      run.rollback();
      assertEquals(before, map.stats(), step);
      if (compareBits) {
        assertArrayEquals(liveBefore, live(map), step);
      }
      map.apply(record);
      assertEquals(model.lastPid, map.lastPid(), step);
      assertEquals(model.allocated, map.allocated(), step);
    }
    assertArrayEquals(model.live.stream().toArray(), live(map));
  }

  private static int[] live(PidMap map) {
    IntStream.Builder live = IntStream.builder();
    map.forEachAllocated(live::add);
    return live.build().toArray();
  }

  /** @return what the map handed out, zeros after the last one */
  private static int[] allocCount(PidMap map, Model model, int count) {
    int[] expected = new int[count];
    int m = model.allocAll(expected);
    int[] out = new int[count];
    assertEquals(m, map.alloc(count, out));
    assertArrayEquals(expected, out);
    return out;
  }

  private static void freeAll(PidMap map, Model model, int[] vpids) {
    List<String> expected = new ArrayList<>();
    int expectedFreed = 0;
    for (int i = 0; i < vpids.length; i++) {
      PidspaceException.Code refusal = model.refusal(vpids[i]);
      if (refusal == null) {
        model.free(vpids[i]);
        expectedFreed++;
      } else {
        expected.add(i + " " + refusal);
      }
    }
    List<String> refused = new ArrayList<>();
    assertEquals(expectedFreed, map.freeAll(vpids, (i, reason) -> refused.add(i + " " + reason.code())));
    assertEquals(expected, refused);
  }

  /**
   * Distinct random live vpids and up to three refusals (a repeat or a vpid that is not live),
   * shuffled. Few refusals: each builds an exception, which is slow under JUnit's deep stacks.
   */
  private static int[] randomBatch(Random rnd, Model model, int size) {
    int n = Math.min(size, model.allocated);
    int from = rnd.nextInt(model.allocated - n + 1);
    int[] live = Arrays.copyOfRange(model.liveList, from, from + n);
    int[] batch = Arrays.copyOf(live, live.length + rnd.nextInt(4));
    for (int i = live.length; i < batch.length; i++) {
      batch[i] = live.length > 0 && rnd.nextBoolean() ? live[rnd.nextInt(live.length)] : model.randomNotLive(rnd);
    }
    for (int i = batch.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = batch[i];
      batch[i] = batch[j];
      batch[j] = t;
    }
    return batch;
  }

  /**
   * DESIGN.md §1 in words, on a plain bit set: no pages, no free counts. The live vpids are also
   * kept in a list (in no particular order), only so that picking random ones is cheap.
   */
  private static final class Model {
    final int pidMax;
    final int reservedFloor;
    final BitSet live = new BitSet();
    final int[] liveList;
    final int[] indexInList;
    int lastPid;
    int allocated;
    boolean ranOut;

    Model(int space, int pidMax) {
      this.pidMax = pidMax;
      this.reservedFloor = space == 0 ? 300 : 1;
      this.lastPid = space == 0 ? 0 : 1;
      this.liveList = new int[pidMax];
      this.indexInList = new int[pidMax];
    }

    int alloc() {
      // The lowest free vpid v with last_pid < v < pid_max ...
      int v = live.nextClearBit(lastPid + 1);
      if (v >= pidMax) {
        // ... else the lowest free v with reserved <= v <= last_pid, else exhausted.
        v = live.nextClearBit(reservedFloor);
        if (v > lastPid) {
          ranOut = true;
          return NONE;
        }
      }
      live.set(v);
      lastPid = v;
      indexInList[v] = allocated;
      liveList[allocated++] = v;
      return v;
    }

    int allocAll(int[] out) {
      int n = 0;
      for (int v; n < out.length && (v = alloc()) != NONE; ) {
        out[n++] = v;
      }
      return n;
    }

    PidspaceException.Code refusal(int vpid) {
      if (vpid < 0 || vpid >= pidMax) {
        return PidspaceException.Code.OUT_OF_RANGE;
      }
      if (vpid == 0) {
        return PidspaceException.Code.RESERVED_PID;
      }
      return live.get(vpid) ? null : PidspaceException.Code.NOT_ALLOCATED;
    }

    void free(int vpid) {
      live.clear(vpid);
      int moved = liveList[--allocated];
      liveList[indexInList[vpid]] = moved;
      indexInList[moved] = indexInList[vpid];
    }

    int randomLive(Random rnd) {
      return allocated == 0 ? NONE : liveList[rnd.nextInt(allocated)];
    }

    /** A vpid that is not live: out of range, reserved, or a free one in range. */
    int randomNotLive(Random rnd) {
      return switch (rnd.nextInt(4)) {
        case 0 -> -1 - rnd.nextInt(1 << 20);
        case 1 -> pidMax + rnd.nextInt(1 << 20);
        case 2 -> 0;
        default -> {
          int v = live.nextClearBit(1 + rnd.nextInt(pidMax - 1));
          yield v < pidMax ? v : 0;
        }
      };
    }
  }
}
