package io.pidspace.storm;

import io.pidspace.core.PidspaceException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicIntegerArray;
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
  /** Live pids per container slot. */
  final AtomicIntegerArray live;
  private final AtomicReference<String> firstError = new AtomicReference<>();

  StormMetrics(int slots) {
    this.live = new AtomicIntegerArray(slots);
  }

  /** Counts an alloc that failed: exhaustion is the storm's business, anything else an error. */
  void allocFailed(Throwable failure) {
    PidspaceException refusal = refusal(failure);
    if (refusal != null && refusal.code() == PidspaceException.Code.SPACE_EXHAUSTED) {
      exhausted.increment();
    } else {
      error(failure);
    }
  }

  void error(Throwable failure) {
    errors.increment();
    PidspaceException refusal = refusal(failure);
    firstError.compareAndSet(null, refusal != null ? refusal.toWire() : String.valueOf(unwrap(failure)));
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
    return unwrap(failure) instanceof PidspaceException p ? p : null;
  }

  private static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
  }
}
