package io.pidspace.storm;

import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.PidspaceException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionStage;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * The storm as a discrete-event simulation over the pure core ({@link PidMap}): containers,
 * forks, bursts and exits are events in virtual time, so hours of container life run in
 * seconds. One seeded random stream and an agenda whose order depends only on what was
 * scheduled make a seed give the same run every time. Forkers are an actor matter and play no
 * part here: a container's forks are one Poisson stream at its rate.
 */
final class VirtualStorm {

  private enum Kind { FORK, BURST, EXIT, CONTAINER_END, SAMPLE }

  private static final Kind[] KINDS = Kind.values();
  private static final int VPID_BITS = 22; // PID_MAX_LIMIT of the default layout
  private static final int GENERATION_MASK = (1 << 30) - 1;

  /** The container a slot holds now, and the slot's occupancy over the whole run. */
  private static final class Slot {
    int generation = -1;
    PidMap map;
    int peak;
    double liveNanos; // integral of live pids over time (a long overflows in hours at large pid_max)
    double intervalLiveNanos; // the same since the last sample
    int intervalPeak; // the most live pids since the last sample, whichever container held the slot
    long changedAt;
  }

  private static final int SAMPLES = 200;
  private static final long MICROS = 1_000;

  private final Workload workload;
  private final StormOptions options;
  private final Progress progress;
  private final SplittableRandom rng;
  private final Slot[] slots;
  private final BitSet spaceIds = new BitSet();
  /** Per space id, per vpid: when that global pid last exited, or -1; kept across containers. */
  private final long[][] exitedAt = new long[PidLayout.DEFAULT.maxSpaces()][];
  private final EventQueue events = new EventQueue();
  private final Histogram reuseMicros = new Histogram(3);
  private final StormReport.Series.Builder series = new StormReport.Series.Builder(false);
  private long now;
  private long forks, allocs, frees, exhausted, diedWithContainer, created, destroyed;
  private long firstExhaustion = -1;
  private long forksAtSample, allocsAtSample, freesAtSample, exhaustedAtSample, sampledAt;
  private final CompletionStage<?> stop;

  private VirtualStorm(Workload workload, Progress progress, CompletionStage<?> stop) {
    this.workload = workload;
    this.options = workload.options();
    this.progress = progress;
    this.stop = stop;
    this.rng = new SplittableRandom(options.seed());
    this.slots = new Slot[options.containers()];
    Arrays.setAll(slots, i -> new Slot());
  }

  /** When {@code stop} completes first, the simulation ends at the virtual time it has reached. */
  static StormReport.Run run(Workload workload, Progress progress, CompletionStage<?> stop) {
    StormOptions o = workload.options();
    long bytes = (long) o.containers() * o.pidMax() * Long.BYTES;
    if (bytes > Runtime.getRuntime().maxMemory() / 2) {
      throw PidspaceException.badRequest(String.format(Locale.ROOT,
          "--clock virtual keeps the last exit time of every pid: %d containers x pid_max %d need %,d MB, "
              + "more than half the heap (%,d MB); lower --containers or --pid-max, or raise -Xmx",
          o.containers(), o.pidMax(), bytes >> 20, Runtime.getRuntime().maxMemory() >> 20));
    }
    return new VirtualStorm(workload, progress, stop).simulate();
  }

  private StormReport.Run simulate() {
    long end = workload.durationNanos();
    long sampleEvery = Math.max(1, end / SAMPLES);
    for (int s = 0; s < slots.length; s++) {
      startContainer(s);
    }
    schedule(sampleEvery, Kind.SAMPLE, 0, 0);
    for (long handled = 0; !events.isEmpty() && events.nextTime() <= end; handled++) {
      if ((handled & 0xffff) == 0xffff && Storm.stopped(stop)) {
        end = now;
        break;
      }
      now = events.nextTime();
      long e = events.poll();
      Kind kind = KINDS[(int) (e & 7)];
      int s = (int) (e >>> 3) & 511;
      int vpid = (int) (e >>> 12) & ((1 << VPID_BITS) - 1);
      if (kind != Kind.SAMPLE && (int) (e >>> 34) != (slots[s].generation & GENERATION_MASK)) {
        continue; // an event of a container that has ended
      }
      switch (kind) {
        case FORK -> {
          fork(s);
          schedule(now + Workload.interArrivalNanos(rng, options.rate()), Kind.FORK, s, 0);
        }
        case BURST -> {
          for (int i = 0; i < options.burst(); i++) {
            fork(s);
          }
          schedule(now + workload.burstEveryNanos(), Kind.BURST, s, 0);
        }
        case EXIT -> exit(s, vpid);
        case CONTAINER_END -> {
          endContainer(s);
          startContainer(s);
        }
        case SAMPLE -> {
          sample();
          schedule(now + sampleEvery, Kind.SAMPLE, 0, 0);
        }
      }
    }
    now = end;
    if (sampledAt < end) {
      sample();
    }
    for (int s = 0; s < slots.length; s++) {
      endContainer(s);
    }
    return new StormReport.Run("pidspace core (virtual)", Workload.seconds(end), counts(), null, capacity(),
        series.build(slots.length));
  }

  /**
   * Puts an event of the slot's current container on the agenda, packed in a long (the agenda
   * holds no objects): kind in bits 0-2, slot in 3-11, vpid in 12-33, generation in 34-63.
   */
  private void schedule(long at, Kind kind, int slot, int vpid) {
    long generation = slots[slot].generation & GENERATION_MASK;
    events.add(at, kind.ordinal() | (long) slot << 3 | (long) vpid << 12 | generation << 34);
  }

