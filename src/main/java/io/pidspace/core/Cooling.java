package io.pidspace.core;

import java.util.HashMap;
import java.util.Map;

/**
 * The optional reuse delay of one space (millis; 0 is the seed's rule): a vpid freed at {@code t}
 * is passed over by next-fit until {@code t + delay}. Holds when each freed vpid cools down until,
 * and the clock decisions are made at (set by each run).
 */
final class Cooling {

  private long delay;
  private final Map<Integer, Long> until = new HashMap<>();
  private long clock;

  long delay() {
    return delay;
  }

  void delay(long millis) {
    delay = millis;
  }

  long clock() {
    return clock;
  }

  /** Sets the clock; vpids whose delay has passed are forgotten (only decisions read them: nothing to record). */
  void at(long now) {
    clock = now;
    until.values().removeIf(end -> end <= now);
  }

  /** Whether next-fit must pass over {@code vpid}; cheap while nothing cools (it asks it of every candidate). */
  boolean isCooling(int vpid) {
    if (until.isEmpty()) {
      return false;
    }
    Long end = until.get(vpid);
    return end != null && end > clock;
  }

  /** Cools {@code vpid} down until {@code end}. @return its end before, or {@code null} */
  Long put(int vpid, long end) {
    return until.put(vpid, end);
  }

  /** Undoes a {@link #put}: {@code before} is what it returned. */
  void undo(int vpid, Long before) {
    if (before == null) {
      until.remove(vpid);
    } else {
      until.put(vpid, before);
    }
  }

  /** The vpids still cooling down at the clock, ascending, with their ends: {@code [vpids, until]}. */
  long[][] list() {
    int[] vpids = until.entrySet().stream().filter(e -> e.getValue() > clock)
        .mapToInt(Map.Entry::getKey).sorted().toArray();
    long[][] out = new long[2][vpids.length];
    for (int i = 0; i < vpids.length; i++) {
      out[0][i] = vpids[i];
      out[1][i] = until.get(vpids[i]);
    }
    return out;
  }
}
