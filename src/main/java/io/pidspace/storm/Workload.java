package io.pidspace.storm;

import java.util.SplittableRandom;

/**
 * The draws that make a storm, shared by both clocks so that they run the same workload: when
 * forks arrive (Poisson), how long a process lives and how long a container lives. Times in
 * nanoseconds.
 */
final class Workload {

  private static final double NANOS = 1e9;
  /** Longer than any run: a draw from a heavy tail may exceed what a long holds. */
  private static final double FOREVER = 1e18;

  private final StormOptions options;

  Workload(StormOptions options) {
    this.options = options;
  }

  StormOptions options() {
    return options;
  }

  long durationNanos() {
    return nanos(options.durationSeconds());
  }

  long burstEveryNanos() {
    return nanos(options.burstEverySeconds());
  }

  /** Time to the next fork of a Poisson stream of {@code forksPerSecond}. */
  static long interArrivalNanos(SplittableRandom rng, double forksPerSecond) {
    return nanos(exponential(rng, 1 / forksPerSecond));
  }

  long lifetimeNanos(SplittableRandom rng) {
    double mean = options.lifetimeMeanSeconds();
    return switch (options.lifetime()) {
      case FIXED -> nanos(mean);
      case EXPONENTIAL -> nanos(exponential(rng, mean));
      case PARETO -> {
        double shape = options.paretoShape();
        double scale = mean * (shape - 1) / shape; // the x_m that gives this mean
        yield nanos(scale * Math.pow(1 - rng.nextDouble(), -1 / shape));
      }
    };
  }

  /**
   * A container's lifetime. The first generation of slot {@code s} of {@code n} lives
   * {@code (s + 1) / n} of the lifetime, so that containers end one by one, not all at once.
   */
  long containerLifetimeNanos(int slot, int generation) {
    double full = options.containerLifetimeSeconds();
    return nanos(generation == 0 ? full * (slot + 1) / options.containers() : full);
  }

  /** Forker {@code i}'s part of a container's burst (the first ones take the remainder). */
  int burstShare(int forker) {
    int n = options.forkers();
    return options.burst() / n + (forker < options.burst() % n ? 1 : 0);
  }

  private static double exponential(SplittableRandom rng, double mean) {
    return -mean * Math.log(1 - rng.nextDouble());
  }

  static long nanos(double seconds) {
    return (long) Math.min(seconds * NANOS, FOREVER);
  }

  static double seconds(long nanos) {
    return nanos / NANOS;
  }
}
