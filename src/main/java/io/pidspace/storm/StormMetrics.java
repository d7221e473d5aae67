package io.pidspace.storm;

import io.pidspace.core.Failures;
import io.pidspace.core.PidspaceException;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * The counters of one real-clock run. Many actors write them and {@link RealStorm} reads them
 * while they run, so they are adders and a recorder that any thread may touch; no actor's state
 * lives here.
 */
final class StormMetrics {

  final LongAdder forks = new LongAdder();
  final LongAdder allocs = new LongAdder();
  final LongAdder frees = new LongAdder();
  final LongAdder exhausted = new LongAdder();
  final LongAdder errors = new LongAdder();
  final LongAdder shed = new LongAdder();
  final LongAdder diedWithContainer = new LongAdder();
  final LongAdder containersCreated = new LongAdder();
  final LongAdder containersDestroyed = new LongAdder();
  /** Fork latency in nanoseconds; {@link RealStorm} takes its interval histograms. */
  final Recorder forkLatency = new Recorder(3);
  /**
   * Live processes per container slot: counted when their pid is handed out, no longer when they
   * exit (their free is sent), so a slot never reads more than its space holds.
   */
  final AtomicIntegerArray live;
  /** Per slot, the most live pids since {@link #takePeak} last ran: the top of the occupancy envelope. */
  private final AtomicIntegerArray peaks;
  private final AtomicReference<String> firstError = new AtomicReference<>();
  /** {@link System#nanoTime()} of the first exhausted fork; {@link Long#MIN_VALUE} until then. */
  private final AtomicLong firstExhaustionNanos = new AtomicLong(Long.MIN_VALUE);

  StormMetrics(int slots) {
    this.live = new AtomicIntegerArray(slots);
    this.peaks = new AtomicIntegerArray(slots);
  }

  /** A pid handed out to a process of the slot's container. */
  void allocated(int slot) {
    allocs.increment();
    int now = live.incrementAndGet(slot);
    peaks.accumulateAndGet(slot, now, Math::max);
  }

  /**
   * The most live pids of any slot since the last call; each slot starts again from its live count.
   * An alloc counted in {@link #live} may not have raised its peak yet: the caller passes the most
   * it saw itself, which the answer is never below.
   */
  int takePeak(int seen) {
    int peak = seen;
    for (int i = 0; i < peaks.length(); i++) {
      peak = Math.max(peak, peaks.getAndSet(i, live.get(i)));
    }
    return peak;
  }

  /** When the first fork was refused as exhausted, or empty. */
  OptionalLong firstExhaustionNanos() {
    long at = firstExhaustionNanos.get();
    return at == Long.MIN_VALUE ? OptionalLong.empty() : OptionalLong.of(at);
  }

  /** Counts an alloc that failed: exhaustion is the storm's business, anything else an error. */
  void allocFailed(Throwable failure) {
    PidspaceException refusal = refusal(failure);
    if (refusal != null && refusal.code() == PidspaceException.Code.SPACE_EXHAUSTED) {
      firstExhaustionNanos.compareAndSet(Long.MIN_VALUE, System.nanoTime());
      exhausted.increment();
    } else {
      error(failure);
    }
  }

  void error(Throwable failure) {
    errors.increment();
    PidspaceException refusal = refusal(failure);
    firstError.compareAndSet(null, String.valueOf(refusal != null ? refusal.refusal() : Failures.unwrap(failure)));
  }

  String firstError() {
    return firstError.get();
  }

  int[] liveSnapshot() {
    int[] now = new int[live.length()];
    for (int i = 0; i < now.length; i++) {
      now[i] = live.get(i);
    }
    return now;
  }

  private static PidspaceException refusal(Throwable failure) {
    return Failures.unwrap(failure) instanceof PidspaceException p ? p : null;
  }
}
