package io.pidspace.api;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.Join;
import akka.cluster.typed.SingletonActor;
import akka.pattern.StatusReply;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;
import io.pidspace.space.Asks;
import io.pidspace.space.PidRouter;
import io.pidspace.space.PidSpace;
import io.pidspace.space.GroupCommit;
import io.pidspace.space.JournalSchema;
import io.pidspace.space.PidspaceSettings;
import io.pidspace.space.SpaceRefs;
import io.pidspace.space.SpaceRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The pid authority of one actor system: create and destroy spaces, allocate and free pids.
 * Every method answers with a {@link CompletionStage}; a refusal completes it exceptionally with a
 * {@link PidspaceException} whose {@link PidspaceException#code() code} says why. A stage
 * completes in the thread of the actor that answers, where its dependent stages then run: keep
 * them short and never block in them (use an {@code ...Async} stage with an executor of your own
 * for slow work).
 *
 * <p>{@link #get(ActorSystem)} attaches to the caller's own system (call it on every node of a
 * cluster). With {@code akka.actor.provider = cluster} spaces are Cluster Sharding entities and
 * the registry a Cluster Singleton; with a local provider they are plain actors of that system.
 * {@link #start(Config)} runs a system of its own: a single-node cluster on 127.0.0.1.
 *
 * <p>With {@code pidspace.persistence = jdbc} the first {@link #get} creates the journal tables
 * if they are missing and throws if the journal cannot be opened: call it at start, not from
 * inside an actor.
 */
public final class PidAuthority implements Extension, AutoCloseable {

  /** For {@link #createSpace(int, int)}: the lowest free space id. */
  public static final int ANY_ID = SpaceRegistry.ANY_ID;

  private static final ExtensionId<PidAuthority> ID = new ExtensionId<>() {
    @Override
    public PidAuthority createExtension(ActorSystem<?> system) {
      return new PidAuthority(system);
    }
  };

  private final ActorSystem<?> system;
  private final PidspaceSettings settings;
  private final ActorRef<SpaceRegistry.Command> registry;
  private final ActorRef<PidRouter.Command> router;
  private final Duration timeout;
  private final ConcurrentHashMap<Integer, ActorRef<GroupCommit.Command>> groupCommits = new ConcurrentHashMap<>();
  private volatile boolean ownsSystem;

  /** The authority of {@code system}, started on first use. */
  public static PidAuthority get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /**
   * Starts an actor system of its own that forms a one-node cluster on 127.0.0.1 (a free port
   * unless {@code akka.remote.artery.canonical.port} says otherwise). {@link #close()} stops it.
   *
   * @param config overrides, e.g. {@code pidspace.pid-max}; then come system properties,
   *     {@code application.conf} (or {@code -Dconfig.file}) and the library defaults
   */
  public static PidAuthority start(Config config) {
    Config full = ConfigFactory.load(config
        .withFallback(ConfigFactory.defaultApplication()) // application.conf, or -Dconfig.file
        .withFallback(ConfigFactory.parseResources("pidspace-standalone.conf")));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "pidspace", full);
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    try {
      PidAuthority authority = get(system);
      authority.ownsSystem = true;
      return authority;
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  private PidAuthority(ActorSystem<?> system) {
    this.system = system;
    this.settings = PidspaceSettings.from(system.settings().config());
    this.timeout = settings.askTimeout();
    if (settings.durable() && system.settings().config().getBoolean("pidspace.jdbc.create-schema")) {
      JournalSchema.ensure(system.settings().config());
    }
    String provider = system.settings().config().getString("akka.actor.provider");
    boolean clustered = provider.equals("cluster") || provider.equals("akka.cluster.ClusterActorRefProvider");
    if (clustered) {
      SpaceRefs spaces = SpaceRefs.sharded(system, settings);
      this.registry = ClusterSingleton.get(system)
          .init(SingletonActor.of(SpaceRegistry.create(settings, spaces), "pidspace-registry"));
      this.router = system.systemActorOf(PidRouter.create(settings, spaces), "pidspace-router", Props.empty());
    } else {
      SpaceRefs spaces = SpaceRefs.local(system, settings);
      this.registry = system.systemActorOf(SpaceRegistry.create(settings, spaces), "pidspace-registry", Props.empty());
      this.router = system.systemActorOf(PidRouter.create(settings, spaces), "pidspace-router", Props.empty());
    }
  }

  public PidLayout layout() {
    return settings.layout();
  }

  public PidspaceSettings settings() {
    return settings;
  }

  public ActorSystem<?> system() {
    return system;
  }

  /** Creates a space with the lowest free id and the default pid_max. */
  public CompletionStage<SpaceStats> createSpace() {
    return createSpace(ANY_ID, 0);
  }

  public CompletionStage<SpaceStats> createSpace(int id) {
    return createSpace(id, 0);
  }

  /**
   * @param id the space id, or {@link #ANY_ID} for the lowest free one
   * @param pidMax the space's pid_max, or 0 for {@code pidspace.pid-max}
   */
  public CompletionStage<SpaceStats> createSpace(int id, int pidMax) {
    return ask(registry, replyTo -> new SpaceRegistry.Create(id, pidMax, replyTo));
  }

  /** Frees every pid of the space; its id can then be created again. */
  public CompletionStage<Done> destroySpace(int id) {
    return ask(registry, replyTo -> new SpaceRegistry.Destroy(id, replyTo));
  }

  /**
   * One global pid from {@code space}, or {@code space-exhausted}. With a journal, single allocs
   * that arrive together share one write (group commit).
   */
  public CompletionStage<Integer> alloc(int space) {
    if (settings.groupCommit() && layout().isValidSpace(space)) {
      return ask(groupCommit(space), GroupCommit.Alloc::new);
    }
    return alloc(space, 1).thenApply(pids -> pids[0]);
  }

  /** Up to {@code count} global pids in next-fit order; fewer only when the space runs out. */
  public CompletionStage<int[]> alloc(int space, int count) {
    return this.<PidSpace.Allocated, PidRouter.Command>ask(router, replyTo -> new PidRouter.Alloc(space, count, replyTo))
        .thenApply(PidSpace.Allocated::pids);
  }

  /** Frees one global pid. With a journal, single frees that arrive together share one write. */
  public CompletionStage<Done> free(int pid) {
    if (settings.groupCommit() && pid >= 0 && layout().isValidSpace(layout().spaceOf(pid))) {
      return ask(groupCommit(layout().spaceOf(pid)), replyTo -> new GroupCommit.Free(pid, replyTo));
    }
    return ask(router, replyTo -> new PidRouter.Free(pid, replyTo));
  }

  /** Frees a batch; each pid that cannot be freed is listed with its reason, and the rest are freed. */
  public CompletionStage<FreeResult> free(int[] pids) {
    int[] batch = pids.clone();
    return translate(Asks.<PidRouter.Command, FreeResult>ask(router, replyTo -> new PidRouter.FreeBatch(batch, replyTo),
        timeout, system.scheduler()));
  }

  public CompletionStage<PidInfo> lookup(int pid) {
    return ask(router, replyTo -> new PidRouter.Lookup(pid, replyTo));
  }

  public CompletionStage<SpaceStats> stats(int space) {
    return ask(router, replyTo -> new PidRouter.GetStats(space, replyTo));
  }

  /** Every existing space with its stats, by id. */
  public CompletionStage<List<SpaceStats>> spaces() {
    return translate(Asks.<SpaceRegistry.Command, SpaceRegistry.SpaceIds>ask(
            registry, SpaceRegistry.ListSpaces::new, timeout, system.scheduler()))
        .thenCompose(ids -> {
          List<CompletableFuture<SpaceStats>> all = new ArrayList<>();
          for (int id : ids.ids()) {
            // a space destroyed since the listing is left out
            all.add(stats(id).toCompletableFuture().exceptionally(e -> null));
          }
          return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
              .thenApply(done -> all.stream().map(CompletableFuture::join).filter(s -> s != null).toList());
        });
  }

  /** Stops the actor system if {@link #start} started it; does nothing for a caller's own system. */
  @Override
  public void close() {
    if (ownsSystem) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  /** This node's group commit of one space, started on first use. */
  private ActorRef<GroupCommit.Command> groupCommit(int space) {
    return groupCommits.computeIfAbsent(space, id -> system.systemActorOf(
        GroupCommit.create(settings, id, router), "pidspace-group-commit-" + id, Props.empty()));
  }

  private <T, C> CompletionStage<T> ask(
      ActorRef<C> target, Function<ActorRef<StatusReply<T>>, C> message) {
    return translate(Asks.askWithStatus(target, message, timeout, system.scheduler()));
  }

  private static <T> CompletionStage<T> translate(CompletionStage<T> stage) {
    return stage.exceptionallyCompose(e -> CompletableFuture.failedStage(refusal(e)));
  }

  private static Throwable refusal(Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof StatusReply.ErrorMessage) {
      return PidspaceException.fromWire(cause.getMessage());
    }
    if (cause instanceof TimeoutException) {
      return new PidspaceException(PidspaceException.Code.UNAVAILABLE, "no answer in time: " + cause.getMessage());
    }
    return cause;
  }
}
