package io.pidspace.storm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * {@code pidspace storm}: runs a storm on the clock the options name and gathers its report.
 * With {@code --compare} the same workload runs again, in the same process, on the baseline.
 * A {@code stop} that completes ends the storm early (Ctrl-C): the run under way ends as at the
 * end of its duration, later runs are skipped, and the report says it was interrupted.
 */
public final class Storm {

  /** A stop that never comes: the storm runs its whole duration. */
  public static final CompletionStage<Void> TO_THE_END = new CompletableFuture<Void>().minimalCompletionStage();

  private Storm() {}

  /**
   * @param target what the real clock drives (e.g. {@link StormTarget#inMemory}); made only when
   *     needed, and closed after its run
   */
  public static StormReport run(StormOptions options, Supplier<StormTarget> target, Progress.Factory progress,
      CompletionStage<?> stop) {
    if (options.clock() == StormOptions.Clock.VIRTUAL) {
      StormReport.Run run = virtual(options, progress, stop);
      return new StormReport(StormReport.SCHEMA, null, options, null, List.of(run), null, interrupted(stop));
    }
    List<Supplier<StormTarget>> targets = new ArrayList<>();
    targets.add(target);
    if (options.compare()) {
      targets.add(StormTarget::baseline);
    }
    List<StormReport.Run> runs = new ArrayList<>();
    for (Supplier<StormTarget> make : targets) {
      if (!runs.isEmpty() && stopped(stop)) {
        break;
      }
      try (StormTarget made = make.get()) {
        runs.add(real(options, made, progress, stop));
      }
    }
    return new StormReport(StormReport.SCHEMA, null, options, StormReport.Machine.current(), runs, ratio(runs),
        interrupted(stop));
  }

  /**
   * One real-clock run on {@code target}, after its warm-up run (not counted); blocks until every
   * container has destroyed its space.
   */
  public static StormReport.Run real(StormOptions options, StormTarget target, Progress.Factory progress,
      CompletionStage<?> stop) {
    if (options.warmupSeconds() > 0) { // else the JIT's first seconds count as the allocator's latency
      Workload warmup = new Workload(options.warmup());
      StormReport.Run warm;
      try (Progress p = progress.open(target.name() + " warm-up", warmup.durationNanos() / 1_000_000)) {
        warm = RealStorm.run(warmup, target, p, stop);
      }
      if (stopped(stop)) { // the report covers the part that ran
        return warm;
      }
    }
    Workload workload = new Workload(options);
    try (Progress p = progress.open(target.name(), workload.durationNanos() / 1_000_000)) {
      return RealStorm.run(workload, target, p, stop);
    }
  }

  /** One virtual-clock run: a simulation of the pure core, the same for the same options. */
  public static StormReport.Run virtual(StormOptions options, Progress.Factory progress, CompletionStage<?> stop) {
    Workload workload = new Workload(options);
    try (Progress p = progress.open("virtual", workload.durationNanos() / 1_000_000)) {
      return VirtualStorm.run(workload, p, stop);
    }
  }

  /** Cheap enough to ask often for a CompletableFuture; a minimal stage's toCompletableFuture() would register a relay each time. */
  static boolean stopped(CompletionStage<?> stop) {
    return stop != TO_THE_END && stop.toCompletableFuture().isDone();
  }

  private static Boolean interrupted(CompletionStage<?> stop) {
    return stopped(stop) ? Boolean.TRUE : null;
  }

  /** The first run over the second, when there are two. */
  private static StormReport.Ratio ratio(List<StormReport.Run> runs) {
    if (runs.size() != 2) {
      return null;
    }
    StormReport.Run ours = runs.get(0);
    StormReport.Run base = runs.get(1);
    return new StormReport.Ratio(
        ours.counts().allocsPerSecond() / base.counts().allocsPerSecond(),
        ours.latency().p50Us() / base.latency().p50Us(),
        ours.latency().p99Us() / base.latency().p99Us());
  }
}
