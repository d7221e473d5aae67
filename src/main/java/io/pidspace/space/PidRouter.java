package io.pidspace.space;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import io.pidspace.core.FreeResult;
import io.pidspace.core.Handles;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.Reconciled;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Decodes a global pid with the shift ({@code space = pid >> shift}) and hands the request to
 * this node's {@link Coalescer} of that space. A function on the caller's thread, not an actor:
 * decoding needs no hop. Every per-space request of a node passes through the one coalescer of
 * its space, so requests that one caller sends in order reach each space in that order.
 */
public final class PidRouter {

  private final ActorSystem<?> system;
  private final PidspaceSettings settings;
  private final PidLayout layout;
  private final SpaceRefs spaces;
  private final InFlight inFlight;
  private final FreezeGuard freezeGuard;
  private final long timeoutNanos;
  private final int reconcileReports;
  private final AtomicReferenceArray<ActorRef<Coalescer.Command>> coalescers;
  private final String namePrefix;
  private static final AtomicInteger routers = new AtomicInteger(); // tests run several per system

  PidRouter(ActorSystem<?> system, PidspaceSettings settings, SpaceRefs spaces) {
    this(system, settings, spaces, InFlight.none(), FreezeGuard.NONE);
  }

  /**
   * {@code inFlight}: fails runs to a space on a node that crashed once that node is removed;
   * {@code freezeGuard}: refuses requests while this node may be acting on stale state.
   */
  PidRouter(ActorSystem<?> system, PidspaceSettings settings, SpaceRefs spaces, InFlight inFlight,
      FreezeGuard freezeGuard) {
    this.system = system;
    this.inFlight = inFlight;
    this.freezeGuard = freezeGuard;
    this.settings = settings;
    this.layout = settings.layout();
    this.spaces = spaces;
    this.timeoutNanos = settings.askTimeout().toNanos();
    this.reconcileReports = system.settings().config().getInt("pidspace.reconcile.reports");
    if (reconcileReports < 1 || reconcileReports > PidMap.MAX_REPORTS) {
      throw new IllegalArgumentException("pidspace.reconcile.reports must be within 1.." + PidMap.MAX_REPORTS);
    }
    this.coalescers = new AtomicReferenceArray<>(layout.maxSpaces());
    this.namePrefix = "pidspace-" + routers.incrementAndGet() + "-coalescer-";
  }

  /** Up to {@code count} global pids in next-fit order; fewer only when the space runs out. */
  public CompletableFuture<int[]> alloc(int space, int count) {
    return alloc(space, count, null);
  }

  /**
   * As {@link #alloc(int, int)}; {@code key} (null: none) is an idempotency key: an alloc with a
   * key the space knows answers that alloc's pids again and stores nothing.
   */
  public CompletableFuture<int[]> alloc(int space, int count, String key) {
    return allocHandles(space, count, key).thenApply(Handles::pids);
  }

  /** As {@link #alloc}, with each pid's generation, which a free may name. */
  public CompletableFuture<Handles> allocHandles(int space, int count) {
    return allocHandles(space, count, null);
  }

  /** As {@link #alloc(int, int, String)}, with each pid's generation. */
  public CompletableFuture<Handles> allocHandles(int space, int count, String key) {
    PidspaceException refusal = checkSpace(space);
    if (refusal == null && (count < 1 || count > settings.maxBatch())) {
      refusal = PidspaceException.badRequest("count must be within 1.." + settings.maxBatch());
    }
    if (refusal == null && key != null && !Request.Alloc.isKey(key)) {
      refusal = badKey();
    }
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(space, new Request.Alloc(count, key)).thenApply(Result.Pids::handles);
  }

  /** A bad idempotency key, never quoted (PidspaceException's rule). */
  static PidspaceException badKey() {
    return PidspaceException.badRequest("an idempotency key is 1.." + Request.Alloc.MAX_KEY
        + " characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'");
  }

  /** The longest a hold may live: a restore that takes longer asks again. */
  private static final Duration MAX_HOLD_TTL = Duration.ofDays(1);

  /**
   * Exactly {@code vpids} of {@code space}, all or nothing, as global pids in the order asked;
   * vpids held by {@code hold} (0: none) are claimed from it.
   */
  public CompletableFuture<int[]> allocAt(int space, int[] vpids, int hold) {
    return allocAtHandles(space, vpids, hold).thenApply(Handles::pids);
  }

  /** As {@link #allocAt}, with each pid's generation. */
  public CompletableFuture<Handles> allocAtHandles(int space, int[] vpids, int hold) {
    PidspaceException refusal = checkSpace(space);
    if (refusal == null) {
      refusal = checkVpids(vpids);
    }
    if (refusal == null && hold < 0) {
      refusal = PidspaceException.badRequest("a hold id is a positive whole number");
    }
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(space, new Request.AllocAt(vpids.clone(), hold)).thenApply(Result.Pids::handles);
  }

