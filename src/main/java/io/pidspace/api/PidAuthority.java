package io.pidspace.api;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import io.pidspace.core.Handles;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.Reconciled;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import io.pidspace.space.JournalIdentity;
import io.pidspace.space.PidRouter;
import io.pidspace.space.PidspaceSettings;
import io.pidspace.space.SpaceService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

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
  public static final int ANY_ID = SpaceService.ANY_ID;

  private static final ExtensionId<PidAuthority> ID = new ExtensionId<>() {
    @Override
    public PidAuthority createExtension(ActorSystem<?> system) {
      return new PidAuthority(system);
    }
  };

  private final ActorSystem<?> system;
  private final PidspaceSettings settings;
  private final SpaceService spaces;
  private final PidRouter router;
  private volatile boolean ownsSystem;

  /** The authority of {@code system}, started on first use. */
  public static PidAuthority get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /**
   * Starts an actor system of its own that forms a one-node cluster on 127.0.0.1 (a free port
   * unless {@code akka.remote.artery.canonical.port} says otherwise), or with
   * {@code akka.actor.provider = local} in {@code config} a plain local one. {@link #close()} stops it.
   *
   * @param config overrides, e.g. {@code pidspace.pid-max}; then come system properties,
   *     {@code application.conf} (or {@code -Dconfig.file}) and the library defaults. A config
   *     that is already loaded ({@code ConfigFactory.load()}) works too: its library defaults
   *     yield to the standalone settings.
   */
  public static PidAuthority start(Config config) {
    Config standalone = ConfigFactory.parseResources("pidspace-standalone.conf");
    Config callers = config.withFallback(ConfigFactory.defaultApplication());
    for (var entry : standalone.entrySet()) { // a loaded config carries reference.conf: drop its defaults
      String path = entry.getKey();
      if (callers.hasPath(path) && "reference.conf".equals(callers.getValue(path).origin().resource())) {
        callers = callers.withoutPath(path);
      }
    }
    // Unresolved, so that pidspace.data-dir set by the caller reaches pidspace.jdbc.url.
    Config full = ConfigFactory.systemProperties()
        .withFallback(callers)
        .withFallback(standalone)
        .withFallback(ConfigFactory.defaultReferenceUnresolved())
        .resolve();
    if (clustered(full)) {
      full = withJournalIdentity(full); // seed nodes in config join at once: the join check needs it now
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "pidspace", full);
    if (clustered(full)) {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    try {
      PidAuthority authority = get(system);
      authority.ownsSystem = true;
      return authority;
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  /**
   * {@code config} (resolved) with {@code pidspace.journal-identity} set to the identity of its
   * journal, which the first call on a new journal makes and stores (with the journal's tables);
   * a volatile config unchanged. Create a durable cluster's actor system with it on every node, so
   * that the cluster refuses a node whose journal is not the cluster's (its own H2 file, another
   * database). Blocks on the journal: call it before {@code ActorSystem.create}. {@link #start}
   * does it by itself.
   *
   * @throws PidspaceException {@code unavailable}, naming the journal, when it cannot be read
   */
  public static Config withJournalIdentity(Config config) {
    return JournalIdentity.configure(config);
  }

  private PidAuthority(ActorSystem<?> system) {
    this.system = system;
    this.settings = PidspaceSettings.from(system.settings().config());
    this.spaces = SpaceService.start(system, settings, clustered(system.settings().config()));
    this.router = spaces.router();
  }

  private static boolean clustered(Config config) {
    String provider = config.getString("akka.actor.provider");
    return provider.equals("cluster") || provider.equals("akka.cluster.ClusterActorRefProvider");
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
    return spaces.create(id, pidMax);
  }

  /** Frees every pid of the space; its id can then be created again. */
  public CompletionStage<Done> destroySpace(int id) {
    return spaces.destroy(id);
  }

  /** One global pid from {@code space}, or {@code space-exhausted}. */
  public CompletionStage<Integer> alloc(int space) {
    return router.alloc(space, 1).thenApply(pids -> pids[0]);
  }

  /** Up to {@code count} global pids in next-fit order; fewer only when the space runs out. */
  public CompletionStage<int[]> alloc(int space, int count) {
    return router.alloc(space, count);
  }

  /**
   * As {@link #alloc(int, int)}, with an idempotency key ({@code key}: 1..64 characters of
   * {@code [A-Za-z0-9._:-]}, a UUID fits; null for none). A retry with the same key and count
   * within {@code pidspace.idempotency.window} answers the same pids and stores nothing, also
   * after a crash or a failover: retry an alloc whose outcome is unknown with its key. The same
   * key with another count is refused ({@code idempotency-key-reused}). The answer is the same
   * whatever became of those pids since: never reuse a key for a new request.
   */
  public CompletionStage<int[]> alloc(int space, int count, String key) {
    return router.alloc(space, count, key);
  }

  /**
   * As {@link #alloc(int, int)}, with each pid's generation: how many times its vpid was
   * allocated. A free that names it ({@link #free(int, int)}) frees the pid only while this
   * allocation holds it, so a free retried after an unknown outcome cannot free a pid handed out
   * again in between ({@code stale-handle}).
   */
  public CompletionStage<Handles> allocHandles(int space, int count) {
    return router.allocHandles(space, count);
  }

  /** As {@link #allocHandles(int, int)}, with an idempotency key as {@link #alloc(int, int, String)} takes it. */
  public CompletionStage<Handles> allocHandles(int space, int count, String key) {
    return router.allocHandles(space, count, key);
  }

  /**
   * Exactly these vpids of {@code space} ({@code clone3(set_tid)}), all or nothing, as global
   * pids in the order asked; {@code last_pid} does not move. Refused with {@code pid-in-use}
   * (naming the taken vpids), {@code pid-held}, {@code out-of-range} (below 1 or at or above
   * pid_max) or {@code bad-request} (a vpid named twice).
   *
   * @param hold the hold whose vpids this claims, or 0
   */
  public CompletionStage<int[]> allocAt(int space, int[] vpids, int hold) {
    return router.allocAt(space, vpids, hold);
  }

  /** As {@link #allocAt}, with each pid's generation (see {@link #allocHandles}). */
  public CompletionStage<Handles> allocAtHandles(int space, int[] vpids, int hold) {
    return router.allocAtHandles(space, vpids, hold);
  }

  /**
   * Holds {@code vpids} of {@code space} for a restore in flight: next-fit skips them and
   * {@link #allocAt} hands them out only with the hold's id. Expires after {@code ttl} (durably:
   * also after a crash or a failover). Answers the hold's id.
   */
  public CompletionStage<Integer> hold(int space, int[] vpids, Duration ttl) {
    return router.hold(space, vpids, ttl);
  }

  /** Releases a hold before its time; {@code unknown-hold} when it was released, claimed or expired. */
  public CompletionStage<Done> release(int space, int hold) {
    return router.release(space, hold);
  }

  /** Raises pid_max, or lowers it down to one above the highest allocated or held vpid. */
  public CompletionStage<SpaceStats> setPidMax(int space, int pidMax) {
    return router.setPidMax(space, pidMax);
  }

  /**
   * The space's reuse delay (issue 11; default off, the seed's rule): a vpid freed from now on is
   * skipped by next-fit for {@code delay} (alloc-at may still take it). {@link Duration#ZERO} turns it off.
   */
  public CompletionStage<SpaceStats> setReuseDelay(int space, Duration delay) {
    return router.setReuseDelay(space, delay);
  }

  /**
   * Reconciliation (issue 12): which vpids of {@code space} are allocated but not in
   * {@code alive} (leaked), and which are alive but not allocated (unknown: reported, never
   * "fixed"). With {@code apply}, frees the leaked vpids that were also leaked in the last
   * {@code pidspace.reconcile.reports} reports, stored before the answer.
   */
  public CompletionStage<Reconciled> reconcile(int space, int[] alive, boolean apply) {
    return router.reconcile(space, alive, apply);
  }

  /** The whole space as one portable document: pid_max, last_pid, live vpids, holds, reuse delay and cooling vpids. */
  public CompletionStage<SpaceImage> exportSpace(int space) {
    return router.export(space);
  }

  /**
   * Creates space {@code id} ({@link #ANY_ID}: the lowest free one) exactly as {@code image}
   * says, in one durable event: after a crash it is either absent or whole. The image is
   * checked here (the space checks it again), never trusted: a wrong shift or format, a vpid out
   * of range and anything inconsistent is {@code bad-request}, and nothing is stored.
   */
  public CompletionStage<SpaceStats> importSpace(int id, SpaceImage image) {
    try {
      if (id != ANY_ID) {
        settings.layout().checkSpace(id);
      }
      PidMap.fromImage(settings.layout(), id == ANY_ID || id == 0 ? 1 : id, image);
    } catch (PidspaceException refusal) {
      return CompletableFuture.failedFuture(refusal);
    }
    return spaces.importSpace(id, image);
  }

  public CompletionStage<Done> free(int pid) {
    return router.free(pid);
  }

  /**
   * Frees {@code pid} if {@code generation} is its holder's (0: any); else {@code stale-handle}
   * and nothing changes: the pid was freed and allocated again since that generation was answered.
   */
  public CompletionStage<Done> free(int pid, int generation) {
    return router.free(pid, generation);
  }

  /** Frees a batch; each pid that cannot be freed is listed with its reason, and the rest are freed. */
  public CompletionStage<FreeResult> free(int[] pids) {
    return router.free(pids.clone());
  }

  /** As {@link #free(int[])}, each pid with its generation ({@code generations[i]}, 0: any), refused {@code stale-handle} when stale. */
  public CompletionStage<FreeResult> free(int[] pids, int[] generations) {
    return router.free(pids.clone(), generations == null ? null : generations.clone());
  }

  public CompletionStage<PidInfo> lookup(int pid) {
    return router.lookup(pid);
  }

  public CompletionStage<SpaceStats> stats(int space) {
    return router.stats(space);
  }

  /**
   * Every space the registry knows, by id, each with its stats or, when it does not answer
   * within {@code pidspace.list-timeout}, the refusal that says why: one bad space delays the
   * listing by at most that long and hides no other.
   */
  public CompletionStage<List<SpaceListing>> spaces() {
    long wait = settings.listTimeout().toMillis();
    return spaceIds().thenCompose(ids -> {
      List<CompletableFuture<SpaceListing>> all = new ArrayList<>();
      for (int id : ids) {
        all.add(router.stats(id)
            .orTimeout(wait, TimeUnit.MILLISECONDS)
            .handle((stats, failure) -> failure == null
                ? new SpaceListing(id, stats, null)
                : new SpaceListing(id, null, PidspaceException.from(failure))));
      }
      return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
          .thenApply(done -> all.stream().map(CompletableFuture::join).toList());
    });
  }

  /** The ids of every existing space, ascending, as the registry knows them. */
  public CompletionStage<int[]> spaceIds() {
    return spaces.spaceIds();
  }

  /**
   * Stops the actor system if {@link #start} started it, and waits until it has stopped (the
   * synchronous contract of {@link AutoCloseable}: call it from the application's own thread, never
   * from an actor of that system); does nothing for a caller's own system.
   */
  @Override
  public void close() {
    if (ownsSystem) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }
}
