package io.pidspace.space;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.RecipientRef;
import akka.cluster.sharding.typed.ClusterShardingSettings;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
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

  /** Spaces as plain actors of a non-clustered system, each started on first use. */
  static SpaceRefs local(ActorSystem<?> system, PidspaceSettings settings) {
    ConcurrentHashMap<Integer, ActorRef<PidSpace.Command>> refs = new ConcurrentHashMap<>();
    return id -> refs.computeIfAbsent(
        id, k -> system.systemActorOf(PidSpace.create(settings, k, false), "pidspace-" + k, Props.empty()));
  }
}