  /** A new container in the slot: a space with the lowest free id, as the registry gives it. */
  private void startContainer(int s) {
    Slot slot = slots[s];
    int id = PidLayout.DEFAULT.lowestFreeSpace(free -> !spaceIds.get(free));
    spaceIds.set(id);
    slot.generation++;
    slot.map = PidMap.create(PidLayout.DEFAULT, id, options.pidMax());
    if (exitedAt[id] == null) {
      exitedAt[id] = new long[options.pidMax()];
      Arrays.fill(exitedAt[id], -1);
    }
    created++;
    schedule(now + workload.containerLifetimeNanos(s, slot.generation), Kind.CONTAINER_END, s, 0);
    schedule(now + Workload.interArrivalNanos(rng, options.rate()), Kind.FORK, s, 0);
    if (options.burst() > 0) {
      schedule(now + workload.burstEveryNanos(), Kind.BURST, s, 0);
    }
  }

  /** Its live processes die with it; destroying the space frees their pids. */
  private void endContainer(int s) {
    Slot slot = slots[s];
    accrue(slot);
    diedWithContainer += slot.map.allocated();
    long[] exited = exitedAt[slot.map.space()];
    slot.map.forEachAllocated(vpid -> exited[vpid] = now);
    spaceIds.clear(slot.map.space());
    destroyed++;
  }

  private void fork(int s) {
    Slot slot = slots[s];
    forks++;
    accrue(slot);
    int vpid = slot.map.alloc();
    if (vpid == PidMap.NONE) {
      exhausted++;
      if (firstExhaustion < 0) {
        firstExhaustion = now;
      }
      return;
    }
    allocs++;
    slot.peak = Math.max(slot.peak, slot.map.allocated());
    slot.intervalPeak = Math.max(slot.intervalPeak, slot.map.allocated());
    long exited = exitedAt[slot.map.space()][vpid];
    if (exited >= 0) {
      reuseMicros.recordValue((now - exited) / MICROS);
    }
    schedule(now + workload.lifetimeNanos(rng), Kind.EXIT, s, vpid);
  }

  private void exit(int s, int vpid) {
    Slot slot = slots[s];
    accrue(slot);
    slot.map.free(vpid);
    exitedAt[slot.map.space()][vpid] = now;
    frees++;
  }

  /** Adds the time the current live count lasted to the slot's integral; call before a change. */
  private void accrue(Slot slot) {
    double liveNanos = (double) slot.map.allocated() * (now - slot.changedAt);
    slot.liveNanos += liveNanos;
    slot.intervalLiveNanos += liveNanos;
    slot.changedAt = now;
  }

  /** The interval since the last sample: rates, the occupancy envelope across slots, live pids now. */
  private void sample() {
    double dt = Workload.seconds(now - sampledAt);
    int[] live = new int[slots.length];
    int peak = 0;
    double liveNanos = 0;
    for (int s = 0; s < slots.length; s++) {
      Slot slot = slots[s];
      accrue(slot);
      live[s] = slot.map.allocated();
      peak = Math.max(peak, slot.intervalPeak);
      liveNanos += slot.intervalLiveNanos;
      slot.intervalPeak = live[s];
      slot.intervalLiveNanos = 0;
    }
    double pidMax = options.pidMax();
    series.add(new StormReport.Series.Sample(Workload.seconds(now), (forks - forksAtSample) / dt,
        (allocs - allocsAtSample) / dt, (frees - freesAtSample) / dt, (exhausted - exhaustedAtSample) / dt,
        100 * peak / pidMax, 100 * liveNanos / ((double) (now - sampledAt) * slots.length) / pidMax, 0, 0, live));
    forksAtSample = forks;
    allocsAtSample = allocs;
    freesAtSample = frees;
    exhaustedAtSample = exhausted;
    sampledAt = now;
    progress.update(now / 1_000_000, String.format(Locale.ROOT, "%,d forks", forks)
        + (exhausted > 0 ? String.format(Locale.ROOT, ", %,d exhausted", exhausted) : ""));
  }

  private StormReport.Counts counts() {
    double seconds = Workload.seconds(now);
    return new StormReport.Counts(forks, allocs, frees, exhausted, 0, 0, diedWithContainer, created, destroyed,
        allocs / seconds, frees / seconds, firstExhaustion < 0 ? null : Workload.seconds(firstExhaustion), null);
  }

  private StormReport.Capacity capacity() {
    List<StormReport.SlotOccupancy> occupancy = new ArrayList<>();
    int peak = 0;
    double meanSum = 0;
    for (int s = 0; s < slots.length; s++) {
      double mean = slots[s].liveNanos / now;
      occupancy.add(new StormReport.SlotOccupancy(s, slots[s].peak, mean));
      peak = Math.max(peak, slots[s].peak);
      meanSum += mean;
    }
    Double first = firstExhaustion < 0 ? null : Workload.seconds(firstExhaustion);
    return new StormReport.Capacity(options.pidMax(), first, peak, meanSum / slots.length, occupancy, reuse());
  }

  private StormReport.Reuse reuse() {
    Histogram h = reuseMicros;
    List<StormReport.Bucket> buckets = new ArrayList<>();
    if (h.getTotalCount() > 0) {
      double upTo = 0.001; // 1 ms, doubling
      for (HistogramIterationValue v : h.logarithmicBucketValues(1_000, 2.0)) {
        buckets.add(new StormReport.Bucket(upTo, v.getCountAddedInThisIterationStep()));
        upTo *= 2;
      }
    }
    return new StormReport.Reuse(h.getTotalCount(), seconds(h.getMinValue()), seconds(h.getValueAtPercentile(1)),
        seconds(h.getValueAtPercentile(50)), seconds(h.getValueAtPercentile(99)), seconds(h.getMaxValue()), buckets);
  }

  private static double seconds(long micros) {
    return micros / 1e6;
  }
}
