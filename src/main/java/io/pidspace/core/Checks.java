package io.pidspace.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The checks of one space that look at its vpids (free, exact vpids and holds, pid_max), and how a refusal names a vpid. */
final class Checks {

  /** How many vpids a refusal names at most. */
  private static final int NAMED = 16;

  private final PidLayout layout;
  private final int space;
  private final PidBitmap bits;
  private final Holds holds;

  Checks(PidLayout layout, int space, PidBitmap bits, Holds holds) {
    this.layout = layout;
    this.space = space;
    this.bits = bits;
    this.holds = holds;
  }

  /** Why {@code vpid} cannot be freed now, or {@code null} if it can. */
  PidspaceException checkFree(int vpid) {
    int pidMax = bits.pidMax();
    if (vpid < 0 || vpid >= pidMax) {
      return PidspaceException.outOfRange(name(vpid) + " is beyond pid_max " + pidMax + " of space " + space);
    }
    if (vpid == 0) {
      return new PidspaceException(PidspaceException.Code.RESERVED_PID, name(vpid) + " is reserved");
    }
    if (!bits.isSet(vpid)) {
      return new PidspaceException(PidspaceException.Code.NOT_ALLOCATED, name(vpid) + " is not allocated");
    }
    return null;
  }

  /** How refusals and corrupt records name {@code vpid}. */
  String name(int vpid) {
    return vpid >= 0 && vpid < layout.pidMaxLimit()
        ? "pid " + layout.encode(space, vpid) + " (space " + space + ", vpid " + vpid + ")"
        : "vpid " + vpid + " of space " + space;
  }

  /** Range and duplicates, then in use, then held by a hold other than {@code hold} (any, for a new hold). */
  PidspaceException checkExact(int[] vpids, int hold, boolean anyHoldRefuses) {
    int pidMax = bits.pidMax();
    if (vpids.length == 0) {
      return PidspaceException.badRequest("vpids must name at least one vpid");
    }
    Set<Integer> seen = new HashSet<>();
    for (int v : vpids) {
      if (v < 1 || v >= pidMax) {
        return PidspaceException.outOfRange("vpids must be within 1.." + (pidMax - 1) + " (pid_max " + pidMax
            + " of space " + space + ")");
      }
      if (!seen.add(v)) {
        return PidspaceException.badRequest("vpids must not name one vpid twice");
      }
    }
    List<Integer> inUse = new ArrayList<>();
    List<Integer> held = new ArrayList<>();
    for (int v : vpids) {
      Integer holder = holds.holder(v);
      if (bits.isSet(v)) {
        inUse.add(v);
      } else if (holder != null && (anyHoldRefuses || holder != hold)) {
        held.add(v);
      }
    }
    if (!inUse.isEmpty()) {
      return new PidspaceException(PidspaceException.Code.PID_IN_USE, named(inUse) + " in use");
    }
    if (!held.isEmpty()) {
      return new PidspaceException(PidspaceException.Code.PID_HELD, named(held) + " held for a restore in flight");
    }
    return null;
  }

  /** "vpid 7 of space 3 is" or "vpids 7, 9 of space 3 are", at most {@value #NAMED} named. */
  private String named(List<Integer> vpids) {
    StringBuilder text = new StringBuilder(vpids.size() == 1 ? "vpid " : "vpids ");
    for (int i = 0; i < Math.min(vpids.size(), NAMED); i++) {
      text.append(i == 0 ? "" : ", ").append(vpids.get(i));
    }
    if (vpids.size() > NAMED) {
      text.append(" and ").append(vpids.size() - NAMED).append(" more");
    }
    return text.append(" of space ").append(space).append(vpids.size() == 1 ? " is" : " are").toString();
  }

  /** Why pid_max cannot become {@code newPidMax} now, or {@code null}. */
  PidspaceException checkPidMax(int newPidMax) {
    try {
      layout.checkPidMax(newPidMax);
    } catch (PidspaceException outside) {
      return outside;
    }
    int highest = bits.highest();
    int highestHeld = holds.highestHeld();
    if (Math.max(highest, highestHeld) >= newPidMax) {
      boolean isHeld = highestHeld > highest;
      int v = Math.max(highest, highestHeld);
      return new PidspaceException(isHeld ? PidspaceException.Code.PID_HELD : PidspaceException.Code.PID_IN_USE,
          "pid_max of space " + space + " can go down to " + (v + 1) + " at the lowest: vpid " + v + " is "
              + (isHeld ? "held" : "allocated"));
    }
    return null;
  }
}
