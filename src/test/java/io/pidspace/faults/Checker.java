package io.pidspace.faults;

import io.pidspace.faults.History.Kind;
import io.pidspace.faults.History.Op;
import io.pidspace.faults.History.Outcome;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * <p><b>Retries.</b> A client retries a request of unknown outcome as the same request (an alloc
 * with its {@code Idempotency-Key}, a free naming the pid's generation), and the history holds
 * every attempt; the checker first reads the attempts of one request as one request, sent when
 * its first attempt that reached a node was sent:
 * <ul>
 *   <li>an alloc with an acknowledged attempt is one acknowledged alloc (its key stores nothing
 *       twice), answered when that attempt was; every later answer to its key must be those pids
 *       with those generations, else it is a <i>retry violation</i>. An alloc without one is
 *       refused if every attempt that reached a node was refused, else unknown;
 *   <li>a free's first definite answer decides it. Acknowledged: it took effect. Refused
 *       {@code not-allocated} or {@code stale-handle} after an attempt of unknown outcome: the
 *       pid is free, or another allocation holds it, so that earlier attempt took effect, and the
 *       free counts as acknowledged, answered then (had the authority lost the pid instead, that
 *       shows as a duplicate or a leak, never as a hold cut short with nobody else holding it).
 *       Any other refusal after an unknown attempt leaves it unknown; a refusal with no unknown
 *       attempt before it is a refusal. With no definite answer it is unknown (or refused when no
 *       attempt reached a node).
 * </ul>
 * Attempts that reached no node (connection refused) changed nothing and are left out.
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
 * allocated in the final state; so must a pid whose free was refused {@code not-allocated} or
 * {@code stale-handle} while certainly held, with no attempt of unknown outcome before (the
 * authority forgot the alloc, or its generation, then said so).
 *
 * <p><b>Leaked.</b> A pid counted allocated in the final state that nobody certainly holds:
 * freed with an acknowledgement (a copy that handed it out lost the free, or a crashed copy's
 * unfinished reservation counts it), freed with an unknown outcome, or never answered to anyone
 * (an alloc of unknown outcome after all its attempts). Leaks are a count, not a failure: the
 * repair step ({@code reconcile} with the certainly held pids alive) must free them, and a leak
 * left after it is a lost free.
 */
public final class Checker {

  private Checker() {}

  /**
   * What the check found. {@code operations} and {@code unknown}: attempts, and those of unknown
   * outcome; {@code unresolved}: requests still unknown after all their attempts; {@code held}:
   * the pids certainly held at the end.
   */
  public record Result(int operations, int unknown, int unresolved, List<String> duplicates, List<String> lost,
      List<String> retries, List<String> generations, Set<Integer> leaked, Set<Integer> held) {

    /**
     * No duplicate, nothing lost, every retry answered as the first answer, generations rising;
     * leaks allowed (before the repair).
     */
    public boolean safe() {
      return duplicates.isEmpty() && lost.isEmpty() && retries.isEmpty() && generations.isEmpty();
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
    List<String> retries = new ArrayList<>();
    List<Op> requests = requests(history, retries);
    Map<Integer, List<Hold>> holds = holds(requests);
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
    for (Op op : requests) {
      if (op.kind() == Kind.FREE && op.outcome() == Outcome.FAILED && FREED_ELSEWHERE.contains(op.error())) {
        for (Hold h : holds.getOrDefault(op.pids()[0], List.of())) {
          if (h.alloc().client() == op.client() && h.certainFrom() < op.invoked() && op.completed() < h.certainUntil()) {
            lost.add("pid " + op.pids()[0] + " certainly held was refused as " + op.error() + ": " + op.show(0));
          }
        }
      }
    }
    Set<Integer> leaked = new TreeSet<>(allocated);
    leaked.removeAll(held);
    int unknown = (int) history.stream().filter(op -> op.outcome() == Outcome.UNKNOWN).count();
    int unresolved = (int) requests.stream().filter(op -> op.outcome() == Outcome.UNKNOWN).count();
    return new Result(history.size(), unknown, unresolved, duplicates, lost, retries, generationsBack(requests), leaked,
        held);
  }

  /**
   * The leaks {@code afterRepair} (a check of the state read after the repair step) still
   * found, each a failure: the repair freed what nobody holds, so what is left is a lost free.
   */
  public static List<String> lostFrees(List<Op> history, Result afterRepair) {
    Map<Integer, List<Hold>> holds = holds(requests(history, new ArrayList<>()));
    List<String> out = new ArrayList<>();
    for (int pid : afterRepair.leaked()) {
      boolean freedWithAck = holds.getOrDefault(pid, List.of()).stream()
          .anyMatch(h -> h.free() != null && h.free().outcome() == Outcome.OK);
      out.add("pid " + pid + (freedWithAck ? " freed with an acknowledgement" : ", held by nobody,")
          + " is still allocated after the repair");
    }
    return out;
  }

  /**
   * Every pid whose acknowledged alloc answered a generation not above that of an acknowledged
   * alloc answered before it was sent: each allocation of a vpid bumps its counter, so a
   * generation that comes again lets the older handle free the newer holder's pid (one report per
   * pid; the wrap after 2^31 allocations of one vpid is out of a test's reach).
   */
  private static List<String> generationsBack(List<Op> requests) {
    List<Op> allocs = requests.stream().filter(op -> op.kind() == Kind.ALLOC && op.outcome() == Outcome.OK)
        .sorted(Comparator.comparingLong(Op::completed)).toList();
    Map<Integer, Op> highest = new HashMap<>(); // per pid, the alloc answered with its highest generation so far
    Map<Integer, Integer> index = new HashMap<>();
    Set<Integer> reported = new TreeSet<>();
    List<String> out = new ArrayList<>();
    for (Op b : allocs) {
      for (int i = 0; i < b.pids().length; i++) {
        int pid = b.pids()[i];
        Op a = highest.get(pid);
        int ga = a == null ? 0 : a.generations()[index.get(pid)];
        if (a != null && a.completed() < b.invoked() && b.generations()[i] <= ga && reported.add(pid)) {
          out.add("pid " + pid + " answered generation " + b.generations()[i] + " after generation " + ga + ":\n  "
              + a.show(0) + "\n  " + b.show(0));
        }
        if (a == null || b.generations()[i] > ga) {
          highest.put(pid, b);
          index.put(pid, i);
        }
      }
    }
    return out;
  }

  /** A free's refusals that say the pid is no longer the named allocation's. */
  private static final Set<String> FREED_ELSEWHERE = Set.of("not-allocated", "stale-handle");

  /**
   * The attempts of each request read as one request (class javadoc, "Retries"), in the order
   * of their first attempts; a retry answered differently from the first answer goes to
   * {@code retries}.
   */
  static List<Op> requests(List<Op> history, List<String> retries) {
    Map<String, List<Op>> attempts = new LinkedHashMap<>();
    List<Op> ops = new ArrayList<>(history);
    ops.sort(Comparator.comparingLong(Op::invoked));
    for (Op op : ops) {
      attempts.computeIfAbsent(op.kind() + " " + op.client() + " " + op.request(), k -> new ArrayList<>()).add(op);
    }
    List<Op> out = new ArrayList<>();
    for (List<Op> tries : attempts.values()) {
      Op first = tries.stream().filter(a -> !a.unsent()).findFirst().orElse(tries.get(0));
      Op last = tries.get(tries.size() - 1);
      boolean anyUnknown = tries.stream().anyMatch(a -> a.outcome() == Outcome.UNKNOWN);
      Op decided = null; // the attempt whose answer decides the request, or null
      Outcome outcome = anyUnknown ? Outcome.UNKNOWN : Outcome.FAILED;
      if (first.kind() == Kind.ALLOC) {
        decided = tries.stream().filter(a -> a.outcome() == Outcome.OK).findFirst().orElse(null);
        if (decided != null) {
          outcome = Outcome.OK;
          for (Op a : tries.subList(tries.indexOf(decided) + 1, tries.size())) {
            if (a.outcome() != Outcome.UNKNOWN && !a.unsent() && !(a.outcome() == Outcome.OK
                && Arrays.equals(a.pids(), decided.pids()) && Arrays.equals(a.generations(), decided.generations()))) {
              retries.add("a retry of alloc " + first.request() + " answered otherwise than the first answer:\n  "
                  + decided.show(0) + "\n  " + a.show(0));
            }
          }
        }
      } else {
        boolean sawUnknown = false;
        for (Op a : tries) {
          if (a.outcome() == Outcome.UNKNOWN) {
            sawUnknown = true;
          } else if (!a.unsent()) {
            decided = a;
            outcome = a.outcome() == Outcome.OK || sawUnknown && FREED_ELSEWHERE.contains(a.error()) ? Outcome.OK
                : sawUnknown ? Outcome.UNKNOWN : Outcome.FAILED;
            break;
          }
        }
      }
      Op end = decided == null ? last : decided;
      out.add(new Op(first.client(), first.kind(), first.request(), end.pids(), end.generations(), first.invoked(),
          end.completed(), outcome, end.error(), tries.size() == 1 ? end.detail()
          : end.detail() + " (attempt " + (tries.indexOf(end) + 1) + " of " + tries.size() + ")"));
    }
    return out;
  }

  /** Every hold per pid, in the order of their allocs' invocations, from {@link #requests}. */
  private static Map<Integer, List<Hold>> holds(List<Op> requests) {
    List<Op> ops = new ArrayList<>(requests);
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
