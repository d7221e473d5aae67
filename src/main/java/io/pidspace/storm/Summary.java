package io.pidspace.storm;

import java.util.Locale;

/**
 * The summary table a storm prints on stdout. Built from the report alone, so that a virtual run
 * (whose report holds nothing measured) prints the same bytes for the same seed.
 */
public final class Summary {

  /** Per-slot occupancy rows are printed up to this many slots; the JSON always has them all. */
  private static final int SLOT_ROWS = 16;

  private final StringBuilder out = new StringBuilder();

  private Summary() {}

  public static String of(StormReport report) {
    Summary s = new Summary();
    s.header(report);
    if (report.options().clock() == StormOptions.Clock.REAL) {
      s.real(report);
    } else {
      s.virtual(report.runs().get(0).capacity(), report.runs().get(0).counts());
    }
    return s.out.toString();
  }

  private void header(StormReport r) {
    StormOptions o = r.options();
    boolean real = o.clock() == StormOptions.Clock.REAL;
    line("pidspace storm: %s clock, %s%s; %d container%s%s, pid_max %d", o.clock().word(), time(o.durationSeconds()),
        real ? o.warmupSeconds() > 0 ? " after " + time(o.warmupSeconds()) + " of warm-up" : "" : " simulated",
        o.containers(), o.containers() == 1 ? "" : "s",
        real ? " x " + o.forkers() + " forkers" : "", o.pidMax());
    String load = o.loop() == StormOptions.Loop.CLOSED
        ? "closed loop (each forker forks again as soon as it is answered)"
        : String.format(Locale.ROOT, "open loop, %,.0f forks/s per container", o.rate())
            + (o.burst() > 0 ? String.format(Locale.ROOT, " + bursts of %,d every %s", o.burst(), time(o.burstEverySeconds())) : "");
    String lifetime = o.lifetime().word() + " lifetimes, mean " + time(o.lifetimeMeanSeconds())
        + (o.lifetime() == StormOptions.Lifetime.PARETO ? ", shape " + o.paretoShape() : "");
    line("workload: %s; %s; containers live %s; seed %d", load, lifetime, time(o.containerLifetimeSeconds()), o.seed());
    if (r.machine() != null) {
      line("machine: %d cores, Java %s, load average %.2f", r.machine().cores(), r.machine().java(),
          r.machine().loadAverage());
    }
    if (Boolean.TRUE.equals(r.interrupted())) {
      line("interrupted after %s%s of %s: the figures cover the part that ran%s",
          time(r.runs().get(r.runs().size() - 1).seconds()), real ? "" : " simulated", time(o.durationSeconds()),
          real && o.compare() && r.runs().size() < 2 ? " (the baseline did not run)" : "");
    }
    line("");
  }

  private void real(StormReport r) {
    String row = "%-24s %10s %10s %8s %8s %8s %9s %9s %10s %7s %7s";
    line(row, "target", "allocs/s", "frees/s", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "exhausted", "errors", "shed");
    for (StormReport.Run run : r.runs()) {
      StormReport.Counts c = run.counts();
      StormReport.Latency l = run.latency();
      line(row, run.target(), num(c.allocsPerSecond()), num(c.freesPerSecond()), num(l.p50Us()), num(l.p90Us()),
          num(l.p99Us()), num(l.p999Us()), num(l.maxUs()), num(c.exhausted()), num(c.errors()), num(c.shed()));
    }
    if (r.ratio() != null) {
      line(row, "pidspace / baseline", times(r.ratio().allocsPerSecond()), "",
          times(r.ratio().latencyP50()), "", times(r.ratio().latencyP99()), "", "", "", "", "");
    }
    line("");
    for (StormReport.Run run : r.runs()) {
      StormReport.Counts c = run.counts();
      line("%s: %,d forks in %.1f s: %,d allocated, %,d freed by exit, %,d died with their container; "
              + "%,d containers created, %,d destroyed", run.target(), c.forks(), run.seconds(), c.allocs(), c.frees(),
          c.diedWithContainer(), c.containersCreated(), c.containersDestroyed());
      if (c.firstExhaustionSeconds() != null) {
        line("  first exhausted fork at %.3f s; %,d exhausted in all", c.firstExhaustionSeconds(), c.exhausted());
      }
      if (c.firstError() != null) {
        line("  first error: %s", c.firstError());
      }
    }
  }

  private void virtual(StormReport.Capacity cap, StormReport.Counts c) {
    line("forks        %,d: %,d allocated, %,d exhausted (%s)%s", c.forks(), c.allocs(), c.exhausted(),
        percent(c.exhausted(), c.forks()),
        cap.firstExhaustionSeconds() == null ? ", never exhausted"
            : String.format(Locale.ROOT, ", first at %.3f s", cap.firstExhaustionSeconds()));
    line("exits        %,d freed by exit, %,d died with their container", c.frees(), c.diedWithContainer());
    line("containers   %,d created, %,d destroyed", c.containersCreated(), c.containersDestroyed());
    line("occupancy    peak %,d of pid_max %,d (%s), mean %,.1f live pids per container slot", cap.peak(),
        cap.pidMax(), percent(cap.peak(), cap.pidMax()), cap.mean());
    StormReport.Reuse u = cap.reuse();
    line("pid reuse    %,d reuses; distance from exit to next fork: min %s, p1 %s, p50 %s, p99 %s, max %s",
        u.count(), span(u.minSeconds()), span(u.p1Seconds()), span(u.p50Seconds()), span(u.p99Seconds()),
        span(u.maxSeconds()));
    if (cap.slots().size() <= SLOT_ROWS) {
      line("");
      line("%5s %10s %12s", "slot", "peak", "mean");
      for (StormReport.SlotOccupancy s : cap.slots()) {
        line("%5d %10s %12s", s.slot(), num(s.peak()), String.format(Locale.ROOT, "%,.1f", s.mean()));
      }
    }
  }

  private void line(String format, Object... args) {
    out.append(String.format(Locale.ROOT, format, args).stripTrailing()).append('\n');
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%,.0f", v);
  }

  private static String times(double ratio) {
    return String.format(Locale.ROOT, "%.2fx", ratio);
  }

  private static String percent(long part, long whole) {
    return whole == 0 ? "0%" : String.format(Locale.ROOT, "%.3f%%", 100.0 * part / whole);
  }

  /** An option's duration as a person writes it: 500ms, 15s, 10m, 1.5h. */
  static String time(double seconds) {
    if (seconds != 0 && seconds < 1) {
      return trim(seconds * 1000) + "ms";
    }
    if (seconds < 120) {
      return trim(seconds) + "s";
    }
    return seconds < 3600 ? trim(seconds / 60) + "m" : trim(seconds / 3600) + "h";
  }

  /** A measured span, to the microsecond that the reuse histogram holds. */
  private static String span(double seconds) {
    if (seconds < 0.001) {
      return String.format(Locale.ROOT, "%.0f us", seconds * 1e6);
    }
    return seconds < 1
        ? String.format(Locale.ROOT, "%.1f ms", seconds * 1e3)
        : String.format(Locale.ROOT, "%.2f s", seconds);
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v).replaceAll("0+$", "");
  }
}
