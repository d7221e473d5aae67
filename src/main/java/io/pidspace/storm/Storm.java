package io.pidspace.storm;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code pidspace storm}: runs a storm on the clock the options name and gathers its report.
 * With {@code --compare} the same workload runs again, in the same process, on the baseline.
 */
public final class Storm {

  private Storm() {}

  /**
   * @param target what the real clock drives (e.g. {@link StormTarget#inMemory}); made only when
   *     needed, and closed after its run
   */
  public static StormReport run(StormOptions options, Supplier<StormTarget> target, Progress.Factory progress) {
    if (options.clock() == StormOptions.Clock.VIRTUAL) {
      return new StormReport(StormReport.SCHEMA, options, null, List.of(virtual(options, progress)), null);
    }
    List<Supplier<StormTarget>> targets = new ArrayList<>();
    targets.add(target);
    if (options.compare()) {
      targets.add(StormTarget::baseline);
    }
    List<StormReport.Run> runs = new ArrayList<>();
    for (Supplier<StormTarget> make : targets) {
      try (StormTarget made = make.get()) {
        runs.add(real(options, made, progress));
      }
    }
    return new StormReport(StormReport.SCHEMA, options, StormReport.Machine.current(), runs, ratio(runs));
  }

  /** One real-clock run on {@code target}; blocks until every container has destroyed its space. */
  public static StormReport.Run real(StormOptions options, StormTarget target, Progress.Factory progress) {
    Workload workload = new Workload(options);
    try (Progress p = progress.open(target.name(), workload.durationNanos() / 1_000_000)) {
      return RealStorm.run(workload, target, p);
    }
  }

  /** One virtual-clock run: a simulation of the pure core, the same for the same options. */
  public static StormReport.Run virtual(StormOptions options, Progress.Factory progress) {
    Workload workload = new Workload(options);
    try (Progress p = progress.open("virtual", workload.durationNanos() / 1_000_000)) {
      return VirtualStorm.run(workload, p);
    }
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
