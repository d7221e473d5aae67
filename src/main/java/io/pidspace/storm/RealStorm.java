package io.pidspace.storm;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.ChildFailed;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.HdrHistogram.Histogram;

/**
 * A real-clock storm against one target: keeps {@code containers} container actors alive,
 * starting a new one in a slot whenever one ends, samples the counters every second, and at the
 * end of the duration ends every container and waits until each has destroyed its space.
 */
final class RealStorm extends AbstractBehavior<RealStorm.Command> {

  interface Command {}

  private enum Sample implements Command { INSTANCE }

  private enum Finish implements Command { INSTANCE }

  /** A look at the live counts between samples, for the mean of the occupancy envelope. */
  private enum Look implements Command { INSTANCE }

  private static final Duration SAMPLE_EVERY = Duration.ofSeconds(1);
  private static final Duration LOOK_EVERY = Duration.ofMillis(100);

  /**
   * The storm's own actor system: local, logging through SLF4J, nothing on stdout. Its threads
   * share one FIFO queue: on a fork-join pool, forkers answered at once (the baseline, closed
   * loop) keep their thread's local queue full, and the timers that end containers and the storm
   * were starved for tens of seconds. Ctrl-C is the command's: it ends the storm and prints what
   * ran, so the JVM's shutdown must not stop this system under it.
   */
  private static final Config CONFIG = ConfigFactory.parseString("""
      akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off
      akka.loggers = ["akka.event.slf4j.Slf4jLogger"]
      akka.logging-filter = "akka.event.slf4j.Slf4jLoggingFilter"
      akka.stdout-loglevel = OFF
      akka.log-dead-letters-during-shutdown = off
      akka.actor.default-dispatcher {
        executor = thread-pool-executor
        thread-pool-executor.fixed-pool-size = %d
      }
      """.formatted(Runtime.getRuntime().availableProcessors()));

  private final Workload workload;
  private final StormTarget target;
  private final StormMetrics metrics;
  private final Progress progress;
  /** Looked at every {@link #LOOK_EVERY}: registering on it would keep this storm reachable from a long-lived stage. */
  private final CompletionStage<?> stop;
  private final CompletableFuture<StormReport.Run> result;
  private final TimerScheduler<Command> timers;
  private final SplittableRandom rng;
  private final Map<ActorRef<Container.Command>, Integer> slots = new HashMap<>();
  private final int[] generations;
  private final Histogram latency = new Histogram(3);
  private final StormReport.Series.Builder series = new StormReport.Series.Builder(true);
  private final long startNanos = System.nanoTime();
  private long sampledAt = startNanos;
  private long forksAtSample;
  private long allocsAtSample;
  private long freesAtSample;
  private long exhaustedAtSample;
  private long liveLooked; // live pids summed over the slots and the looks since the last sample
  private int looks;
  private int peakLooked; // the most live pids of a slot in those looks
  private double seconds;
  private long allocsAtFinish;
  private long freesAtFinish;
  private boolean running = true;

