package io.pidspace.faults;

import io.pidspace.faults.History.Kind;
import io.pidspace.faults.History.Op;
import io.pidspace.faults.History.Outcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks a {@link History} of allocs and frees, and the allocated pids read once the cluster
 * healed, against what a pid authority promises. Each request took effect at one moment between
 * its invocation and its completion if it was acknowledged (OK), not at all if it was refused
 * (FAILED), and at any moment after its invocation or never if its outcome is UNKNOWN.
 *
 * <p><b>Holds.</b> An acknowledged alloc of pid p by client c starts a hold of p by c. The hold
 * ends with the first free of p by c sent after the alloc's answer that was not refused (a
 * refusal changed nothing, so the hold goes on); with no such free it never ends. An alloc of
 * unknown outcome answered no pids, so it starts no hold: whatever it took is possibly held by
 * its client forever and shows as leaked (below), never as a duplicate.
 *
 * <p><b>Duplicate.</b> A hold is <i>certainly</i> in force from its alloc's completion (the alloc
 * took effect by then) to its free's invocation (the free cannot have taken effect before it was
 * sent), or to the end if there is no free. It is <i>possibly</i> in force from the alloc's
 * invocation to the free's completion, and to the end when the free's outcome is unknown. A
 * duplicate is two holds of one pid whose certain parts overlap: then every order of the
 * requests' effects consistent with what the clients saw has the pid given out while it was held.
 * Comparing possible parts instead would flag legal histories: a free and another client's alloc
 * of that pid in flight together (the free may have come first), or a free of unknown outcome
 * that did take effect and the pid went to someone else. So a free of unknown outcome keeps its
 * hold possibly open until the end (it may never have happened), but it does not make a later
 * holder a duplicate; the holder before it (its own client) was the only one it could fence.
 *
 * <p><b>Lost.</b> A pid certainly held at the end (a hold with no free at all) must be counted
 * allocated in the final state; so must a pid whose free was refused {@code not-allocated}
 * while certainly held (the authority forgot the alloc, then said so).
 *
 * <p><b>Leaked.</b> A pid counted allocated in the final state that nobody certainly holds:
 * freed with an acknowledgement (a copy that handed it out lost the free, or a crashed copy's
 * unfinished reservation counts it), freed with an unknown outcome, or never answered to anyone
 * (an alloc of unknown outcome). Leaks are a count, not a failure: the repair step
 * ({@code reconcile} with the certainly held pids alive) must free them, and a leak left after it
 * is a lost free.
 */
public final class Checker {

  private Checker() {}

  /** What the check found; {@code held}: the pids certainly held at the end. */
  public record Result(int operations, int unknown, List<String> duplicates, List<String> lost,
      Set<Integer> leaked, Set<Integer> held) {

    /** No duplicate and nothing lost; leaks allowed (before the repair). */
    public boolean safe() {
      return duplicates.isEmpty() && lost.isEmpty();
    }
  }

  /** One hold: {@code free} is the free that ended it, or null. */
  private record Hold(Op alloc, Op free) {
    long certainFrom() {
      return alloc.completed();
    }

    long certainUntil() {
      return free == null ? Long.MAX_VALUE : free.invoked();
    }
  }

  /** Checks {@code history} against {@code allocated}, the global pids counted allocated at the end. */
  public static Result check(List<Op> history, Set<Integer> allocated) {
    Map<Integer, List<Hold>> holds = holds(history);
    List<String> duplicates = new ArrayList<>();
    List<String> lost = new ArrayList<>();
    Set<Integer> held = new TreeSet<>();
    for (Map.Entry<Integer, List<Hold>> e : holds.entrySet()) {
      int pid = e.getKey();
      List<Hold> list = e.getValue();
      pairs:
      for (int i = 0; i < list.size(); i++) {
        for (int j = i + 1; j < list.size(); j++) {
          Hold a = list.get(i);
          Hold b = list.get(j);
          if (a.certainFrom() < b.certainUntil() && b.certainFrom() < a.certainUntil()) {
            duplicates.add("pid " + pid + " held twice:\n  " + a.alloc().show(0) + "\n  "
                + (a.free() == null ? "(never freed)" : a.free().show(0)) + "\n  " + b.alloc().show(0) + "\n  "
                + (b.free() == null ? "(never freed)" : b.free().show(0)));
            break pairs; // one report per pid
          }
        }
      }
      for (Hold h : list) {
        if (h.free() == null) {
          held.add(pid);
          if (!allocated.contains(pid)) {
            lost.add("pid " + pid + " acknowledged and never freed is not allocated: " + h.alloc().show(0));
          }
        }
      }
    }
    for (Op op : history) {
      if (op.kind() == Kind.FREE && op.outcome() == Outcome.FAILED && "not-allocated".equals(op.error())) {
        for (Hold h : holds.getOrDefault(op.pids()[0], List.of())) {
          if (h.alloc().client() == op.client() && h.certainFrom() < op.invoked() && op.completed() < h.certainUntil()) {
            lost.add("pid " + op.pids()[0] + " certainly held was refused as not allocated: " + op.show(0));
          }
        }
      }
    }
    Set<Integer> leaked = new TreeSet<>(allocated);
    leaked.removeAll(held);
    int unknown = (int) history.stream().filter(op -> op.outcome() == Outcome.UNKNOWN).count();
    return new Result(history.size(), unknown, duplicates, lost, leaked, held);
  }

  /**
   * The leaks {@code afterRepair} (a check of the state read after the repair step) still
   * found, each a failure: the repair freed what nobody holds, so what is left is a lost free.
   */
  public static List<String> lostFrees(List<Op> history, Result afterRepair) {
    Map<Integer, List<Hold>> holds = holds(history);
    List<String> out = new ArrayList<>();
    for (int pid : afterRepair.leaked()) {
      boolean freedWithAck = holds.getOrDefault(pid, List.of()).stream()
          .anyMatch(h -> h.free() != null && h.free().outcome() == Outcome.OK);
      out.add("pid " + pid + (freedWithAck ? " freed with an acknowledgement" : ", held by nobody,")
          + " is still allocated after the repair");
    }
    return out;
  }

  /** Every hold per pid, in the order of their allocs' invocations. */
  private static Map<Integer, List<Hold>> holds(List<Op> history) {
    List<Op> ops = new ArrayList<>(history);
    ops.sort(Comparator.comparingLong(Op::invoked));
    Map<Long, List<Op>> frees = new HashMap<>(); // by client and pid, in invocation order; refusals left out
    for (Op f : ops) {
      if (f.kind() == Kind.FREE && f.outcome() != Outcome.FAILED) {
        frees.computeIfAbsent(key(f.client(), f.pids()[0]), k -> new ArrayList<>()).add(f);
      }
    }
    Map<Integer, List<Hold>> holds = new HashMap<>();
    for (Op alloc : ops) {
      if (alloc.kind() != Kind.ALLOC || alloc.outcome() != Outcome.OK) {
        continue;
      }
      for (int pid : alloc.pids()) {
        Op free = frees.getOrDefault(key(alloc.client(), pid), List.of()).stream()
            .filter(f -> f.invoked() > alloc.completed())
            .findFirst().orElse(null);
        holds.computeIfAbsent(pid, k -> new ArrayList<>()).add(new Hold(alloc, free));
      }
    }
    return holds;
  }

  private static long key(int client, int pid) {
    return (long) client << 32 | (pid & 0xffffffffL);
  }
}
