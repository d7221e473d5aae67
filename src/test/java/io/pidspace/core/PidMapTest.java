package io.pidspace.core;

import static io.pidspace.core.PidMap.NONE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pidspace.core.PidspaceException.Code;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** DESIGN.md §1, row by row, over a tiny space, one page, several pages and the maximum. */
class PidMapTest {

  private static final PidLayout LAYOUT = PidLayout.DEFAULT;
  private static final int DFLT = PidLayout.DEFAULT_SPACE;
  private static final int OTHER = 5;

  static IntStream pidMaxes() {
    return IntStream.of(301, 32_768, 100_000, 4_194_304);
  }

  static Stream<Arguments> spacesAndPidMaxes() {
    return Stream.of(DFLT, OTHER).flatMap(s -> pidMaxes().mapToObj(m -> Arguments.of(s, m)));
  }

  @ParameterizedTest
  @MethodSource("pidMaxes")
  void alloc_defaultSpaceStartsAtOne(int pidMax) {
    PidMap map = PidMap.create(LAYOUT, DFLT, pidMax);
    assertEquals(0, map.lastPid());
    assertEquals(1, map.alloc());
    assertEquals(2, map.alloc());
    assertEquals(2, map.lastPid());
  }

  @ParameterizedTest
  @MethodSource("pidMaxes")
  void alloc_newSpaceStartsAtTwo(int pidMax) {
    PidMap map = PidMap.create(LAYOUT, OTHER, pidMax);
    assertEquals(1, map.lastPid());
    assertEquals(2, map.alloc());
    assertEquals(3, map.alloc());
  }

  @ParameterizedTest
  @MethodSource("pidMaxes")
  void alloc_defaultSpaceHandsOutEveryVpidOnceThenIsExhausted(int pidMax) {
    PidMap map = PidMap.create(LAYOUT, DFLT, pidMax);
    for (int v = 1; v < pidMax; v++) {
      assertEquals(v, map.alloc());
    }
    assertExhaustedAndUnchanged(map);
  }

  @ParameterizedTest
  @MethodSource("pidMaxes")
  void alloc_newSpaceHandsOutEveryVpidOnceThenIsExhausted(int pidMax) {
    PidMap map = PidMap.create(LAYOUT, OTHER, pidMax);
    for (int v = 2; v < pidMax; v++) {
      assertEquals(v, map.alloc());
    }
    assertEquals(1, map.alloc()); // the wrap reaches the floor of a non-default space
    assertExhaustedAndUnchanged(map);
  }

  private static void assertExhaustedAndUnchanged(PidMap map) {
    SpaceStats full = map.stats();
    assertEquals(map.pidMax() - 1, full.allocated());
    assertEquals(NONE, map.alloc());
    assertEquals(NONE, map.alloc());
    assertEquals(full, map.stats());
  }

  @ParameterizedTest
  @MethodSource("pidMaxes")
  void alloc_wrapsToReservedFloor(int pidMax) {
    PidMap dflt = PidMap.create(LAYOUT, DFLT, pidMax);
    dflt.freeAll(allocToTop(dflt), PidMapTest::failOnRefusal);
    assertEquals(300, dflt.alloc()); // vpids 1..299 are free, but below the floor

    PidMap other = PidMap.create(LAYOUT, OTHER, pidMax);
    other.freeAll(allocToTop(other), PidMapTest::failOnRefusal);
    assertEquals(1, other.alloc());
  }

  @ParameterizedTest
  @MethodSource("pidMaxes")
  void alloc_defaultSpaceHandsOutVpidsBelow300OnlyBeforeTheFirstWrap(int pidMax) {
    PidMap map = PidMap.create(LAYOUT, DFLT, pidMax);
    int[] beforeWrap = allocToTop(map);
    assertEquals(1, beforeWrap[0]);
    map.freeAll(beforeWrap, PidMapTest::failOnRefusal);

    for (int v = 300; v < pidMax; v++) {
      assertEquals(v, map.alloc());
    }
    assertEquals(NONE, map.alloc()); // though vpids 1..299 are free
    assertFalse(map.isAllocated(1));
    assertFalse(map.isAllocated(299));
  }

  /** The seed's loop gives up here and returns -1; DESIGN.md §1 says hand out last_pid. */
  @ParameterizedTest
  @MethodSource("spacesAndPidMaxes")
  void alloc_returnsLastPidWhenItIsTheOnlyFreeVpid(int space, int pidMax) {
    PidMap map = PidMap.create(LAYOUT, space, pidMax);
    fill(map);
    int mid = Math.max(PidLayout.RESERVED_PIDS, pidMax / 2);
    map.free(mid);
    assertEquals(mid, map.alloc());
    assertEquals(mid, map.lastPid());

    map.free(mid);
    assertEquals(mid, map.alloc());
    assertEquals(NONE, map.alloc());
  }

