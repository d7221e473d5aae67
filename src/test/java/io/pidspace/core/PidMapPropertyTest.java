package io.pidspace.core;

import static io.pidspace.core.PidMap.NONE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
      PidMap.Draft run = map.draft();
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

  static Stream<Arguments> exactRuns() {
    return IntStream.of(1, 2, 3).boxed().flatMap(seed ->
        Stream.of(0, 9).flatMap(space -> IntStream.of(301, 2_000, 40_000).mapToObj(pidMax -> Arguments.of(seed, space, pidMax))));
  }

  /**
   * Runs mixing next-fit allocs, frees, alloc-at (with and without a hold), holds, releases,
   * expiry and pid_max changes answer as the model does request by request; each run, rolled
   * back, leaves the map as it was, and its record replayed gives the model's state.
   */
  @ParameterizedTest(name = "seed {0}, space {1}, pid_max {2}")
  @MethodSource("exactRuns")
  void randomRunsWithExactVpidsHoldsAndPidMax_agreeWithTheModel(long seed, int space, int pidMax) {
    Random rnd = new Random(seed);
    PidMap map = PidMap.create(PidLayout.DEFAULT, space, pidMax);
    ExactModel model = new ExactModel(space, pidMax);
    long now = 0;
    for (int r = 0; r < 400; r++) {
      String step = "seed " + seed + " run " + r;
      SpaceStats before = map.stats();
      String holdsBefore = holds(map);
      int[] liveBefore = live(map);
      PidMap.Draft run = map.draft();
      now += rnd.nextInt(50);
      run.at(now);
      model.expire(now);
      for (int i = 1 + rnd.nextInt(6); i > 0; i--) {
        int kind = rnd.nextInt(10);
        if (kind < 3) {
          int count = 1 + rnd.nextInt(Math.max(1, model.pidMax / 20));
          int[] expected = new int[count];
          int m = model.allocAll(expected);
          int[] out = new int[count];
          assertEquals(m, run.alloc(count, out), step);
          assertArrayEquals(expected, out, step);
        } else if (kind < 5) {
          int vpid = model.randomLive(rnd);
          if (vpid > 0) {
            assertEquals(null, run.free(vpid), step);
            model.free(vpid);
          }
        } else if (kind < 7) {
          int[] vpids = model.randomVpids(rnd);
          int hold = rnd.nextInt(3) == 0 ? model.randomHold(rnd) : 0;
          PidspaceException.Code expected = model.allocAt(vpids, hold);
          PidspaceException refusal = run.allocAt(vpids, hold);
          assertEquals(expected, refusal == null ? null : refusal.code(), step);
        } else if (kind < 8) {
          int[] vpids = model.randomVpids(rnd);
          long expiresAt = now + rnd.nextInt(500);
          PidspaceException.Code expected = model.hold(vpids, expiresAt);
          if (expected == null) {
            assertEquals(model.lastHold, run.hold(vpids, expiresAt), step);
          } else {
            assertEquals(expected, assertThrows(PidspaceException.class, () -> run.hold(vpids, expiresAt), step).code(), step);
          }
        } else if (kind < 9 && rnd.nextInt(8) == 0) {
          long delay = rnd.nextBoolean() ? 0 : 1 + rnd.nextInt(300);
          run.setReuseDelay(delay);
          model.reuseDelay = delay;
        } else if (kind < 9) {
          int hold = model.randomHold(rnd);
          PidspaceException refusal = run.release(hold);
          assertEquals(model.holds.containsKey(hold) ? null : PidspaceException.Code.UNKNOWN_HOLD,
              refusal == null ? null : refusal.code(), step);
          model.release(hold);
        } else {
          int newMax = rnd.nextBoolean() ? 301 + rnd.nextInt(pidMax * 2) : model.highest() + 1 + rnd.nextInt(20);
          PidspaceException.Code expected = model.setPidMax(newMax);
          if (expected == null) {
            run.setPidMax(newMax);
          } else {
            assertEquals(expected, assertThrows(PidspaceException.class, () -> run.setPidMax(newMax), step).code(), step);
          }
        }
      }
      List<PidMap.Step> record = run.records();
      run.rollback();
      assertEquals(withoutPages(before), withoutPages(map.stats()), step); // a rollback keeps created pages
      assertEquals(holdsBefore, holds(map), step);
      assertArrayEquals(liveBefore, live(map), step);
      PidMapExactTest.replay(map, record);
      assertEquals(model.lastPid, map.lastPid(), step);
      assertEquals(model.pidMax, map.pidMax(), step);
      assertArrayEquals(model.live.stream().filter(v -> v != 0).toArray(), live(map), step);
      assertEquals(model.holdsString(), holds(map), step);
    }
  }

  private static List<Integer> withoutPages(SpaceStats stats) {
    return List.of(stats.pidMax(), stats.allocated(), stats.lastPid());
  }

  private static String holds(PidMap map) {
    return map.holds().stream().map(h -> h.id() + Arrays.toString(h.vpids()) + "@" + h.expiresAt()).toList().toString();
  }

  /** The §1 rule with alloc-at, holds and pid_max changes, on plain collections (issue 11 in words). */
  private static final class ExactModel {
    final int reservedFloor;
    final BitSet live = new BitSet();
    final TreeMap<Integer, TreeSet<Integer>> holds = new TreeMap<>();
    final Map<Integer, Long> expiry = new HashMap<>();
    final Map<Integer, Long> cooling = new HashMap<>();
    int pidMax;
    int lastPid;
    int lastHold;
    long reuseDelay;
    long now;

    ExactModel(int space, int pidMax) {
      this.pidMax = pidMax;
      this.reservedFloor = space == 0 ? 300 : 1;
      this.lastPid = space == 0 ? 0 : 1;
      if (space == 0) {
        live.set(0);
      }
    }

    boolean held(int v) {
      return holds.values().stream().anyMatch(h -> h.contains(v));
    }

    int holdOf(int v) {
      return holds.entrySet().stream().filter(e -> e.getValue().contains(v)).map(Map.Entry::getKey).findFirst().orElse(0);
    }

    /** Next-fit over vpids that are free, in no hold, and not cooling down after a free. */
    int alloc() {
      for (int v = lastPid + 1; v < pidMax; v++) {
        if (takeable(v)) {
          return take(v);
        }
      }
      for (int v = reservedFloor; v <= lastPid; v++) {
        if (takeable(v)) {
          return take(v);
        }
      }
      return NONE;
    }

    private boolean takeable(int v) {
      return !live.get(v) && !held(v) && cooling.getOrDefault(v, Long.MIN_VALUE) <= now;
    }

    void free(int v) {
      live.clear(v);
      if (reuseDelay > 0) {
        cooling.put(v, now + reuseDelay);
      }
    }

    private int take(int v) {
      live.set(v);
      lastPid = v;
      return v;
    }

    int allocAll(int[] out) {
      int n = 0;
      for (int v; n < out.length && (v = alloc()) != NONE; ) {
        out[n++] = v;
      }
      return n;
    }

    /** Range, duplicates, in use, then held by another hold ({@code hold} -1: by any). */
    PidspaceException.Code check(int[] vpids, int hold) {
      Set<Integer> seen = new HashSet<>();
      for (int v : vpids) {
        if (v < 1 || v >= pidMax) {
          return PidspaceException.Code.OUT_OF_RANGE;
        }
        if (!seen.add(v)) {
          return PidspaceException.Code.BAD_REQUEST;
        }
      }
      for (int v : vpids) {
        if (live.get(v)) {
          return PidspaceException.Code.PID_IN_USE;
        }
      }
      for (int v : vpids) {
        if (held(v) && (hold == -1 || holdOf(v) != hold)) {
          return PidspaceException.Code.PID_HELD;
        }
      }
      return null;
    }

    PidspaceException.Code allocAt(int[] vpids, int hold) {
      if (hold != 0 && !holds.containsKey(hold)) {
        return PidspaceException.Code.UNKNOWN_HOLD;
      }
      PidspaceException.Code refusal = check(vpids, hold);
      if (refusal == null) {
        for (int v : vpids) {
          int h = holdOf(v);
          if (h != 0) {
            holds.get(h).remove(v);
            if (holds.get(h).isEmpty()) {
              release(h);
            }
          }
          live.set(v);
        }
      }
      return refusal;
    }

    PidspaceException.Code hold(int[] vpids, long expiresAt) {
      PidspaceException.Code refusal = check(vpids, -1);
      if (refusal == null) {
        lastHold++;
        TreeSet<Integer> set = new TreeSet<>();
        for (int v : vpids) {
          set.add(v);
        }
        holds.put(lastHold, set);
        expiry.put(lastHold, expiresAt);
      }
      return refusal;
    }

    void release(int hold) {
      holds.remove(hold);
      expiry.remove(hold);
    }

    void expire(long now) {
      this.now = now;
      new ArrayList<>(holds.keySet()).stream().filter(h -> expiry.get(h) <= now).forEach(this::release);
    }

    int highestLive() {
      int v = live.length() - 1;
      return Math.max(v, 0);
    }

    int highestHeld() {
      return holds.values().stream().mapToInt(TreeSet::last).max().orElse(0);
    }

    int highest() {
      return Math.max(highestLive(), highestHeld());
    }

    PidspaceException.Code setPidMax(int newMax) {
      if (newMax < 301 || newMax > PidLayout.DEFAULT.pidMaxLimit()) {
        return PidspaceException.Code.OUT_OF_RANGE;
      }
      if (highest() >= newMax) {
        return highestHeld() > highestLive() ? PidspaceException.Code.PID_HELD : PidspaceException.Code.PID_IN_USE;
      }
      pidMax = newMax;
      lastPid = Math.min(lastPid, newMax - 1);
      return null;
    }

    int randomLive(Random rnd) {
      int v = live.nextSetBit(1 + rnd.nextInt(pidMax - 1));
      return v < 0 ? live.nextSetBit(1) : v;
    }

    int randomHold(Random rnd) {
      return rnd.nextInt(4) == 0 || holds.isEmpty() ? lastHold + 1 + rnd.nextInt(3) : new ArrayList<>(holds.keySet()).get(rnd.nextInt(holds.size()));
    }

    /** One to five vpids: mostly free ones near each other, sometimes live, held, repeated or out of range. */
    int[] randomVpids(Random rnd) {
      int[] vpids = new int[1 + rnd.nextInt(5)];
      int base = 1 + rnd.nextInt(pidMax - 1);
      for (int i = 0; i < vpids.length; i++) {
        int pick = rnd.nextInt(20);
        vpids[i] = pick == 0 ? pidMax + rnd.nextInt(10)
            : pick == 1 ? 0
            : pick == 2 && i > 0 ? vpids[0]
            : pick == 3 ? randomLive(rnd)
            : pick == 4 && !holds.isEmpty() ? holds.firstEntry().getValue().first()
            : Math.min(pidMax - 1, base + i * (1 + rnd.nextInt(3)));
      }
      return vpids;
    }

    String holdsString() {
      List<String> out = new ArrayList<>();
      holds.forEach((id, set) -> out.add(id + set.toString() + "@" + expiry.get(id)));
      return out.toString();
    }
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
