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

/**
 * Every figure of a storm: what {@code --json} writes (snake_case field names, documented in
 * docs/storm.md; {@link #SCHEMA} changes when one changes meaning), what the summary prints and
 * what the HTML report draws. Parts that do not apply to a clock are left out: {@code machine},
 * {@code ratio} and {@code latency} are real-clock only, {@code capacity} virtual-clock only.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StormReport(int schema, StormOptions options, Machine machine, List<Run> runs, Ratio ratio) {

  public static final int SCHEMA = 1;

  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .setSerializationInclusion(JsonInclude.Include.NON_NULL);

  public StormReport {
    runs = List.copyOf(runs);
  }

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
   * @param firstError the first error's message, or null
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Counts(
      long forks, long allocs, long frees, long exhausted, long errors, long shed, long diedWithContainer,
      long containersCreated, long containersDestroyed, double allocsPerSecond, double freesPerSecond,
      String firstError) {}

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

  /** Samples over the run; {@code livePerSlot[slot][sample]}. Latency arrays are real-clock only. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Series(double[] timeSeconds, double[] allocsPerSecond, double[] freesPerSecond,
      double[] latencyP50Us, double[] latencyP99Us, int[][] livePerSlot) {

    /** Collects samples one at a time. */
    static final class Builder {
      private final List<double[]> rows = new ArrayList<>(); // t, allocs/s, frees/s, p50, p99
      private final List<int[]> live = new ArrayList<>();
      private final boolean latency;

      Builder(boolean latency) {
        this.latency = latency;
      }

      void add(double t, double allocsPerSecond, double freesPerSecond, double p50Us, double p99Us, int[] livePerSlot) {
        rows.add(new double[] {t, allocsPerSecond, freesPerSecond, p50Us, p99Us});
        live.add(livePerSlot.clone());
      }

      Series build(int slots) {
        int[][] perSlot = new int[slots][live.size()];
        for (int i = 0; i < live.size(); i++) {
          for (int s = 0; s < slots; s++) {
            perSlot[s][i] = live.get(i)[s];
          }
        }
        return new Series(column(0), column(1), column(2), latency ? column(3) : null, latency ? column(4) : null, perSlot);
      }

      private double[] column(int c) {
        return rows.stream().mapToDouble(r -> r[c]).toArray();
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