  /**
   * Runs a storm on {@code target} and answers its figures; blocks the caller, never an actor.
   * When {@code stop} completes first, the storm ends then, as at the end of its duration.
   */
  static StormReport.Run run(Workload workload, StormTarget target, Progress progress, CompletionStage<?> stop) {
    CompletableFuture<StormReport.Run> result = new CompletableFuture<>();
    ActorSystem<Command> system = ActorSystem.create(
        Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
            new RealStorm(ctx, timers, workload, target, progress, stop, result))),
        "storm", CONFIG.withFallback(ConfigFactory.load()));
    try {
      return result.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  private RealStorm(ActorContext<Command> context, TimerScheduler<Command> timers, Workload workload,
      StormTarget target, Progress progress, CompletionStage<?> stop, CompletableFuture<StormReport.Run> result) {
    super(context);
    this.stop = stop;
    int containers = workload.options().containers();
    this.workload = workload;
    this.target = target;
    this.metrics = new StormMetrics(containers);
    this.progress = progress;
    this.result = result;
    this.timers = timers;
    this.rng = new SplittableRandom(workload.options().seed());
    this.generations = new int[containers];
    for (int slot = 0; slot < containers; slot++) {
      startContainer(slot);
    }
    timers.startTimerAtFixedRate(Sample.INSTANCE, SAMPLE_EVERY);
    timers.startTimerAtFixedRate(Look.INSTANCE, LOOK_EVERY);
    timers.startSingleTimer(Finish.INSTANCE, Duration.ofNanos(workload.durationNanos()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Sample.class, s -> onSample())
        .onMessage(Look.class, l -> onLook())
        .onMessage(Finish.class, f -> onFinish())
        .onSignal(Terminated.class, this::onContainerEnded)
        .build();
  }

  private void startContainer(int slot) {
    int generation = generations[slot]++;
    Behavior<Container.Command> behavior =
        Container.create(slot, workload.containerLifetimeNanos(slot, generation), workload, target, metrics, rng.split());
    // a failed container ends the storm, whose caller reports why: no stack trace in the log too
    ActorRef<Container.Command> container = getContext().spawn(
        Behaviors.supervise(behavior).onFailure(SupervisorStrategy.stop().withLoggingEnabled(false)),
        "container-" + slot + "-" + generation);
    getContext().watch(container);
    slots.put(container, slot);
  }

  private Behavior<Command> onLook() {
    if (Storm.stopped(stop)) {
      return onFinish();
    }
    for (int live : metrics.liveSnapshot()) {
      liveLooked += live;
      peakLooked = Math.max(peakLooked, live);
    }
    looks++;
    return this;
  }

  private Behavior<Command> onSample() {
    long now = System.nanoTime();
    double dt = Workload.seconds(now - sampledAt);
    long forks = metrics.forks.sum();
    long allocs = metrics.allocs.sum();
    long frees = metrics.frees.sum();
    long exhausted = metrics.exhausted.sum();
    Histogram interval = metrics.forkLatency.getIntervalHistogram();
    latency.add(interval);
    int[] live = metrics.liveSnapshot();
    for (int l : live) {
      peakLooked = Math.max(peakLooked, l);
    }
    if (looks == 0) {
      onLook();
    }
    double pidMax = workload.options().pidMax();
    double allocRate = (allocs - allocsAtSample) / dt;
    series.add(new StormReport.Series.Sample(Workload.seconds(now - startNanos), (forks - forksAtSample) / dt,
        allocRate, (frees - freesAtSample) / dt, (exhausted - exhaustedAtSample) / dt,
        100 * metrics.takePeak(peakLooked) / pidMax,
        100 * liveLooked / ((double) looks * live.length) / pidMax,
        micros(interval.getValueAtPercentile(50)), micros(interval.getValueAtPercentile(99)), live));
    sampledAt = now;
    forksAtSample = forks;
    allocsAtSample = allocs;
    freesAtSample = frees;
    exhaustedAtSample = exhausted;
    liveLooked = 0;
    looks = 0;
    peakLooked = 0;
    progress.update((now - startNanos) / 1_000_000, String.format(Locale.ROOT, "%,.0f allocs/s", allocRate)
        + (exhausted > 0 ? String.format(Locale.ROOT, ", %,d exhausted", exhausted) : ""));
    return this;
  }

  /** Rates count what happened within the duration; the counts also take in the drain after it. */
  private Behavior<Command> onFinish() {
    if (!running) {
      return this; // stopped early, then the duration's timer, or the other way round
    }
    if (System.nanoTime() - sampledAt > SAMPLE_EVERY.toNanos() / 2) {
      onSample(); // the last part of the duration; a sliver would give a meaningless rate
    }
    running = false;
    timers.cancelAll();
    seconds = Workload.seconds(System.nanoTime() - startNanos);
    allocsAtFinish = metrics.allocs.sum();
    freesAtFinish = metrics.frees.sum();
    slots.keySet().forEach(c -> c.tell(Container.End.INSTANCE));
    return this;
  }

  private Behavior<Command> onContainerEnded(Terminated ended) {
    if (ended instanceof ChildFailed failed) {
      result.completeExceptionally(failed.cause());
      return Behaviors.stopped();
    }
    int slot = slots.remove(ended.getRef());
    if (running) {
      startContainer(slot);
      return this;
    }
    if (!slots.isEmpty()) {
      return this;
    }
    latency.add(metrics.forkLatency.getIntervalHistogram());
    result.complete(new StormReport.Run(target.name(), seconds, counts(), latency(), null,
        series.build(workload.options().containers())));
    return Behaviors.stopped();
  }

  private StormReport.Counts counts() {
    StormMetrics m = metrics;
    return new StormReport.Counts(m.forks.sum(), m.allocs.sum(), m.frees.sum(), m.exhausted.sum(), m.errors.sum(),
        m.shed.sum(), m.diedWithContainer.sum(), m.containersCreated.sum(), m.containersDestroyed.sum(),
        allocsAtFinish / seconds, freesAtFinish / seconds,
        m.firstExhaustionNanos().isPresent() ? Workload.seconds(m.firstExhaustionNanos().getAsLong() - startNanos) : null,
        m.firstError());
  }

  private StormReport.Latency latency() {
    Histogram h = latency;
    return new StormReport.Latency(micros(h.getValueAtPercentile(50)), micros(h.getValueAtPercentile(90)),
        micros(h.getValueAtPercentile(99)), micros(h.getValueAtPercentile(99.9)), micros(h.getMaxValue()),
        h.getMean() / 1_000);
  }

  private static double micros(long nanos) {
    return nanos / 1_000.0;
  }
}
