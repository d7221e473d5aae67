package io.pidspace.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PidLayoutTest {

  @Test
  void default_isTheSeedLayout() {
    PidLayout layout = PidLayout.DEFAULT;
    assertEquals(22, layout.shift());
    assertEquals(4_194_304, layout.pidMaxLimit());
    assertEquals(512, layout.maxSpaces());
    assertEquals(32_768, layout.defaultPidMax());
    assertEquals(300, layout.reservedFloor(0));
    assertEquals(1, layout.reservedFloor(7));
  }

  // The seed's MAX_NR_PIDSPACES: SHIFT > 22 ? 1 << (31 - SHIFT) : 512.
  @ParameterizedTest
  @CsvSource({
    "9,  512,        512, 512",
    "15, 32768,      512, 32768",
    "22, 4194304,    512, 32768",
    "23, 8388608,    256, 32768",
    "24, 16777216,   128, 32768",
    "30, 1073741824, 2,   32768",
  })
  void new_followsTheSeedRule(int shift, int pidMaxLimit, int maxSpaces, int defaultPidMax) {
    PidLayout layout = new PidLayout(shift);
    assertEquals(pidMaxLimit, layout.pidMaxLimit());
    assertEquals(maxSpaces, layout.maxSpaces());
    assertEquals(defaultPidMax, layout.defaultPidMax());
  }

  @ParameterizedTest
  @ValueSource(ints = {9, 15, 22, 24, 30})
  void encode_roundTripsAtTheCornersAndNeverGoesNegative(int shift) {
    PidLayout layout = new PidLayout(shift);
    int lastSpace = layout.maxSpaces() - 1;
    int lastVpid = layout.pidMaxLimit() - 1;
    for (int space : new int[] {0, 1, lastSpace}) {
      for (int vpid : new int[] {0, 1, 299, 300, lastVpid}) {
        int pid = layout.encode(space, vpid);
        assertTrue(pid >= 0, () -> "pid " + pid);
        assertEquals(space, layout.spaceOf(pid));
        assertEquals(vpid, layout.vpidOf(pid));
        assertEquals(pid, layout.checkPid(pid));
      }
    }
  }

  @Test
  void encode_packsSpaceAboveTheShift() {
    assertEquals(12_582_954, PidLayout.DEFAULT.encode(3, 42)); // 3 * 4,194,304 + 42
    assertEquals(42, PidLayout.DEFAULT.encode(0, 42)); // a space-0 pid is its vpid
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 0, 8, 31, 32})
  void new_rejectsShiftOutside9To30(int shift) {
    PidspaceException e = assertThrows(PidspaceException.class, () -> new PidLayout(shift));
    assertEquals(PidspaceException.Code.BAD_REQUEST, e.code());
    assertTrue(e.getMessage().contains("shift " + shift), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource({"22, -1", "22, 512", "24, 128", "30, 2"})
  void checkSpace_rejectsIdsOutsideTheLayout(int shift, int space) {
    PidLayout layout = new PidLayout(shift);
    assertOutOfRange(() -> layout.checkSpace(space), "space " + space);
  }

  @ParameterizedTest
  @CsvSource({"22, -1", "22, 2147483648", "15, 16777216", "24, 2147483648"})
  void checkPid_rejectsNegativeAndPastTheLastSpace(int shift, long pid) {
    PidLayout layout = new PidLayout(shift);
    assertOutOfRange(() -> layout.checkPid(pid), "pid " + pid);
  }

  @ParameterizedTest
  @CsvSource({"22, 300", "22, 4194305", "9, 513", "22, -1"})
  void checkPidMax_rejectsValuesOutside301ToPidMaxLimit(int shift, long pidMax) {
    PidLayout layout = new PidLayout(shift);
    assertOutOfRange(() -> layout.checkPidMax(pidMax), "pid_max " + pidMax);
  }

  @ParameterizedTest
  @CsvSource({"22, 301", "22, 4194304", "9, 512"})
  void checkPidMax_acceptsTheBounds(int shift, int pidMax) {
    assertEquals(pidMax, new PidLayout(shift).checkPidMax(pidMax));
  }

  private static void assertOutOfRange(Runnable call, String named) {
    PidspaceException e = assertThrows(PidspaceException.class, call::run);
    assertEquals(PidspaceException.Code.OUT_OF_RANGE, e.code());
    assertTrue(e.getMessage().contains(named), () -> e.getMessage() + " should name " + named);
  }
}
