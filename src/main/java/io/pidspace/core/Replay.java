package io.pidspace.core;

/**
 * Applies the records a {@link PidMap.Draft} made, as a journal replays them (see {@link PidMap#apply}
 * and the {@code apply*} methods beside it). A record that does not fit the space means the
 * caller's record of it is corrupt: {@link IllegalStateException}, and nothing changes.
 */
final class Replay {

  private final int space;
  private final PidBitmap bits;
  private final Holds holds;
  private final Cooling cooling;
  private final Checks checks;
  private final Generations gens;

  Replay(int space, PidBitmap bits, Holds holds, Cooling cooling, Checks checks, Generations gens) {
    this.gens = gens;
    this.space = space;
    this.bits = bits;
    this.holds = holds;
    this.cooling = cooling;
    this.checks = checks;
  }

  void pids(int[] changes) {
    DraftLog undo = new DraftLog(bits, cooling);
    for (int c : changes) {
      boolean at = c > 0 && (c & PidMap.AT) != 0;
      int v = at ? c & ~PidMap.AT : Math.abs(c);
      boolean fits = v > 0 && v < bits.pidMax() && (c > 0 ? !bits.isSet(v) : c < 0 && bits.isSet(v));
      if (!fits) {
        undo.rollback(bits, holds, cooling, gens);
        throw new IllegalStateException(checks.name(v) + (c > 0 ? " cannot be marked allocated" : " cannot be marked free"));
      }
      if (at) {
        undo.touchHolds(holds);
        bits.set(v);
        gens.bump(v);
        holds.claim(v);
      } else if (c > 0) {
        bits.set(v);
        gens.bump(v);
        bits.lastPid(v);
      } else {
        bits.clear(v);
      }
      undo.record(c);
    }
  }

  void hold(Hold hold) {
    if (hold.id() <= 0 || holds.exists(hold.id()) || checks.checkExact(hold.vpids(), 0, true) != null) {
      throw new IllegalStateException("hold " + hold.id() + " does not fit space " + space);
    }
    holds.place(hold);
  }

  void release(int hold) {
    if (!holds.exists(hold)) {
      throw new IllegalStateException("space " + space + " has no hold " + hold + " to release");
    }
    holds.remove(hold);
  }

  void reuseDelay(long millis) {
    if (millis < 0 || millis > PidMap.MAX_REUSE_DELAY) {
      throw new IllegalStateException("reuse delay " + millis + " does not fit space " + space);
    }
    cooling.delay(millis);
  }

  void cooled(int[] vpids, long[] until) {
    if (vpids.length != until.length) {
      throw new IllegalStateException("a cooling record of space " + space + " is corrupt");
    }
    for (int i = 0; i < vpids.length; i++) {
      cooling.put(vpids[i], until[i]);
    }
  }

  void pidMax(int newPidMax) {
    if (checks.checkPidMax(newPidMax) != null) {
      throw new IllegalStateException("pid_max " + newPidMax + " does not fit space " + space);
    }
    bits.bound(newPidMax);
  }
}
