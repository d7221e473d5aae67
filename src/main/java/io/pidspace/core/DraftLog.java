package io.pidspace.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link PidMap.Draft} changed, in order, and what it needs to undo it all: the record an
 * event-sourced owner stores ({@link #records()}) and the {@link #rollback}.
 */
final class DraftLog {

  private final int lastPidBefore;
  private final int pidMaxBefore;
  private final long reuseDelayBefore;
  private int[] changes = new int[16];
  private int n;
  private final List<PidMap.Step> steps = new ArrayList<>();
  private final List<Integer> stepsAt = new ArrayList<>(); // n when each step was taken
  private Holds.Saved holdsBefore; // saved when the run first touches the holds
  // vpids the run set cooling, with their ends and what each had before (null: none), to record and to undo
  private final List<Integer> cooled = new ArrayList<>();
  private final List<Long> cooledUntil = new ArrayList<>();
  private final List<Long> cooledBefore = new ArrayList<>();

  DraftLog(PidBitmap bits, Cooling cooling) {
    lastPidBefore = bits.lastPid();
    pidMaxBefore = bits.pidMax();
    reuseDelayBefore = cooling.delay();
  }

  /** A pid change: {@code +v} allocated by next-fit, {@code +(AT | v)} at, {@code -v} freed. */
  void record(int change) {
    if (n == changes.length) {
      changes = Arrays.copyOf(changes, n * 2);
    }
    changes[n++] = change;
  }

  /** A change that is not a pid change, between the pid changes recorded so far and the next. */
  void step(PidMap.Step step) {
    steps.add(step);
    stepsAt.add(n);
  }

  /** Before the run changes a hold. */
  void touchHolds(Holds holds) {
    if (holdsBefore == null) {
      holdsBefore = holds.save();
    }
  }

  void cooled(int vpid, long until, Long before) {
    cooled.add(vpid);
    cooledUntil.add(until);
    cooledBefore.add(before);
  }

  int size() {
    return n;
  }

  int otherSteps() {
    return steps.size();
  }

  int change(int i) {
    Objects.checkIndex(i, n);
    return changes[i];
  }

  int[] changes() {
    return Arrays.copyOf(changes, n);
  }

  /** The whole record in order: the pid changes between the steps that are not pid changes. */
  List<PidMap.Step> records() {
    List<PidMap.Step> out = new ArrayList<>();
    int from = 0;
    for (int i = 0; i < steps.size(); i++) {
      int at = stepsAt.get(i);
      if (at > from) {
        out.add(new PidMap.Pids(Arrays.copyOfRange(changes, from, at)));
        from = at;
      }
      out.add(steps.get(i));
    }
    if (n > from) {
      out.add(new PidMap.Pids(Arrays.copyOfRange(changes, from, n)));
    }
    if (!cooled.isEmpty()) { // only decisions read them, so after the frees they follow is soon enough
      out.add(new PidMap.Cooled(cooled.stream().mapToInt(Integer::intValue).toArray(),
          cooledUntil.stream().mapToLong(Long::longValue).toArray()));
    }
    return out;
  }

  /** Undoes everything, newest change first, and empties the log. */
  void rollback(PidBitmap bits, Holds holds, Cooling cooling, Generations gens) {
    for (int i = n - 1; i >= 0; i--) {
      int c = changes[i];
      if (c > 0) {
        bits.clear(c & ~PidMap.AT);
        gens.unbump(c & ~PidMap.AT); // every recorded alloc bumped it once
      } else {
        bits.set(-c);
      }
    }
    bits.lastPid(lastPidBefore);
    bits.pidMax(pidMaxBefore);
    cooling.delay(reuseDelayBefore);
    for (int i = cooled.size() - 1; i >= 0; i--) {
      cooling.undo(cooled.get(i), cooledBefore.get(i));
    }
    cooled.clear();
    cooledUntil.clear();
    cooledBefore.clear();
    if (holdsBefore != null) {
      holds.restore(holdsBefore);
      holdsBefore = null;
    }
    n = 0;
    steps.clear();
    stepsAt.clear();
  }
}
