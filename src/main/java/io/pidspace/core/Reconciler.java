package io.pidspace.core;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Reconciliation of one space with the vpids a container runtime sees alive, as Kubernetes' repair
 * loop does for its bitmap allocators. Keeps the leaked vpids of the last reports, newest first: in
 * memory only, so after a restart or failover the count starts again (a leak is freed later, never
 * earlier).
 */
final class Reconciler {

  private final ArrayDeque<Set<Integer>> leakReports = new ArrayDeque<>();

  /**
   * The report on {@code alive} against the allocated vpids of {@code bits}; with {@code reports}
   * above 0, {@code free} is called with each leaked vpid that was also leaked in each of the
   * {@code reports} reports before this one. Every report is remembered for the next ones.
   *
   * @throws PidspaceException ({@code out-of-range}, {@code bad-request}), changing nothing, when
   *     {@code alive} names a vpid outside {@code 1..pidMax-1} or one twice
   */
  Reconciled reconcile(int[] alive, int reports, PidBitmap bits, int space, IntConsumer free) {
    int pidMax = bits.pidMax();
    Set<Integer> aliveSet = new HashSet<>();
    for (int v : alive) {
      if (v < 1 || v >= pidMax) {
        throw PidspaceException.outOfRange("alive vpids must be within 1.." + (pidMax - 1) + " (pid_max " + pidMax
            + " of space " + space + ")");
      }
      if (!aliveSet.add(v)) {
        throw PidspaceException.badRequest("alive must not name one vpid twice");
      }
    }
    IntStream.Builder leaked = IntStream.builder();
    bits.forEach(v -> {
      if (!aliveSet.contains(v)) {
        leaked.add(v);
      }
    });
    int[] leakedNow = leaked.build().toArray();
    int[] unknown = aliveSet.stream().filter(v -> !bits.isSet(v)).mapToInt(Integer::intValue).sorted().toArray();
    IntStream.Builder freed = IntStream.builder();
    if (reports > 0 && leakReports.size() >= reports) {
      List<Set<Integer>> previous = leakReports.stream().limit(reports).toList();
      for (int v : leakedNow) {
        if (previous.stream().allMatch(report -> report.contains(v))) {
          free.accept(v);
          freed.add(v);
        }
      }
    }
    Set<Integer> report = new HashSet<>();
    for (int v : leakedNow) {
      report.add(v);
    }
    leakReports.addFirst(report);
    while (leakReports.size() > Math.max(reports, PidMap.MAX_REPORTS)) {
      leakReports.removeLast();
    }
    return new Reconciled(leakedNow, unknown, freed.build().toArray());
  }
}
