package io.pidspace.core;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The vpid bits of one space and the seed's next-fit over them (DESIGN.md §1): the lowest free vpid
 * {@code v} with {@code lastPid < v < pidMax}; else the lowest free {@code v} with {@code
 * reservedFloor <= v <= lastPid}; else none. Free vpids that {@link Holds} hold or that are
 * {@link Cooling} down are passed over (read directly, not through an interface: the hot path).
 * Unlike the seed's loop, a space whose only free vpid is {@code lastPid} itself hands it out.
 *
 * <p>Paged like the seed: a page of {@value #BITS_PER_PAGE} bits is created on first use and keeps
 * its free count, so full pages are skipped without reading them. The pages cover the layout's
 * whole range, so raising pid_max moves nothing. Checks nothing: {@link PidMap} does.
 */
final class PidBitmap {

  static final int BITS_PER_PAGE = 32_768;
  static final int NONE = -1;
  private static final int PAGE_SHIFT = 15;
  private static final int PAGE_MASK = BITS_PER_PAGE - 1;
  private static final int WORDS_PER_PAGE = BITS_PER_PAGE / Long.SIZE;

  private final long[][] pages;
  private final int[] freeInPage;
  private final int reservedFloor;
  private final Holds holds;
  private final Cooling cooling;
  private int pidMax;
  private int lastPid;
  private int count;
  private int pagesInUse;

  PidBitmap(int pidMaxLimit, int pidMax, int reservedFloor, int lastPid, Holds holds, Cooling cooling) {
    int pageCount = (pidMaxLimit + BITS_PER_PAGE - 1) >>> PAGE_SHIFT;
    this.pages = new long[pageCount][];
    this.freeInPage = new int[pageCount];
    Arrays.fill(freeInPage, BITS_PER_PAGE);
    this.pidMax = pidMax;
    this.reservedFloor = reservedFloor;
    this.lastPid = lastPid;
    this.holds = holds;
    this.cooling = cooling;
  }

  /** Sets the next vpid by the rule and makes it {@code lastPid}; {@link #NONE} when there is none. */
  int alloc() {
    int v = findUnheld(lastPid + 1, pidMax);
    if (v == NONE) {
      v = findUnheld(reservedFloor, lastPid + 1);
      if (v == NONE) {
        return NONE;
      }
    }
    set(v);
    lastPid = v;
    return v;
  }

  /** The vpids {@code count} allocs would hand out now, changing nothing. @return how many */
  int peek(int count, int[] out) {
    int n = collect(lastPid + 1, pidMax, count, 0, out);
    return n < count ? collect(reservedFloor, lastPid + 1, count, n, out) : n;
  }

  private int collect(int from, int to, int count, int n, int[] out) {
    for (int v = from; n < count && (v = findUnheld(v, to)) != NONE; v++) {
      out[n++] = v;
    }
    return n;
  }

  private int findUnheld(int from, int to) {
    int v = findFree(from, to);
    while (v != NONE && (holds.isHeld(v) || cooling.isCooling(v))) {
      v = findFree(v + 1, to);
    }
    return v;
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

  boolean isSet(int v) {
    long[] page = pages[v >>> PAGE_SHIFT];
    return page != null && (page[(v & PAGE_MASK) >>> 6] & (1L << v)) != 0;
  }

  void set(int v) {
    int p = v >>> PAGE_SHIFT;
    long[] page = pages[p];
    if (page == null) {
      page = pages[p] = new long[WORDS_PER_PAGE];
      pagesInUse++;
    }
    page[(v & PAGE_MASK) >>> 6] |= 1L << v;
    freeInPage[p]--;
    count++;
  }

  /** Sets {@code v} without counting it: vpid 0 of space 0, reserved and not a live process. */
  void reserve(int v) {
    set(v);
    count--;
  }

  void clear(int v) {
    int p = v >>> PAGE_SHIFT;
    pages[p][(v & PAGE_MASK) >>> 6] &= ~(1L << v);
    freeInPage[p]++;
    count--;
  }

  /** The highest set bit, 0 when none. */
  int highest() {
    for (int p = pages.length - 1; p >= 0; p--) {
      long[] page = pages[p];
      if (page == null || freeInPage[p] == BITS_PER_PAGE) {
        continue;
      }
      for (int w = WORDS_PER_PAGE - 1; w >= 0; w--) {
        if (page[w] != 0) {
          return (p << PAGE_SHIFT) | (w << 6) | (63 - Long.numberOfLeadingZeros(page[w]));
        }
      }
    }
    return 0;
  }

  /** Calls {@code action} with every set bit but 0, ascending. */
  void forEach(IntConsumer action) {
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

  int pidMax() {
    return pidMax;
  }

  void pidMax(int pidMax) {
    this.pidMax = pidMax;
  }

  /** Sets pid_max; {@code lastPid} above it becomes {@code pidMax - 1}, so next-fit wraps as the seed's does at its bound. */
  void bound(int newPidMax) {
    pidMax = newPidMax;
    lastPid = Math.min(lastPid, newPidMax - 1);
  }

  int lastPid() {
    return lastPid;
  }

  void lastPid(int lastPid) {
    this.lastPid = lastPid;
  }

  int reservedFloor() {
    return reservedFloor;
  }

  /** Set bits, but not {@link #reserve reserved} ones. */
  int count() {
    return count;
  }

  int pagesInUse() {
    return pagesInUse;
  }
}
