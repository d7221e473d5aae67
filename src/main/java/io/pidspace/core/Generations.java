package io.pidspace.core;

import java.util.Arrays;

/**
 * How many times each vpid of a space was allocated (mod 2^31): its generation, which an alloc
 * answers with the pid and a free may name, so a free retried after its pid was handed out again
 * is refused ({@code stale-handle}) instead of freeing the new holder's pid (ABA). Derived, never
 * stored per event: every recorded alloc bumps it, as it did live. Generation 0 is "unknown": a
 * vpid allocated in a document or snapshot written before generations existed matches any
 * generation until it is allocated again.
 *
 * <p>Paged like {@link PidBitmap}, but in pages of {@value #PAGE} counters, created where a vpid
 * was ever allocated, and an index that grows only as high as those pages: 4 bytes per vpid ever
 * allocated, rounded to a page.
 */
final class Generations {

  static final int MASK = Integer.MAX_VALUE;
  private static final int SHIFT = 10;
  private static final int PAGE = 1 << SHIFT;

  private int[][] pages = new int[0][];

  /** Counts one more allocation of {@code v}: the hot path, one store. */
  void bump(int v) {
    int[] page = page(v);
    int i = v & (PAGE - 1);
    page[i] = (page[i] + 1) & MASK;
  }

  /** Undoes one {@link #bump} of {@code v}. */
  void unbump(int v) {
    int[] page = page(v);
    int i = v & (PAGE - 1);
    page[i] = (page[i] - 1) & MASK;
  }

  /** {@code v}'s generation; 0 when unknown or never allocated. */
  int get(int v) {
    int p = v >>> SHIFT;
    return p < pages.length && pages[p] != null ? pages[p][v & (PAGE - 1)] : 0;
  }

  void set(int v, int generation) {
    page(v)[v & (PAGE - 1)] = generation & MASK;
  }

  /** Whether a free naming {@code named} (0: none) may free {@code v}. */
  boolean matches(int v, int named) {
    int held = get(v);
    return named == 0 || held == 0 || held == named;
  }

  interface Known {
    void visit(int vpid, int generation);
  }

  /** Each vpid whose generation is not 0, ascending, with it. */
  void forEachKnown(Known visit) {
    for (int p = 0; p < pages.length; p++) {
      int[] page = pages[p];
      for (int i = 0; page != null && i < PAGE; i++) {
        if (page[i] != 0) {
          visit.visit((p << SHIFT) | i, page[i]);
        }
      }
    }
  }

  private int[] page(int v) {
    int p = v >>> SHIFT;
    if (p >= pages.length) {
      pages = Arrays.copyOf(pages, Math.max(p + 1, pages.length * 2));
    }
    int[] page = pages[p];
    if (page == null) {
      page = pages[p] = new int[PAGE];
    }
    return page;
  }
}
