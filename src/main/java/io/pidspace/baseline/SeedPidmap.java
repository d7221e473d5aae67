package io.pidspace.baseline;

import io.pidspace.core.PidLayout;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The seed's allocator (kernel/pid.c {@code alloc_pidmap}) in plain Java, kept only as the
 * baseline that benchmarks and {@code storm --compare} measure pidspace against: one shared
 * bitmap whose pages are created on first use, an atomic test-and-set per bit, an atomic free
 * count per page and one shared {@code last_pid}, so many threads allocate at once without locks.
 *
 * <p>It scans in the same next-fit order as {@link io.pidspace.core.PidMap}; under contention two
 * threads may race past each other's {@code last_pid}, as in the kernel, so concurrent order is
 * only approximately next-fit. Frees are not checked beyond "was the bit set".
 */
public final class SeedPidmap {

  private static final int PAGE_SHIFT = 15;
  private static final int BITS_PER_PAGE = 1 << PAGE_SHIFT;
  private static final int WORDS_PER_PAGE = BITS_PER_PAGE / Long.SIZE;

  private final int pidMax;
  private final int reservedFloor;
  private final AtomicReferenceArray<AtomicLongArray> pages;
  private final AtomicIntegerArray nrFree;
  private final AtomicInteger lastPid;

  public SeedPidmap(int space, int pidMax) {
    this.pidMax = pidMax;
    int pageCount = (pidMax + BITS_PER_PAGE - 1) >>> PAGE_SHIFT;
    this.pages = new AtomicReferenceArray<>(pageCount);
    this.nrFree = new AtomicIntegerArray(pageCount);
    for (int p = 0; p < pageCount; p++) {
      nrFree.set(p, BITS_PER_PAGE);
    }
    boolean dflt = space == PidLayout.DEFAULT_SPACE;
    this.reservedFloor = dflt ? PidLayout.RESERVED_PIDS : PidLayout.RESERVED_PIDS_NON_DFLT;
    this.lastPid = new AtomicInteger(dflt ? 0 : PidLayout.RESERVED_PIDS_NON_DFLT);
    if (dflt) {
      testAndSet(0); // pidmap_init: pid 0 is taken at boot
    }
  }

  /** One vpid, or -1 when the space is exhausted. Thread-safe. */
  public int alloc() {
    int last = lastPid.get();
    int v = scan(last + 1, pidMax);
    if (v < 0) {
      v = scan(reservedFloor, last + 1);
    }
    if (v >= 0) {
      lastPid.set(v);
    }
    return v;
  }

  /** Clears the bit; false if it was not set. Thread-safe. */
  public boolean free(int vpid) {
    AtomicLongArray page = pages.get(vpid >>> PAGE_SHIFT);
    if (page == null) {
      return false;
    }
    int w = (vpid & (BITS_PER_PAGE - 1)) >>> 6;
    long bit = 1L << vpid;
    long old = page.getAndUpdate(w, x -> x & ~bit);
    if ((old & bit) == 0) {
      return false;
    }
    nrFree.incrementAndGet(vpid >>> PAGE_SHIFT);
    return true;
  }

  /** First vpid in {@code [from, to)} that this thread managed to set, or -1. */
  private int scan(int from, int to) {
    int v = from;
    while (v < to) {
      int p = v >>> PAGE_SHIFT;
      int pageEnd = Math.min(to, (p + 1) << PAGE_SHIFT);
      if (nrFree.get(p) > 0) {
        AtomicLongArray page = page(p);
        while (v < pageEnd) {
          int w = (v & (BITS_PER_PAGE - 1)) >>> 6;
          long word = page.get(w);
          long free = ~word & (-1L << v);
          if (free == 0) {
            v = (v | 63) + 1;
            continue;
          }
          int found = (p << PAGE_SHIFT) | (w << 6) | Long.numberOfTrailingZeros(free);
          if (found >= pageEnd) {
            break;
          }
          if (page.compareAndSet(w, word, word | (1L << found))) {
            nrFree.decrementAndGet(p);
            return found;
          }
          // lost a race for this word: look at it again
        }
      }
      v = pageEnd;
    }
    return -1;
  }

  private void testAndSet(int v) {
    AtomicLongArray page = page(v >>> PAGE_SHIFT);
    page.getAndUpdate((v & (BITS_PER_PAGE - 1)) >>> 6, x -> x | (1L << v));
    nrFree.decrementAndGet(v >>> PAGE_SHIFT);
  }

  private AtomicLongArray page(int p) {
    AtomicLongArray page = pages.get(p);
    if (page == null) {
      pages.compareAndSet(p, null, new AtomicLongArray(WORDS_PER_PAGE));
      page = pages.get(p);
    }
    return page;
  }
}
