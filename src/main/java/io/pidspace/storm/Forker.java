package io.pidspace.storm;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import java.time.Duration;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * Forks processes into one container's space and lets them exit: each fork allocates a pid
 * through the target, each exit frees it. Open loop: forks arrive as a Poisson stream at its
 * share of the container's rate, plus its share of each burst. Closed loop: the next fork leaves
 * as soon as the previous one is answered. Nothing blocks: answers come back as messages.
 */
final class Forker extends AbstractBehavior<Forker.Command> {

  interface Command {}

  /** Stop forking, wait for the answers in flight, then stop; live processes die with the container. */
  enum Stop implements Command { INSTANCE }

  private enum Tick implements Command { INSTANCE }

  private record Forked(long sentNanos, Integer pid, Throwable failure) implements Command {}

  private record Exited(Throwable failure) implements Command {}

  private record Process(long exitNanos, int pid) {}

  /** Exits and open-loop arrivals are handled in steps of this (Akka's scheduler tick). */
  private static final Duration TICK = Duration.ofMillis(10);
  /** Past this many unanswered requests, an open loop sheds further forks rather than queue without bound. */
  private static final int MAX_IN_FLIGHT = 1_000;

  private final int slot;
  private final int space;
  private final int burstShare;
  private final double forksPerSecond;
  private final boolean closedLoop;
  private final Workload workload;
  private final StormTarget target;
  private final StormMetrics metrics;
  private final SplittableRandom rng;
  private final TimerScheduler<Command> timers;
  private final PriorityQueue<Process> processes = new PriorityQueue<>(Comparator.comparingLong(Process::exitNanos));
  private long nextArrival;
  private long nextBurst;
  private int inFlight;
  private boolean stopping;

  static Behavior<Command> create(int slot, int forker, int space, Workload workload, StormTarget target,
      StormMetrics metrics, SplittableRandom rng) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new Forker(ctx, timers, slot, forker, space, workload, target, metrics, rng)));
  }

  private Forker(ActorContext<Command> context, TimerScheduler<Command> timers, int slot, int forker, int space,
      Workload workload, StormTarget target, StormMetrics metrics, SplittableRandom rng) {
    super(context);
    StormOptions options = workload.options();
    this.slot = slot;
    this.space = space;
    this.burstShare = workload.burstShare(forker);
    this.forksPerSecond = options.rate() / options.forkers();
    this.closedLoop = options.loop() == StormOptions.Loop.CLOSED;
    this.workload = workload;
    this.target = target;
    this.metrics = metrics;
    this.rng = rng;
    this.timers = timers;
    long now = System.nanoTime();
    timers.startTimerWithFixedDelay(Tick.INSTANCE, TICK);
    if (closedLoop) {
      fork(now);
    } else {
      nextArrival = now + Workload.interArrivalNanos(rng, forksPerSecond);
      nextBurst = now + workload.burstEveryNanos();
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Tick.class, t -> onTick())
        .onMessage(Forked.class, this::onForked)
        .onMessage(Exited.class, this::onExited)
        .onMessage(Stop.class, s -> onStop())
        .build();
  }

  private Behavior<Command> onTick() {
    long now = System.nanoTime();
    exitDue(now);
    if (!closedLoop) {
      for (; nextArrival <= now; nextArrival += Workload.interArrivalNanos(rng, forksPerSecond)) {
        fork(now);
      }
      if (burstShare > 0 && nextBurst <= now) {
        for (int i = 0; i < burstShare; i++) {
          fork(now);
        }
        nextBurst += workload.burstEveryNanos();
      }
    }
    return this;
  }

  private void fork(long now) {
    metrics.forks.increment();
    if (!closedLoop && inFlight >= MAX_IN_FLIGHT) { // a closed loop has one fork in flight at most
      metrics.shed.increment();
      return;
    }
    inFlight++;
    getContext().pipeToSelf(target.alloc(space), (pid, failure) -> new Forked(now, pid, failure));
  }

  private Behavior<Command> onForked(Forked answer) {
    inFlight--;
    long now = System.nanoTime();
    metrics.forkLatency.recordValue(now - answer.sentNanos);
    if (answer.failure != null) {
      metrics.allocFailed(answer.failure);
    } else {
      metrics.allocated(slot);
      processes.add(new Process(now + workload.lifetimeNanos(rng), answer.pid));
      exitDue(now);
    }
    if (stopping) {
      return inFlight == 0 ? finish() : this;
    }
    if (closedLoop) {
      fork(now);
    }
    return this;
  }

  private void exitDue(long now) {
    while (!stopping && !processes.isEmpty() && processes.peek().exitNanos <= now) {
      int pid = processes.poll().pid;
      // the process is gone now; counted when its free is answered, a full space read above
      // pid_max whenever another forker got the freed pid first
      metrics.live.decrementAndGet(slot);
      inFlight++;
      getContext().pipeToSelf(target.free(pid), (done, failure) -> new Exited(failure));
    }
  }

  private Behavior<Command> onExited(Exited answer) {
    inFlight--;
    if (answer.failure != null) {
      metrics.error(answer.failure);
    } else {
      metrics.frees.increment();
    }
    return stopping && inFlight == 0 ? finish() : this;
  }

  private Behavior<Command> onStop() {
    stopping = true;
    timers.cancelAll();
    return inFlight == 0 ? finish() : this;
  }

  /** The processes still alive die with their container: its space's destroy frees their pids. */
  private Behavior<Command> finish() {
    metrics.diedWithContainer.add(processes.size());
    metrics.live.addAndGet(slot, -processes.size());
    return Behaviors.stopped();
  }
}
