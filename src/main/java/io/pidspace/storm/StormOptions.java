package io.pidspace.storm;

import com.fasterxml.jackson.annotation.JsonValue;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import java.util.Locale;

/**
 * Everything that defines one storm. The constructor is the one place options are checked; each
 * refusal is a {@code bad-request} that names the bad value. Durations are in seconds.
 *
 * @param containers containers alive at once, each with a space of its own (the storm's "slots")
 * @param forkers forker actors per container (real clock only)
 * @param rate forks per second per container (open loop)
 * @param burst extra forks per container at once, every {@code burstEverySeconds}; 0 for none
 * @param lifetimeMeanSeconds mean process lifetime; 0 exits at once (fixed only)
 * @param paretoShape the tail index of {@link Lifetime#PARETO}; heavier tail as it nears 1
 * @param containerLifetimeSeconds how long a container lives before its space is destroyed and
 *     a new container takes its slot (the first ones are staggered so they do not all end at once)
 * @param warmupSeconds real clock: the same workload runs this long first, on the same target,
 *     and is not counted (the JIT compiles the hot paths meanwhile); 0 for none
 */
public record StormOptions(
    Clock clock,
    int containers,
    int forkers,
    int pidMax,
    Loop loop,
    double rate,
    int burst,
    double burstEverySeconds,
    Lifetime lifetime,
    double lifetimeMeanSeconds,
    double paretoShape,
    double containerLifetimeSeconds,
    double durationSeconds,
    double warmupSeconds,
    long seed,
    boolean compare) {

  /** How time passes: {@code real} measures the allocator, {@code virtual} simulates its core. */
  public enum Clock {
    REAL, VIRTUAL;

    @JsonValue
    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** {@code open}: forks arrive at the rate whatever the answers; {@code closed}: next fork on each answer. */
  public enum Loop {
    OPEN, CLOSED;

    @JsonValue
    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum Lifetime {
    FIXED, EXPONENTIAL, PARETO;

    @JsonValue
    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public StormOptions {
    PidLayout layout = PidLayout.DEFAULT;
    int spaceIds = layout.maxSpaces() - 1; // space 0 is the host's, never a container's
    if (containers < 1 || containers > spaceIds) {
      throw bad("--containers " + containers + " is outside 1.." + spaceIds
          + ": each container needs a space id of its own (1.." + spaceIds + ")");
    }
    if (forkers < 1 || forkers > 1_000) {
      throw bad("--forkers " + forkers + " is outside 1..1000");
    }
    if (pidMax < PidLayout.PID_MAX_MIN || pidMax > layout.pidMaxLimit()) {
      throw bad("--pid-max " + pidMax + " is outside " + PidLayout.PID_MAX_MIN + ".." + layout.pidMaxLimit());
    }
    if (loop == Loop.OPEN && !(rate > 0 && rate <= 10_000_000)) {
      throw bad("--rate " + rate + " forks/s is outside (0, 10000000]");
    }
    if (burst < 0) {
      throw bad("--burst " + burst + " is negative");
    }
    if (burst > 0 && !(burstEverySeconds > 0)) {
      throw bad("--burst-every " + burstEverySeconds + "s must be positive");
    }
    if (!(lifetimeMeanSeconds >= 0) || (lifetime != Lifetime.FIXED && lifetimeMeanSeconds == 0)) {
      throw bad("--lifetime-mean " + lifetimeMeanSeconds + "s must be positive (0 only with --lifetime fixed)");
    }
    if (lifetime == Lifetime.PARETO && !(paretoShape > 1)) {
      throw bad("--pareto-shape " + paretoShape + " must be above 1: at or below 1 a Pareto lifetime has no finite mean");
    }
    if (!(containerLifetimeSeconds > 0)) {
      throw bad("--container-lifetime " + containerLifetimeSeconds + "s must be positive");
    }
    if (!(durationSeconds > 0)) {
      throw bad("--duration " + durationSeconds + "s must be positive");
    }
    if (!(warmupSeconds >= 0)) {
      throw bad("--warmup " + warmupSeconds + "s is negative");
    }
    if (clock == Clock.VIRTUAL && warmupSeconds > 0) {
      throw bad("--warmup needs --clock real: a simulation has nothing to warm up");
    }
    if (clock == Clock.VIRTUAL && loop == Loop.CLOSED) {
      throw bad("--loop closed needs --clock real: it forks as fast as the allocator answers, "
          + "and virtual time has no answer times");
    }
    if (clock == Clock.VIRTUAL && compare) {
      throw bad("--compare measures the speed of two allocators; it needs --clock real");
    }
  }

  /** The warm-up run: this workload for {@code warmupSeconds}, without a warm-up of its own. */
  StormOptions warmup() {
    return new StormOptions(clock, containers, forkers, pidMax, loop, rate, burst, burstEverySeconds, lifetime,
        lifetimeMeanSeconds, paretoShape, containerLifetimeSeconds, warmupSeconds, 0, seed, compare);
  }

  private static PidspaceException bad(String message) {
    return PidspaceException.badRequest(message);
  }
}
