package io.pidspace.space;

import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.PidspaceException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How a space answers each kind of {@link Request} within one run: through the run's undo log
 * ({@link PidMap.Draft}), so a durable space can roll the changes back and store them. The router
 * checked every value; what is left to refuse here is the space's own state.
 */
final class SpaceRequests implements Request.Handler {

  private final int space;
  private final PidLayout layout;
  private final SpaceState state;
  private final PidMap map;
  private final PidMap.Draft changes;
  private final long now;
  private List<SpaceEvent.AllocKeyed> keyed; // this run's new keyed allocs, to store; null for none

  /** {@code now}: the run's clock ({@link PidMap.Draft#at}), which holds and keys expire by. */
  SpaceRequests(int space, PidLayout layout, SpaceState state, PidMap.Draft changes, long now) {
    this.space = space;
    this.layout = layout;
    this.state = state;
    this.map = state.map();
    this.changes = changes;
    this.now = now;
  }

  /** {@code request}'s answer, or its refusal. */
  Result answer(Request<?> request) {
    try {
      return request.decide(this);
    } catch (PidspaceException refusal) {
      return new Result.Refused(refusal.refusal());
    }
  }

  /** The keyed allocs this run made (each to be stored with the run's pids), or null for none. */
  List<SpaceEvent.AllocKeyed> keyed() {
    return keyed;
  }

  @Override
  public Result.Pids alloc(Request.Alloc request) {
    if (request.key() != null) {
      return allocKeyed(request);
    }
    int[] vpids = new int[Math.min(request.count(), map.pidMax())];
    return pids(vpids, take(request.count(), vpids));
  }

  /** Takes up to {@code count} vpids by next-fit into {@code vpids}; how many, at least one. */
  private int take(int count, int[] vpids) {
    int n = changes.alloc(count, vpids);
    if (n == 0) {
      throw PidspaceException.exhausted(space, map.pidMax());
    }
    return n;
  }

  /**
   * A known key (stored, or earlier in this run) answers its alloc's pids again, whatever became
   * of them since, and changes nothing; with another count it is refused. A new one allocates.
   */
  private Result.Pids allocKeyed(Request.Alloc request) {
    SpaceEvent.AllocKeyed known = null;
    for (int i = 0; keyed != null && i < keyed.size() && known == null; i++) { // not applied until stored
      known = keyed.get(i).key().equals(request.key()) ? keyed.get(i) : null;
    }
    if (known == null) {
      known = state.keyed(request.key(), now);
    }
    if (known != null) {
      if (known.count() != request.count()) {
        throw new PidspaceException(PidspaceException.Code.IDEMPOTENCY_KEY_REUSED, "this idempotency key named an "
            + "alloc of " + known.count() + " pids of space " + space + "; a new request needs a new key");
      }
      Result.Pids first = pids(known.vpids(), known.vpids().length);
      return new Result.Pids(first.pids(), known.generations() != null ? known.generations() : first.handles().generations());
    }
    int[] vpids = new int[Math.min(request.count(), map.pidMax())];
    Result.Pids answer = pids(vpids, take(request.count(), vpids));
    if (keyed == null) {
      keyed = new ArrayList<>();
    }
    keyed.add(new SpaceEvent.AllocKeyed(request.key(), now, request.count(),
        Arrays.copyOf(vpids, answer.pids().length), answer.handles().generations()));
    return answer;
  }

  /** The first {@code n} of {@code vpids} as global pids, with their generations now. */
  private Result.Pids pids(int[] vpids, int n) {
    int[] pids = new int[n];
    int[] generations = new int[n];
    for (int i = 0; i < n; i++) {
      pids[i] = layout.encode(space, vpids[i]);
      generations[i] = map.generation(vpids[i]);
    }
    return new Result.Pids(pids, generations);
  }

  @Override
  public Result.Pids allocAt(Request.AllocAt request) {
    refuseIf(changes.allocAt(request.vpids(), request.hold()));
    int[] pids = new int[request.vpids().length];
    int[] generations = new int[pids.length];
    for (int i = 0; i < pids.length; i++) {
      pids[i] = layout.encode(space, request.vpids()[i]);
      generations[i] = map.generation(request.vpids()[i]);
    }
    return new Result.Pids(pids, generations);
  }

  @Override
  public Result.HoldPlaced hold(Request.Hold request) {
    return new Result.HoldPlaced(changes.hold(request.vpids(), now + request.ttlMillis()));
  }

  @Override
  public Result.Done release(Request.Release request) {
    refuseIf(changes.release(request.hold()));
    return new Result.Done();
  }

  @Override
  public Result.Stats setPidMax(Request.SetPidMax request) {
    changes.setPidMax(request.pidMax());
    return new Result.Stats(map.stats());
  }

  @Override
  public Result.Stats setReuseDelay(Request.SetReuseDelay request) {
    changes.setReuseDelay(request.millis());
    return new Result.Stats(map.stats());
  }

  @Override
  public Result.Reconciliation reconcile(Request.Reconcile request) {
    return new Result.Reconciliation(changes.reconcile(request.alive(), request.reports()));
  }

  @Override
  public Result.Image export(Request.Export request) {
    return new Result.Image(map.image());
  }

  @Override
  public Result.Freed free(Request.Free request) {
    int[] freed = new int[request.vpids().length];
    int n = 0;
    List<FreeResult.Refusal> refused = new ArrayList<>();
    int[] generations = request.generations();
    for (int i = 0; i < request.vpids().length; i++) {
      int vpid = request.vpids()[i];
      int pid = layout.encode(space, vpid);
      PidspaceException refusal = changes.free(vpid, generations == null ? 0 : generations[i]);
      if (refusal == null) {
        freed[n++] = pid;
      } else {
        refused.add(FreeResult.Refusal.of(pid, refusal));
      }
    }
    return new Result.Freed(new FreeResult(Arrays.copyOf(freed, n), refused));
  }

  @Override
  public Result.Info lookup(Request.Lookup request) {
    int vpid = request.vpid();
    return new Result.Info(new PidInfo(layout.encode(space, vpid), space, vpid, map.isAllocated(vpid)));
  }

  @Override
  public Result.Stats stats(Request.Stats request) {
    return new Result.Stats(map.stats());
  }

  private static void refuseIf(PidspaceException refusal) {
    if (refusal != null) {
      throw refusal;
    }
  }
}