  @ParameterizedTest
  @ValueSource(ints = {100_000, 4_194_304})
  void alloc_crossesPageBoundaries(int pidMax) {
    PidMap map = PidMap.create(LAYOUT, OTHER, pidMax);
    int[] out = new int[32_766];
    assertEquals(32_766, map.alloc(32_766, out));
    assertEquals(32_767, out[32_765]);
    assertEquals(1, map.pagesInUse());
    assertEquals(32_768, map.alloc()); // first vpid of a page not created yet
    assertEquals(2, map.pagesInUse());

    fill(map);
    int[] holes = {32_767, 32_768, 32_769, 65_535, 65_536, 98_303, 98_304};
    map.freeAll(holes, PidMapTest::failOnRefusal);
    for (int hole : holes) {
      assertEquals(hole, map.alloc());
    }
    assertEquals(NONE, map.alloc());
    assertEquals((pidMax + PidMap.BITS_PER_PAGE - 1) / PidMap.BITS_PER_PAGE, map.pagesInUse());
  }

  /** Every way a free can be refused, each changing nothing. */
  @ParameterizedTest
  @CsvSource({
    "0, 0,           reserved-pid",
    "5, 0,           reserved-pid",
    "0, 5,           not-allocated",
    "5, 5,           not-allocated",
    "0, 40,          not-allocated",
    "5, 70000,       not-allocated",
    "0, 100000,      out-of-range",
    "5, 4194304,     out-of-range",
    "0, -1,          out-of-range",
    "5, -2147483648, out-of-range",
  })
  void free_refusesAndChangesNothing(int space, int vpid, String code) {
    PidMap map = PidMap.create(LAYOUT, space, 100_000);
    int[] out = new int[20];
    map.alloc(20, out);
    map.free(5); // so vpid 5 is a double free
    SpaceStats before = map.stats();
    int[] liveBefore = live(map);

    assertEquals(code, map.checkFree(vpid).code().wire());
    PidspaceException e = assertThrows(PidspaceException.class, () -> map.free(vpid));
    assertEquals(code, e.code().wire());
    assertTrue(e.getMessage().contains("vpid " + vpid), e.getMessage());
    assertTrue(e.getMessage().contains("space " + space), e.getMessage());
    List<String> refused = new ArrayList<>();
    assertEquals(0, map.freeAll(new int[] {vpid}, (i, r) -> refused.add(i + " " + r.code().wire())));
    assertEquals(List.of("0 " + code), refused);

    assertEquals(before, map.stats());
    assertArrayEquals(liveBefore, live(map));
    assertEquals(before.lastPid() + 1, map.alloc()); // next-fit did not move
  }

  @Test
  void free_rejectsBeyondPidMapNamingTheBound() {
    PidMap map = PidMap.create(LAYOUT, 3, 40_000);
    PidspaceException e = assertThrows(PidspaceException.class, () -> map.free(40_000));
    assertEquals(Code.OUT_OF_RANGE, e.code());
    assertTrue(e.getMessage().contains("pid_max 40000"), e.getMessage());
  }

  @ParameterizedTest
  @MethodSource("spacesAndPidMaxes")
  void allocCount_equalsThatManySingleAllocs(int space, int pidMax) {
    PidMap batched = fragmented(space, pidMax);
    PidMap single = fragmented(space, pidMax);
    for (int count : new int[] {1, 7, pidMax / 3, pidMax}) { // the last one runs out
      int[] out = new int[count];
      int n = batched.alloc(count, out);

      int[] expected = new int[count];
      int m = 0;
      for (int v; m < count && (v = single.alloc()) != NONE; ) {
        expected[m++] = v;
      }
      assertEquals(m, n, "count " + count);
      assertArrayEquals(Arrays.copyOf(expected, m), Arrays.copyOf(out, n), "count " + count);
      assertEquals(single.stats(), batched.stats(), "count " + count);
    }
    assertEquals(NONE, batched.alloc());
  }

  @Test
  void allocCount_stopsEarlyWhenExhausted() {
    PidMap map = PidMap.create(LAYOUT, DFLT, 301);
    int[] out = new int[500];
    assertEquals(300, map.alloc(500, out));
    assertEquals(300, out[299]);
    assertEquals(0, map.alloc(500, out));
    assertEquals(300, map.lastPid());
  }

  @Test
  void allocCount_zeroAllocatesNothing() {
    PidMap map = PidMap.create(LAYOUT, OTHER, 32_768);
    assertEquals(0, map.alloc(0, new int[0]));
    assertEquals(0, map.peek(0, new int[8]));
    assertEquals(0, map.allocated());
    assertEquals(1, map.lastPid());
  }

  @ParameterizedTest
  @MethodSource("spacesAndPidMaxes")
  void peek_changesNothingAndAnswersWhatAllocWouldGive(int space, int pidMax) {
    PidMap map = fragmented(space, pidMax);
    SpaceStats before = map.stats();
    int count = Math.min(pidMax, 5_000);
    int[] peeked = new int[count];
    int n = map.peek(count, peeked);
    assertEquals(before, map.stats());
    assertFalse(map.isAllocated(peeked[0]));

    int[] allocated = new int[count];
    assertEquals(n, map.alloc(count, allocated));
    assertArrayEquals(peeked, allocated);
  }

