package io.pidspace.space;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.RecipientRef;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.sharding.typed.ClusterShardingSettings;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.pattern.Patterns;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/** Where the actor of each space lives: a sharded entity in a cluster, a plain actor otherwise. */
@FunctionalInterface
interface SpaceRefs {

  RecipientRef<PidSpace.Command> space(int id);

  /**
   * Starts sharding of {@link PidSpace} on this node (call it on every node). Durable spaces
   * leave memory when idle; volatile ones never do, since their state lives only there.
   */
  static SpaceRefs sharded(ActorSystem<?> system, PidspaceSettings settings) {
    ClusterSharding sharding = ClusterSharding.get(system);
    ClusterShardingSettings shardingSettings = ClusterShardingSettings.create(system);
    sharding.init(
        Entity.of(PidSpace.TYPE_KEY, ctx -> PidSpace.create(settings, Integer.parseInt(ctx.getEntityId()), true))
            .withStopMessage(PidSpace.Passivate.INSTANCE) // on passivation, handoff and leave: store, then stop
            .withSettings(settings.durable()
                ? shardingSettings.withPassivationStrategy(
                    shardingSettings.passivationStrategySettings().withIdleEntityPassivation(settings.passivateAfter()))
                : shardingSettings.withNoPassivationStrategy()));
    AtomicReferenceArray<RecipientRef<PidSpace.Command>> refs =
        new AtomicReferenceArray<>(settings.layout().maxSpaces());
    return id -> {
      RecipientRef<PidSpace.Command> ref = refs.get(id);
      if (ref == null) { // a benign race: two equal refs
        ref = sharding.entityRefFor(PidSpace.TYPE_KEY, Integer.toString(id));
        refs.set(id, ref);
      }
      return ref;
    };
  }

  /**
   * Spaces as plain actors of a non-clustered system, each started on first use. Durable ones are
   * stopped with {@link PidSpace.Passivate} at the system's shutdown, as sharding stops its
   * entities, so that they store their state first and the next start leaks nothing.
   */
  static SpaceRefs local(ActorSystem<?> system, PidspaceSettings settings) {
    ConcurrentHashMap<Integer, ActorRef<PidSpace.Command>> refs = new ConcurrentHashMap<>();
    if (settings.durable()) {
      CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
      String phase = CoordinatedShutdown.PhaseBeforeActorSystemTerminate();
      Duration timeout = Duration.ofMillis(shutdown.timeout(phase).toMillis());
      shutdown.addTask(phase, "pidspace-stop-spaces", () -> stopAll(system, refs, timeout));
    }
    return id -> refs.computeIfAbsent(
        id, k -> system.systemActorOf(PidSpace.create(settings, k, false), "pidspace-" + k, Props.empty()));
  }

  /**
   * Sends every space {@link PidSpace.Passivate} and completes once all have stopped, or after
   * {@code timeout} (the phase's, akka.coordinated-shutdown.phases.before-actor-system-terminate.timeout).
   * A space that has not stopped by then is stopped with the system, as in a crash: its next
   * recovery counts its reservation leaked.
   */
  private static CompletionStage<Done> stopAll(ActorSystem<?> system, Map<Integer, ActorRef<PidSpace.Command>> refs,
      Duration timeout) {
    List<CompletableFuture<Boolean>> stops = new ArrayList<>();
    refs.forEach((id, ref) -> stops.add(
        // the classic gracefulStop: sends the message and completes when the actor has terminated
        Patterns.gracefulStop(Adapter.toClassic(ref), timeout, PidSpace.Passivate.INSTANCE).toCompletableFuture()
            .exceptionally(timedOut -> {
              system.log().warn("space {} did not store its state within {} of the shutdown; its next start counts its "
                  + "reservation leaked", id, timeout);
              return false;
            })));
    return CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).thenApply(all -> Done.getInstance());
  }
}
