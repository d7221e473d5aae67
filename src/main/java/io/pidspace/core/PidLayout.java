package io.pidspace.core;

/**
 * How a global pid packs a space id and a vpid: {@code pid = (space << shift) | vpid}
 * (include/linux/pid.h of the seed). The top bit stays clear, so pids are never negative.
 */
public final class PidLayout {

  public static final int DEFAULT_SHIFT = 22;
  /** The seed's {@code PID_MAX_DEFAULT}: the allocation bound a space gets unless told otherwise. */
  public static final int PID_MAX_DEFAULT = 32_768;
  /** Space 0 restarts at {@code RESERVED_PIDS} after a wrap; vpids below it are boot-time only. */
  public static final int RESERVED_PIDS = 300;
  /** Other spaces restart at {@code RESERVED_PIDS_NON_DFLT}; only their vpid 0 is never handed out. */
  public static final int RESERVED_PIDS_NON_DFLT = 1;
  /** {@code pid_max_min} of the seed. */
  public static final int PID_MAX_MIN = RESERVED_PIDS + 1;
  public static final int DEFAULT_SPACE = 0;
  public static final int MIN_SHIFT = 9; // PID_MAX_LIMIT must hold PID_MAX_MIN
  public static final int MAX_SHIFT = 30; // leaves at least two spaces and the sign bit clear

  public static final PidLayout DEFAULT = new PidLayout(DEFAULT_SHIFT);

  private final int shift;
  private final int pidMaxLimit;
  private final int maxSpaces;

  public PidLayout(int shift) {
    if (shift < MIN_SHIFT || shift > MAX_SHIFT) {
      throw PidspaceException.badRequest(
          "shift " + shift + " is outside " + MIN_SHIFT + ".." + MAX_SHIFT);
    }
    this.shift = shift;
    this.pidMaxLimit = 1 << shift;
    // The seed's MAX_NR_PIDSPACES rule.
    this.maxSpaces = shift > 22 ? 1 << (31 - shift) : 512;
  }

  public int shift() {
    return shift;
  }

  /** {@code PID_MAX_LIMIT}: vpids per space. */
  public int pidMaxLimit() {
    return pidMaxLimit;
  }

  /** Space ids are {@code 0..maxSpaces-1}. */
  public int maxSpaces() {
    return maxSpaces;
  }

  /** {@link #PID_MAX_DEFAULT}, or the whole space when the layout is smaller than that. */
  public int defaultPidMax() {
    return Math.min(PID_MAX_DEFAULT, pidMaxLimit);
  }

  public int reservedFloor(int space) {
    return space == DEFAULT_SPACE ? RESERVED_PIDS : RESERVED_PIDS_NON_DFLT;
  }

  public int encode(int space, int vpid) {
    return (space << shift) | vpid;
  }

  public int spaceOf(int pid) {
    return pid >>> shift;
  }

  public int vpidOf(int pid) {
    return pid & (pidMaxLimit - 1);
  }

  public boolean isValidSpace(int space) {
    return space >= 0 && space < maxSpaces;
  }

  /**
   * The lowest space id a create without an id gets: the first above the default space that
   * {@code free} accepts.
   *
   * @throws PidspaceException {@code no-space-ids-left} when every one is taken
   */
  public int lowestFreeSpace(java.util.function.IntPredicate free) {
    for (int id = DEFAULT_SPACE + 1; id < maxSpaces; id++) {
      if (free.test(id)) {
        return id;
      }
    }
    throw new PidspaceException(PidspaceException.Code.NO_SPACE_IDS_LEFT, "all " + (maxSpaces - 1) + " space ids are in use");
  }

  /** @throws PidspaceException {@code out-of-range} unless {@code 0 <= space < maxSpaces} */
  public int checkSpace(int space) {
    if (!isValidSpace(space)) {
      throw PidspaceException.outOfRange(
          "space " + space + " is outside 0.." + (maxSpaces - 1) + " (shift " + shift + ")");
    }
    return space;
  }

  /** @throws PidspaceException {@code out-of-range} for a negative pid or one past the last space */
  public int checkPid(long pid) {
    long limit = (long) maxSpaces << shift;
    if (pid < 0 || pid >= limit) {
      throw PidspaceException.outOfRange(
          "pid " + pid + " is outside 0.." + (limit - 1) + " (shift " + shift + ")");
    }
    return (int) pid;
  }

  /** @throws PidspaceException {@code out-of-range} unless {@code 301 <= pidMax <= PID_MAX_LIMIT} */
  public int checkPidMax(long pidMax) {
    if (pidMax < PID_MAX_MIN || pidMax > pidMaxLimit) {
      throw PidspaceException.outOfRange(
          "pid_max " + pidMax + " is outside " + PID_MAX_MIN + ".." + pidMaxLimit);
    }
    return (int) pidMax;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PidLayout other && other.shift == shift;
  }

  @Override
  public int hashCode() {
    return shift;
  }

  @Override
  public String toString() {
    return "PidLayout[shift=" + shift + ", pidMaxLimit=" + pidMaxLimit + ", maxSpaces=" + maxSpaces + "]";
  }
}