  /** Holds {@code vpids} of {@code space} for {@code ttl}; answers the hold's id. */
  public CompletableFuture<Integer> hold(int space, int[] vpids, Duration ttl) {
    PidspaceException refusal = checkSpace(space);
    if (refusal == null) {
      refusal = checkVpids(vpids);
    }
    if (refusal == null && (ttl.toMillis() < 1 || ttl.compareTo(MAX_HOLD_TTL) > 0)) {
      refusal = PidspaceException.outOfRange("ttl must be within 1 ms.." + MAX_HOLD_TTL.toHours() + " h");
    }
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(space, new Request.Hold(vpids.clone(), ttl.toMillis())).thenApply(Result.HoldPlaced::hold);
  }

  /** Releases a hold: its vpids are free for next-fit again. */
  public CompletableFuture<Done> release(int space, int hold) {
    PidspaceException refusal = checkSpace(space);
    if (refusal == null && hold < 1) {
      refusal = PidspaceException.unknownHold(space, hold);
    }
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(space, new Request.Release(hold)).thenApply(done -> Done.getInstance());
  }

  /** Sets the space's pid_max: raised any time, lowered only above its highest allocated or held vpid. */
  public CompletableFuture<SpaceStats> setPidMax(int space, int pidMax) {
    PidspaceException refusal = checkSpace(space);
    if (refusal == null) {
      refusal = refusalOf(() -> layout.checkPidMax(pidMax));
    }
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(space, new Request.SetPidMax(pidMax)).thenApply(Result.Stats::stats);
  }

  /** Sets the space's reuse delay: vpids freed from now on are skipped by next-fit that long (zero: off). */
  public CompletableFuture<SpaceStats> setReuseDelay(int space, Duration delay) {
    PidspaceException refusal = checkSpace(space);
    if (refusal == null && (delay.isNegative() || delay.toMillis() > PidMap.MAX_REUSE_DELAY)) {
      refusal = PidspaceException.outOfRange("reuseDelay must be within 0.." + PidMap.MAX_REUSE_DELAY / 3_600_000 + " h");
    }
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(space, new Request.SetReuseDelay(delay.toMillis())).thenApply(Result.Stats::stats);
  }

  /**
   * Reconciliation: the space against the vpids a container runtime sees {@code alive}. With
   * {@code apply}, frees the leaked vpids that were leaked in the last
   * {@code pidspace.reconcile.reports} reports too, in the same stored write as the report.
   */
  public CompletableFuture<Reconciled> reconcile(int space, int[] alive, boolean apply) {
    PidspaceException refusal = checkSpace(space);
    if (refusal == null && alive.length > settings.maxBatch()) {
      refusal = PidspaceException.badRequest("alive may name at most " + settings.maxBatch() + " vpids (pidspace.max-batch)");
    }
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(space, new Request.Reconcile(alive.clone(), apply ? reconcileReports : 0))
            .thenApply(Result.Reconciliation::reconciled);
  }

  /** The whole space as a portable document. */
  public CompletableFuture<SpaceImage> export(int space) {
    PidspaceException refusal = checkSpace(space);
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(space, new Request.Export()).thenApply(Result.Image::image);
  }

  private PidspaceException checkVpids(int[] vpids) {
    if (vpids.length == 0) {
      return PidspaceException.badRequest("vpids must name at least one vpid");
    }
    if (vpids.length > settings.maxBatch()) {
      return PidspaceException.badRequest("a request may name at most " + settings.maxBatch() + " vpids (pidspace.max-batch)");
    }
    return null;
  }

  public CompletableFuture<Done> free(int pid) {
    return free(pid, 0);
  }

  /** Frees {@code pid} if {@code generation} (0: any) is its holder's; else {@code stale-handle}. */
  public CompletableFuture<Done> free(int pid, int generation) {
    PidspaceException refusal = checkPid(pid);
    if (refusal == null) {
      refusal = checkGeneration(generation);
    }
    if (refusal != null) {
      return CompletableFuture.failedFuture(refusal);
    }
    int[] generations = generation == 0 ? null : new int[] {generation};
    return submit(layout.spaceOf(pid), new Request.Free(new int[] {layout.vpidOf(pid)}, generations)).thenCompose(freed ->
        freed.result().refused().isEmpty()
            ? CompletableFuture.completedFuture(Done.getInstance())
            : CompletableFuture.failedFuture(freed.result().refused().get(0).reason().exception()));
  }

  /** Splits the batch by space, one request of its vpids each, and joins the answers. */
  public CompletableFuture<FreeResult> free(int[] pids) {
    return free(pids, null);
  }