  @Test
  void markAllocated_takesTheVpidsAndMovesLastPidToTheLastOne() {
    PidMap map = PidMap.create(LAYOUT, OTHER, 100_000);
    map.markAllocated(new int[] {70_000, 50, 7, 99}, 3); // the fourth is not part of the batch
    assertTrue(map.isAllocated(70_000) && map.isAllocated(50) && map.isAllocated(7));
    assertFalse(map.isAllocated(99));
    assertEquals(new SpaceStats(OTHER, 100_000, 3, 7, 2), map.stats());
    assertEquals(8, map.alloc());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 7, 100_000, -1})
  void markAllocated_rejectsTakenOrOutOfRangeVpids(int vpid) {
    PidMap map = PidMap.create(LAYOUT, DFLT, 100_000);
    map.markAllocated(new int[] {7}, 1);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> map.markAllocated(new int[] {vpid}, 1));
    assertTrue(e.getMessage().contains("vpid " + vpid), e.getMessage());
  }

  @Test
  void freeAll_freesADuplicateOnceAndRefusesTheRepeat() {
    PidMap map = PidMap.create(LAYOUT, OTHER, 32_768);
    map.alloc(5, new int[5]); // 2..6
    List<String> refused = new ArrayList<>();
    int freed = map.freeAll(new int[] {3, 3, 4, 0, 99, 4, 40_000}, (i, r) -> refused.add(i + " " + r.code().wire()));
    assertEquals(2, freed);
    assertEquals(List.of("1 not-allocated", "3 reserved-pid", "4 not-allocated", "5 not-allocated", "6 out-of-range"), refused);
    assertArrayEquals(new int[] {2, 5, 6}, live(map));
    assertEquals(3, map.allocated());
  }

  @Test
  void forEachAllocated_visitsLiveVpidsInAscendingOrderAcrossPages() {
    PidMap map = PidMap.create(LAYOUT, DFLT, 100_000);
    int[] vpids = {99_999, 1, 64, 32_768, 63, 32_767, 65_536};
    map.markAllocated(vpids, vpids.length);
    map.free(65_536);
    assertArrayEquals(new int[] {1, 63, 64, 32_767, 32_768, 99_999}, live(map)); // never vpid 0
  }

  @Test
  void stats_countLivePidsPagesAndLastPid() {
    assertEquals(new SpaceStats(DFLT, 100_000, 0, 0, 1), PidMap.create(LAYOUT, DFLT, 100_000).stats());
    PidMap map = PidMap.create(LAYOUT, OTHER, 100_000);
    assertEquals(new SpaceStats(OTHER, 100_000, 0, 1, 0), map.stats());
    map.alloc();
    map.markAllocated(new int[] {70_000}, 1);
    assertEquals(new SpaceStats(OTHER, 100_000, 2, 70_000, 2), map.stats());
    map.free(2);
    assertEquals(1, map.allocated());
    assertNull(map.checkFree(70_000));
  }

  @ParameterizedTest
  @CsvSource({"512, 32768, space 512", "-1, 32768, space -1", "1, 300, pid_max 300", "1, 4194305, pid_max 4194305"})
  void create_rejectsSpaceOrPidMaxOutsideTheLayout(int space, int pidMax, String named) {
    PidspaceException e = assertThrows(PidspaceException.class, () -> PidMap.create(LAYOUT, space, pidMax));
    assertEquals(Code.OUT_OF_RANGE, e.code());
    assertTrue(e.getMessage().contains(named), e.getMessage());
  }

  /** Allocates until {@code lastPid} is the top vpid, so the next alloc wraps. */
  private static int[] allocToTop(PidMap map) {
    int[] out = new int[map.pidMax() - 1 - map.lastPid()];
    assertEquals(out.length, map.alloc(out.length, out));
    assertEquals(map.pidMax() - 1, map.lastPid());
    return out;
  }

  private static void fill(PidMap map) {
    map.alloc(map.pidMax(), new int[map.pidMax()]);
    assertEquals(NONE, map.alloc());
  }

  /** Past its first wrap, every third vpid free, last_pid near the middle. */
  private static PidMap fragmented(int space, int pidMax) {
    PidMap map = PidMap.create(LAYOUT, space, pidMax);
    for (int v : allocToTop(map)) {
      if (v % 3 == 0) {
        map.free(v);
      }
    }
    for (int i = 0; i < pidMax / 6; i++) {
      map.alloc();
    }
    return map;
  }

  private static int[] live(PidMap map) {
    IntStream.Builder vpids = IntStream.builder();
    map.forEachAllocated(vpids::add);
    return vpids.build().toArray();
  }

  private static void failOnRefusal(int index, PidspaceException reason) {
    fail("entry " + index + " refused: " + reason.getMessage());
  }
}
