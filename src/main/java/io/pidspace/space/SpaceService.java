package io.pidspace.space;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Props;
import akka.cluster.sharding.ShardRegion;
import akka.cluster.sharding.typed.ClusterShardingQuery;
import akka.cluster.sharding.typed.ClusterShardingSettings;
import akka.cluster.sharding.typed.GetShardRegionState;
import akka.cluster.sharding.typed.HashCodeMessageExtractor;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.SingletonActor;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The spaces of one actor system, wired together: the registry (a Cluster Singleton, or a plain
 * actor without a cluster), the spaces (sharded entities, or plain actors), the {@link PidRouter}
 * in front of them, an embedded H2 journal's compaction, and in a cluster the in-flight tracking,
 * the freeze guard and crash downing.
 * The facade's one way into this package: everything else in it is package-private, apart from
 * the settings and the plugins Akka loads by name.
 */
public final class SpaceService {

  /** For {@link #create}: the lowest free space id. */
  public static final int ANY_ID = SpaceRegistry.ANY_ID;

  private final ActorSystem<?> system;
  private final PidspaceSettings settings;
  private final ActorRef<SpaceRegistry.Command> registry;
  private final InFlight inFlight;
  private final FreezeGuard freezeGuard;
  private final PidRouter router;

  /**
   * Starts the spaces of {@code system}; once per system (call it on every node of a cluster).
   * A durable one first creates the journal tables if they are missing, and throws if the
   * journal cannot be opened: call it at start, not from inside an actor.
   */
  public static SpaceService start(ActorSystem<?> system, PidspaceSettings settings, boolean clustered) {
    return new SpaceService(system, settings, clustered);
  }

  private SpaceService(ActorSystem<?> system, PidspaceSettings settings, boolean clustered) {
    this.system = system;
    this.settings = settings;
    if (settings.durable() && system.settings().config().getBoolean("pidspace.jdbc.create-schema")) {
      JournalSchema.ensure(system.settings().config());
    }
    if (settings.durable()) {
      H2Compaction.start(system, system.settings().config());
    }
    if (settings.durable() && clustered && system.settings().config().getString(JournalIdentity.PATH).isEmpty()) {
      system.log().warn("{} is not set: the cluster cannot refuse a node whose journal is not this one's. Create the "
          + "actor system with PidAuthority.withJournalIdentity(config)", JournalIdentity.PATH);
    }
    SpaceRefs spaces = clustered ? SpaceRefs.sharded(system, settings) : SpaceRefs.local(system, settings);
    Behavior<SpaceRegistry.Command> registryBehavior =
        SpaceRegistry.create(settings, spaces, settings.durable() ? () -> journaledSpaces(system) : null);
    this.registry = clustered
        ? ClusterSingleton.get(system).init(SingletonActor.of(registryBehavior, "pidspace-registry"))
        : system.systemActorOf(registryBehavior, "pidspace-registry", Props.empty());
    // an ask to the registry or a space on a node that crashed fails when that node is removed
    this.inFlight = clustered ? InFlight.clustered(system) : InFlight.none();
    this.freezeGuard = clustered ? FreezeGuard.of(system, system.settings().config()) : FreezeGuard.NONE;
    if (clustered) {
      CrashDowning.start(system);
    }
    this.router = new PidRouter(system, settings, spaces, inFlight, freezeGuard);
  }

  /** The ids of the spaces that have events in the journal, read on a blocking dispatcher. */
  private static CompletionStage<List<Integer>> journaledSpaces(ActorSystem<?> system) {
    String prefix = PidSpace.TYPE_KEY.name() + "|";
    return CompletableFuture.supplyAsync(
        () -> JournalSchema.persistenceIds(system.settings().config(), prefix).stream()
            .map(id -> Integer.parseInt(id.substring(prefix.length())))
            .toList(),
        system.dispatchers().lookup(DispatcherSelector.blocking()));
  }

  /** Every per-space and per-pid request goes through here. */
  public PidRouter router() {
    return router;
  }

  /**
   * @param id the space id, or {@link #ANY_ID} for the lowest free one
   * @param pidMax the space's pid_max, or 0 for {@code pidspace.pid-max}
   */
  public CompletionStage<SpaceStats> create(int id, int pidMax) {
    return this.<Result.Stats>ask(replyTo -> new SpaceRegistry.Create(id, pidMax, replyTo)).thenApply(Result.Stats::stats);
  }

  public CompletionStage<Done> destroy(int id) {
    return this.<Result.Done>ask(replyTo -> new SpaceRegistry.Destroy(id, replyTo)).thenApply(done -> Done.getInstance());
  }

  /** The caller has checked {@code image} ({@code PidMap.fromImage}); the space checks it again. */
  public CompletionStage<SpaceStats> importSpace(int id, SpaceImage image) {
    return this.<Result.Stats>ask(replyTo -> new SpaceRegistry.Import(id, image, replyTo)).thenApply(Result.Stats::stats);
  }

  /** The ids of every existing space, ascending, as the registry knows them. */
  public CompletionStage<int[]> spaceIds() {
    return inFlight.track(Asks.<SpaceRegistry.Command, SpaceRegistry.SpaceIds>ask(
            registry, SpaceRegistry.ListSpaces::new, settings.askTimeout(), system.scheduler()))
        .thenApply(SpaceRegistry.SpaceIds::ids)
        .exceptionallyCompose(e -> CompletableFuture.failedStage(PidspaceException.from(e)));
  }

  /** This node's shards of spaces and the space ids in each, from sharding's own query. */
  public static CompletableFuture<ShardRegion.CurrentShardRegionState> hostedShards(
      ActorSystem<?> system, Duration timeout) {
    return Asks.<ClusterShardingQuery, ShardRegion.CurrentShardRegionState>ask(
        ClusterSharding.get(system).shardState(), replyTo -> new GetShardRegionState(PidSpace.TYPE_KEY, replyTo),
        timeout, system.scheduler());
  }

  /**
   * The shard that holds {@code space} in a cluster: sharding's default placement, as
   * {@link SpaceRefs#sharded} starts it.
   */
  public static String shardOf(ActorSystem<?> system, int space) {
    return new HashCodeMessageExtractor<PidSpace.Command>(ClusterShardingSettings.create(system).numberOfShards())
        .shardId(Integer.toString(space));
  }

  private <R extends Result> CompletableFuture<R> ask(Function<ActorRef<Result>, SpaceRegistry.Command> message) {
    PidspaceException frozen = freezeGuard.refusal();
    return frozen != null
        ? CompletableFuture.failedFuture(frozen)
        : inFlight.track(Asks.askResult(registry, message, settings.askTimeout(), system.scheduler()));
  }
}