  /**
   * As {@link #free(int[])}; {@code generations} (null: none) is parallel to {@code pids}, and
   * a pid whose generation (not 0) is not its holder's is refused {@code stale-handle}.
   */
  public CompletableFuture<FreeResult> free(int[] pids, int[] generations) {
    if (pids.length > settings.maxBatch()) {
      return CompletableFuture.completedFuture(allRefused(pids, PidspaceException.badRequest(
          "a batch may name at most " + settings.maxBatch() + " pids (pidspace.max-batch)")));
    }
    if (generations != null && generations.length != pids.length) {
      return CompletableFuture.completedFuture(allRefused(pids, PidspaceException.badRequest(
          "generations must name one generation for each pid, in the same order")));
    }
    List<FreeResult.Refusal> invalid = new ArrayList<>();
    Map<Integer, List<Integer>> bySpace = new LinkedHashMap<>(); // indexes into pids
    for (int i = 0; i < pids.length; i++) {
      PidspaceException refusal = checkPid(pids[i]);
      if (refusal == null && generations != null) {
        refusal = checkGeneration(generations[i]);
      }
      if (refusal != null) {
        invalid.add(FreeResult.Refusal.of(pids[i], refusal));
      } else {
        bySpace.computeIfAbsent(layout.spaceOf(pids[i]), k -> new ArrayList<>()).add(i);
      }
    }
    CompletableFuture<FreeResult> result = CompletableFuture.completedFuture(new FreeResult(new int[0], invalid));
    for (Map.Entry<Integer, List<Integer>> part : bySpace.entrySet()) {
      int[] at = part.getValue().stream().mapToInt(Integer::intValue).toArray();
      int[] batch = new int[at.length];
      int[] vpids = new int[at.length];
      int[] named = generations == null ? null : new int[at.length];
      for (int i = 0; i < at.length; i++) {
        batch[i] = pids[at[i]];
        vpids[i] = layout.vpidOf(batch[i]);
        if (named != null) {
          named[i] = generations[at[i]];
        }
      }
      CompletableFuture<FreeResult> answer = submit(part.getKey(), new Request.Free(vpids, named))
          .handle((freed, failure) -> failure == null ? freed.result() : allRefused(batch, PidspaceException.from(failure)));
      result = result.thenCombine(answer, FreeResult::plus);
    }
    return result;
  }

  public CompletableFuture<PidInfo> lookup(int pid) {
    PidspaceException refusal = checkPid(pid);
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(layout.spaceOf(pid), new Request.Lookup(layout.vpidOf(pid))).thenApply(Result.Info::info);
  }

  public CompletableFuture<SpaceStats> stats(int space) {
    PidspaceException refusal = checkSpace(space);
    return refusal != null
        ? CompletableFuture.failedFuture(refusal)
        : submit(space, new Request.Stats()).thenApply(Result.Stats::stats);
  }

  /** One checked request to this node's coalescer of {@code space}; a refusal fails the future. */
  private <R extends Result> CompletableFuture<R> submit(int space, Request<R> request) {
    PidspaceException frozen = freezeGuard.refusal();
    if (frozen != null) {
      return CompletableFuture.failedFuture(frozen);
    }
    CompletableFuture<Result> answer = new CompletableFuture<>();
    coalescer(space).tell(new Coalescer.Queued(request, System.nanoTime() + timeoutNanos, answer));
    return answer.thenCompose(Result::settle);
  }

  private ActorRef<Coalescer.Command> coalescer(int space) {
    ActorRef<Coalescer.Command> ref = coalescers.get(space);
    if (ref == null) {
      synchronized (coalescers) { // at most once per space and node
        ref = coalescers.get(space);
        if (ref == null) {
          ref = system.systemActorOf(
              Coalescer.create(settings, space, spaces.space(space), inFlight), namePrefix + space, Props.empty());
          coalescers.set(space, ref);
        }
      }
    }
    return ref;
  }

  private PidspaceException checkSpace(int space) {
    return refusalOf(() -> layout.checkSpace(space));
  }

  private static PidspaceException checkGeneration(int generation) {
    return generation < 0 ? PidspaceException.badRequest("a generation is a whole number, 0 for none") : null;
  }

  private PidspaceException checkPid(int pid) {
    return refusalOf(() -> layout.checkPid(pid));
  }

  /** PidLayout's range checks throw; here a refusal is a value, to answer or collect. */
  private static PidspaceException refusalOf(Runnable check) {
    try {
      check.run();
      return null;
    } catch (PidspaceException refusal) {
      return refusal;
    }
  }

  private static FreeResult allRefused(int[] pids, PidspaceException reason) {
    List<FreeResult.Refusal> refused = new ArrayList<>();
    for (int pid : pids) {
      refused.add(FreeResult.Refusal.of(pid, reason));
    }
    return new FreeResult(new int[0], refused);
  }
}
