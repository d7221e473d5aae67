package io.pidspace.storm;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Every figure of a storm: what {@code --json} writes (snake_case field names, documented in
 * docs/storm.md; {@link #SCHEMA} changes when one changes meaning), what the summary prints and
 * what the HTML report draws. Parts that do not apply to a clock are left out: {@code machine},
 * {@code ratio} and {@code latency} are real-clock only, {@code capacity} virtual-clock only.
 * {@code meta} is what the command adds (when, which build, which command line): a report made
 * by {@link Storm#run} alone has none, so a virtual run's figures stay the same for the same seed.
 *
 * @param interrupted true when the storm was stopped early (Ctrl-C): its figures cover the part
 *     that ran; null otherwise
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StormReport(int schema, Meta meta, StormOptions options, Machine machine, List<Run> runs, Ratio ratio,
    Boolean interrupted) {

  public static final int SCHEMA = 1;

  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .setSerializationInclusion(JsonInclude.Include.NON_NULL);

  public StormReport {
    runs = List.copyOf(runs);
  }

  /** This report with the command's metadata. */
  public StormReport withMeta(Meta meta) {
    return new StormReport(schema, meta, options, machine, runs, ratio, interrupted);
  }

  /**
   * Which run this is: when it started (UTC, ISO 8601), the pidspace version that ran it, and its
   * command line as typed (arguments quoted where a shell would need it).
   */
  public record Meta(String date, String version, String commandLine) {}

  /**
   * The machine a real-clock run measured, with its load average at the end (-1 where the system
   * has none): other work on the same cores shows in every figure.
   */
  public record Machine(int cores, String java, double loadAverage) {
    static Machine current() {
      return new Machine(Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")",
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  /** One target's run; {@code seconds} is wall time (real clock) or simulated time (virtual). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Run(String target, double seconds, Counts counts, Latency latency, Capacity capacity, Series series) {}

  /**
   * @param forks forks attempted; each is allocated, exhausted, an error, or shed
   * @param shed forks not sent because the forker already had its limit of requests in flight
   * @param diedWithContainer pids still live when their container ended, freed by its space's destroy
   * @param firstExhaustionSeconds time from the run's start to its first exhausted fork, or null if none
   * @param firstError the first error's message, or null
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Counts(
      long forks, long allocs, long frees, long exhausted, long errors, long shed, long diedWithContainer,
      long containersCreated, long containersDestroyed, double allocsPerSecond, double freesPerSecond,
      Double firstExhaustionSeconds, String firstError) {}

  /** Fork (alloc) latency as a forker sees it, from request to answer, in microseconds. */
  public record Latency(double p50Us, double p90Us, double p99Us, double p999Us, double maxUs, double meanUs) {}

  /**
   * What the virtual clock answers about capacity.
   *
   * @param firstExhaustionSeconds simulated time of the first exhausted fork, or null if none
   * @param peak the highest live pid count of any container slot
   * @param mean the time-weighted live pid count, averaged over the slots
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Capacity(
      int pidMax, Double firstExhaustionSeconds, int peak, double mean, List<SlotOccupancy> slots, Reuse reuse) {}

  /** Occupancy of one container slot over the run, whichever container held it. */
  public record SlotOccupancy(int slot, int peak, double mean) {}

  /**
   * Pid reuse distance: from a global pid's exit (or its container's end) to the next fork that
   * gets the same global pid, in the same container or a later one given the same space id — how
   * long a stale pid names nothing before it names a new process. In seconds.
   */
  public record Reuse(long count, double minSeconds, double p1Seconds, double p50Seconds, double p99Seconds,
      double maxSeconds, List<Bucket> buckets) {}

  /** {@code count} reuses at most {@code upToSeconds} apart (and above the previous bucket). */
  public record Bucket(double upToSeconds, long count) {}

  /**
   * Samples over the run, one per interval; {@code livePerSlot[slot][sample]}. Rates are per second
   * over the interval: {@code forksPerSecond} is what the workload offered, {@code allocsPerSecond}
   * what the allocator achieved. Occupancy is an envelope across the container slots, in percent
   * of pid_max: the most live pids any slot held at any moment of the interval, and the live
   * pids averaged over the slots and over the interval. Latency arrays are real-clock only.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Series(double[] timeSeconds, double[] forksPerSecond, double[] allocsPerSecond,
      double[] freesPerSecond, double[] exhaustedPerSecond, double[] occupancyMaxPercent,
      double[] occupancyMeanPercent, double[] latencyP50Us, double[] latencyP99Us, int[][] livePerSlot) {

    /** One interval's figures, as {@link Builder#add} takes them. */
    record Sample(double timeSeconds, double forksPerSecond, double allocsPerSecond, double freesPerSecond,
        double exhaustedPerSecond, double occupancyMaxPercent, double occupancyMeanPercent, double latencyP50Us,
        double latencyP99Us, int[] livePerSlot) {}

    /** Collects samples one at a time. */
    static final class Builder {
      private final List<Sample> samples = new ArrayList<>();
      private final boolean latency;

      Builder(boolean latency) {
        this.latency = latency;
      }

      void add(Sample sample) {
        samples.add(sample);
      }

      Series build(int slots) {
        int[][] perSlot = new int[slots][samples.size()];
        for (int i = 0; i < samples.size(); i++) {
          for (int s = 0; s < slots; s++) {
            perSlot[s][i] = samples.get(i).livePerSlot()[s];
          }
        }
        return new Series(column(Sample::timeSeconds), column(Sample::forksPerSecond), column(Sample::allocsPerSecond),
            column(Sample::freesPerSecond), column(Sample::exhaustedPerSecond), column(Sample::occupancyMaxPercent),
            column(Sample::occupancyMeanPercent), latency ? column(Sample::latencyP50Us) : null,
            latency ? column(Sample::latencyP99Us) : null, perSlot);
      }

      private double[] column(ToDoubleFunction<Sample> field) {
        return samples.stream().mapToDouble(field).toArray();
      }
    }
  }

  /**
   * pidspace divided by the baseline ({@code --compare}): above 1, pidspace forks more per second,
   * or waits longer per fork.
   */
  public record Ratio(double allocsPerSecond, double latencyP50, double latencyP99) {}

  public String toJson(boolean pretty) {
    try {
      return pretty
          ? JSON.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsString(this)
          : JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
