package io.pidspace.core;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * The vpid bitmap of one space: the seed's {@code pidmap_array} with its {@code last_pid}.
 *
 * <p>The single home of the allocation rule (DESIGN.md §1), next-fit: the lowest free vpid
 * {@code v} with {@code lastPid < v < pidMax}; else the lowest free {@code v} with {@code
 * reservedFloor <= v <= lastPid}; else the space is exhausted. Unlike the seed's loop, a space
 * whose only free vpid is {@code lastPid} itself hands that vpid out.
 *
 * <p>Paged like the seed: a page of {@value #BITS_PER_PAGE} bits is created on first use and
 * keeps its free count, so full pages are skipped without reading them. Not thread-safe: one
 * owner (an actor) at a time.
 */
public final class PidMap {

  public static final int BITS_PER_PAGE = 32_768;
  public static final int NONE = -1;
  private static final int PAGE_SHIFT = 15;
  private static final int PAGE_MASK = BITS_PER_PAGE - 1;
  private static final int WORDS_PER_PAGE = BITS_PER_PAGE / Long.SIZE;

  private final PidLayout layout;
  private final int space;
  private final int pidMax;
  private final int reservedFloor;
  private final long[][] pages;
  private final int[] freeInPage;
  private int lastPid;
  private int allocated;
  private int pagesInUse;

  private PidMap(PidLayout layout, int space, int pidMax, int reservedFloor, int lastPid) {
    this.layout = layout;
    this.space = space;
    this.pidMax = pidMax;
    this.reservedFloor = reservedFloor;
    this.lastPid = lastPid;
    int pageCount = (pidMax + BITS_PER_PAGE - 1) >>> PAGE_SHIFT;
    this.pages = new long[pageCount][];
    this.freeInPage = new int[pageCount];
    Arrays.fill(freeInPage, BITS_PER_PAGE);
  }

  /**
   * A fresh space as the seed makes it: space 0 with vpid 0 taken and {@code lastPid = 0};
   * any other space empty with {@code lastPid = 1}, so its first vpid is 2.
   */
  public static PidMap create(PidLayout layout, int space, int pidMax) {
    layout.checkSpace(space);
    layout.checkPidMax(pidMax);
    if (space != PidLayout.DEFAULT_SPACE) {
      return new PidMap(layout, space, pidMax, PidLayout.RESERVED_PIDS_NON_DFLT, PidLayout.RESERVED_PIDS_NON_DFLT);
    }
    PidMap map = new PidMap(layout, space, pidMax, PidLayout.RESERVED_PIDS, 0);
    map.set(0);
    map.allocated = 0; // vpid 0 is reserved, not a live process
    return map;
  }

  /**
   * A space as a snapshot recorded it: its bound, its cursor and its allocated vpids.
   *
   * @throws IllegalStateException if the record cannot describe a space of this layout
   */
  public static PidMap restore(PidLayout layout, int space, int pidMax, int lastPid, int[] allocated) {
    PidMap map = create(layout, space, pidMax);
    if (lastPid < 0 || lastPid >= pidMax) {
      throw new IllegalStateException("last_pid " + lastPid + " of space " + space + " is beyond pid_max " + pidMax);
    }
    map.markAllocated(allocated, allocated.length);
    map.lastPid = lastPid;
    return map;
  }

  /** Allocates one vpid by the rule; {@link #NONE} when the space is exhausted. */
  public int alloc() {
    int v = findFree(lastPid + 1, pidMax);
    if (v == NONE) {
      v = findFree(reservedFloor, lastPid + 1);
      if (v == NONE) {
        return NONE;
      }
    }
    set(v);
    lastPid = v;
    return v;
  }

  /**
   * Allocates up to {@code count} vpids into {@code out}, exactly as {@code count} calls of
   * {@link #alloc()} would, and stops early only when the space is exhausted.
   *
   * @return how many were allocated
   */
  public int alloc(int count, int[] out) {
    int n = peek(count, out);
    markAllocated(out, n);
    return n;
  }

  /**
   * The vpids that {@code count} allocations would hand out now, without changing anything:
   * every free vpid above {@code lastPid} in order, then every free one from the reserved floor
   * up to {@code lastPid}. Lets an event-sourced owner decide before it stores the event.
   *
   * @return how many were found (fewer than {@code count} only when the space runs out)
   */
  public int peek(int count, int[] out) {
    int n = collect(lastPid + 1, pidMax, count, 0, out);
    return n < count ? collect(reservedFloor, lastPid + 1, count, n, out) : n;
  }

  /**
   * Marks vpids that {@link #peek} chose as allocated; the last one becomes {@code lastPid}.
   *
   * @throws IllegalStateException if one is already allocated or out of range: the caller's
   *     record of this space is corrupt
   */
  public void markAllocated(int[] vpids, int n) {
    for (int i = 0; i < n; i++) { // check all first: a refused record changes nothing
      int v = vpids[i];
      if (v <= 0 || v >= pidMax || isSet(v)) {
        throw new IllegalStateException(name(v) + " cannot be marked allocated: it is taken or out of range");
      }
    }
    for (int i = 0; i < n; i++) {
      set(vpids[i]);
    }
    if (n > 0) {
      lastPid = vpids[n - 1];
    }
  }

  /** Frees one vpid. @throws PidspaceException and changes nothing if it was not allocated */
  public void free(int vpid) {
    PidspaceException refusal = checkFree(vpid);
    if (refusal != null) {
      throw refusal;
    }
    clear(vpid);
  }

  /** Why {@code vpid} cannot be freed now, or {@code null} if it can. */
  public PidspaceException checkFree(int vpid) {
    if (vpid < 0 || vpid >= pidMax) {
      return PidspaceException.outOfRange(name(vpid) + " is beyond pid_max " + pidMax + " of space " + space);
    }
    if (vpid == 0) {
      return new PidspaceException(PidspaceException.Code.RESERVED_PID, name(vpid) + " is reserved");
    }
    if (!isSet(vpid)) {
      return new PidspaceException(PidspaceException.Code.NOT_ALLOCATED, name(vpid) + " is not allocated");
    }
    return null;
  }

  private String name(int vpid) {
    return vpid >= 0 && vpid < layout.pidMaxLimit()
        ? "pid " + layout.encode(space, vpid) + " (space " + space + ", vpid " + vpid + ")"
        : "vpid " + vpid + " of space " + space;
  }

  /**
   * Frees what can be freed of a batch, in order: each vpid that {@link #checkFree} accepts at
   * its turn (a vpid named twice is refused the second time, a double free).
   *
   * @param refusals receives the index of each refused vpid with its reason
   * @return how many were freed
   */
  public int freeAll(int[] vpids, Refusals refusals) {
    int n = 0;
    for (int i = 0; i < vpids.length; i++) {
      PidspaceException refusal = checkFree(vpids[i]);
      if (refusal == null) {
        clear(vpids[i]);
        n++;
      } else {
        refusals.refused(i, refusal);
      }
    }
    return n;
  }

  /**
   * Starts deciding a run of requests on this map, one by one in arrival order, exactly as if
   * each came alone. The map changes as the run goes; {@link Run#changes()} is the record to
   * store, and {@link Run#rollback()} puts the map back as it was, so an event-sourced owner
   * can store the record first and then {@link #apply} it.
   */
  public Run begin() {
    return new Run();
  }

  /** One run of requests being decided; see {@link #begin()}. */
  public final class Run {
    private final int lastPidBefore = lastPid;
    private int[] changes = new int[16];
    private int n;

    private Run() {}

    /** As {@link PidMap#alloc(int, int[])}. */
    public int alloc(int count, int[] out) {
      int k = PidMap.this.alloc(count, out);
      for (int i = 0; i < k; i++) {
        record(out[i]);
      }
      return k;
    }

    /** Frees {@code vpid}, or says why it cannot be freed and changes nothing. */
    public PidspaceException free(int vpid) {
      PidspaceException refusal = checkFree(vpid);
      if (refusal == null) {
        clear(vpid);
        record(-vpid);
      }
      return refusal;
    }

    /**
     * Marks {@code vpid} allocated as a recorded alloc of it would be (it becomes {@code lastPid}).
     *
     * @return false, changing nothing, if it is taken or out of range
     */
    public boolean take(int vpid) {
      if (vpid <= 0 || vpid >= pidMax || isSet(vpid)) {
        return false;
      }
      set(vpid);
      lastPid = vpid;
      record(vpid);
      return true;
    }

    /** How many changes the run holds. */
    public int size() {
      return n;
    }

    /** Its {@code i}th change, as {@link #changes()} lists them. */
    public int change(int i) {
      Objects.checkIndex(i, n);
      return changes[i];
    }

    /** What the run changed, in order: {@code +v} allocated by next-fit, {@code -v} freed. */
    public int[] changes() {
      return Arrays.copyOf(changes, n);
    }

    /** Undoes the whole run, newest change first, and restores {@code lastPid}. */
    public void rollback() {
      for (int i = n - 1; i >= 0; i--) {
        int c = changes[i];
        if (c > 0) {
          clear(c);
        } else {
          set(-c);
        }
      }
      lastPid = lastPidBefore;
      n = 0;
    }

    private void record(int change) {
      if (n == changes.length) {
        changes = Arrays.copyOf(changes, n * 2);
      }
      changes[n++] = change;
    }
  }

  /**
   * Applies what a {@link Run} recorded: {@code +v} marks {@code v} allocated and makes it
   * {@code lastPid}, {@code -v} frees it. Vpid 0 is never in a record.
   *
   * @throws IllegalStateException and changes nothing if the record does not fit this map: the
   *     caller's record of this space is corrupt
   */
  public void apply(int[] changes) {
    Run undo = new Run();
    for (int c : changes) {
      int v = Math.abs(c);
      boolean fits = c > 0 ? v < pidMax && !isSet(v) : c < 0 && isAllocated(v);
      if (!fits) {
        undo.rollback();
        throw new IllegalStateException(name(v) + (c > 0 ? " cannot be marked allocated" : " cannot be marked free"));
      }
      if (c > 0) {
        set(v);
        lastPid = v;
      } else {
        clear(v);
      }
      undo.record(c);
    }
  }

  /** Receives the refused entries of {@link #freeAll}. */
  @FunctionalInterface
  public interface Refusals {
    void refused(int index, PidspaceException reason);
  }

  public boolean isAllocated(int vpid) {
    return vpid > 0 && vpid < pidMax && isSet(vpid);
  }

  /** Calls {@code action} with every allocated vpid in ascending order (vpid 0 of space 0 excluded). */
  public void forEachAllocated(IntConsumer action) {
    for (int p = 0; p < pages.length; p++) {
      long[] page = pages[p];
      if (page == null || freeInPage[p] == BITS_PER_PAGE) {
        continue;
      }
      for (int w = 0; w < WORDS_PER_PAGE; w++) {
        long word = page[w];
        while (word != 0) {
          int v = (p << PAGE_SHIFT) | (w << 6) | Long.numberOfTrailingZeros(word);
          if (v != 0) {
            action.accept(v);
          }
          word &= word - 1;
        }
      }
    }
  }

  public int space() {
    return space;
  }

  public int pidMax() {
    return pidMax;
  }

  public int lastPid() {
    return lastPid;
  }

  public int reservedFloor() {
    return reservedFloor;
  }

  /** Live vpids (vpid 0 of space 0 is reserved and not counted). O(1). */
  public int allocated() {
    return allocated;
  }

  public int pagesInUse() {
    return pagesInUse;
  }

  public SpaceStats stats() {
    return new SpaceStats(space, pidMax, allocated, lastPid, pagesInUse);
  }

  private int collect(int from, int to, int count, int n, int[] out) {
    for (int v = from; n < count && (v = findFree(v, to)) != NONE; v++) {
      out[n++] = v;
    }
    return n;
  }

  /** Lowest clear bit in {@code [from, to)}, or {@link #NONE}; scans whole words, skips full pages. */
  private int findFree(int from, int to) {
    int v = from;
    while (v < to) {
      int p = v >>> PAGE_SHIFT;
      long[] page = pages[p];
      if (page == null) {
        return v;
      }
      int pageStart = p << PAGE_SHIFT;
      if (freeInPage[p] != 0) {
        int w = (v & PAGE_MASK) >>> 6;
        long free = ~page[w] & (-1L << v);
        int wordsEnd = Math.min(to - pageStart + 63, BITS_PER_PAGE) >>> 6;
        while (true) {
          if (free != 0) {
            int found = pageStart | (w << 6) | Long.numberOfTrailingZeros(free);
            return found < to ? found : NONE;
          }
          if (++w >= wordsEnd) {
            break;
          }
          free = ~page[w];
        }
      }
      v = pageStart + BITS_PER_PAGE;
    }
    return NONE;
  }

  private boolean isSet(int v) {
    long[] page = pages[v >>> PAGE_SHIFT];
    return page != null && (page[(v & PAGE_MASK) >>> 6] & (1L << v)) != 0;
  }

  private void set(int v) {
    int p = v >>> PAGE_SHIFT;
    long[] page = pages[p];
    if (page == null) {
      page = pages[p] = new long[WORDS_PER_PAGE];
      pagesInUse++;
    }
    page[(v & PAGE_MASK) >>> 6] |= 1L << v;
    freeInPage[p]--;
    allocated++;
  }

  private void clear(int v) {
    int p = v >>> PAGE_SHIFT;
    pages[p][(v & PAGE_MASK) >>> 6] &= ~(1L << v);
    freeInPage[p]++;
    allocated--;
  }
}
