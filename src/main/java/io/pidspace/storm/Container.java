package io.pidspace.storm;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.ChildFailed;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One container's life: creates its space, runs its forkers for its lifetime, then stops them,
 * waits until they have no request in flight and destroys its space. Waiting first means no
 * late alloc can land in a space that a later container has been given under the same id.
 */
final class Container extends AbstractBehavior<Container.Command> {

  interface Command {}

  /** End now (the lifetime is over, or the storm is). */
  enum End implements Command { INSTANCE }

  private record SpaceCreated(Integer space, Throwable failure) implements Command {}

  private record SpaceDestroyed(Throwable failure) implements Command {}

  private final int slot;
  private final Workload workload;
  private final StormTarget target;
  private final StormMetrics metrics;
  private final SplittableRandom rng;
  private final List<ActorRef<Forker.Command>> forkers = new ArrayList<>();
  private int space = -1; // until created
  private boolean ending;

  static Behavior<Command> create(int slot, long lifetimeNanos, Workload workload, StormTarget target,
      StormMetrics metrics, SplittableRandom rng) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(End.INSTANCE, Duration.ofNanos(lifetimeNanos));
      return new Container(ctx, slot, workload, target, metrics, rng);
    }));
  }

  private Container(ActorContext<Command> context, int slot, Workload workload, StormTarget target,
      StormMetrics metrics, SplittableRandom rng) {
    super(context);
    this.slot = slot;
    this.workload = workload;
    this.target = target;
    this.metrics = metrics;
    this.rng = rng;
    context.pipeToSelf(target.createSpace(workload.options().pidMax()), SpaceCreated::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SpaceCreated.class, this::onSpaceCreated)
        .onMessage(End.class, e -> onEnd())
        .onMessage(SpaceDestroyed.class, this::onSpaceDestroyed)
        .onSignal(Terminated.class, this::onForkerStopped)
        .build();
  }

  private Behavior<Command> onSpaceCreated(SpaceCreated created) {
    if (created.failure != null) {
      // the storm cannot go on without this slot: fail, and let the storm report why
      throw new IllegalStateException("container slot " + slot + " could not create its space", created.failure);
    }
    space = created.space;
    metrics.containersCreated.increment();
    if (ending) {
      return destroySpace();
    }
    for (int i = 0; i < workload.options().forkers(); i++) {
      ActorRef<Forker.Command> forker = getContext().spawn(
          Forker.create(slot, i, space, workload, target, metrics, rng.split()), "forker-" + i);
      getContext().watch(forker);
      forkers.add(forker);
    }
    return this;
  }

  private Behavior<Command> onEnd() {
    if (ending) {
      return this;
    }
    ending = true;
    if (space < 0) {
      return this; // destroyed as soon as it is created
    }
    forkers.forEach(f -> f.tell(Forker.Stop.INSTANCE));
    return forkers.isEmpty() ? destroySpace() : this;
  }

  private Behavior<Command> onForkerStopped(Terminated stopped) {
    if (stopped instanceof ChildFailed failed) {
      throw new IllegalStateException("a forker of container slot " + slot + " failed", failed.cause());
    }
    forkers.remove(stopped.getRef());
    return ending && forkers.isEmpty() ? destroySpace() : this;
  }

  private Behavior<Command> destroySpace() {
    getContext().pipeToSelf(target.destroySpace(space), (done, failure) -> new SpaceDestroyed(failure));
    return this;
  }

  private Behavior<Command> onSpaceDestroyed(SpaceDestroyed destroyed) {
    if (destroyed.failure != null) {
      metrics.error(destroyed.failure);
    } else {
      metrics.containersDestroyed.increment();
    }
    return Behaviors.stopped();
  }
}
