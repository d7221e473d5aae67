package io.pidspace.space;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.PidspaceException;

/**
 * One request to a space, from {@link PidRouter} through the {@link Coalescer} to the space in a
 * {@link PidSpace.Run}. Each kind is a record of its own values, checked once where it entered
 * (the router): the space trusts them. {@code R} is the kind's answer. A new kind implements
 * {@link #decide}, so the compiler asks for its {@link Handler} method, which the space implements
 * ({@link SpaceRequests}).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
@JsonSubTypes({
    @JsonSubTypes.Type(value = Request.Alloc.class, name = "alloc"),
    @JsonSubTypes.Type(value = Request.Free.class, name = "free"),
    @JsonSubTypes.Type(value = Request.Lookup.class, name = "lookup"),
    @JsonSubTypes.Type(value = Request.Stats.class, name = "stats"),
    @JsonSubTypes.Type(value = Request.AllocAt.class, name = "alloc-at"),
    @JsonSubTypes.Type(value = Request.Hold.class, name = "hold"),
    @JsonSubTypes.Type(value = Request.Release.class, name = "release"),
    @JsonSubTypes.Type(value = Request.SetPidMax.class, name = "pid-max"),
    @JsonSubTypes.Type(value = Request.Export.class, name = "export"),
    @JsonSubTypes.Type(value = Request.SetReuseDelay.class, name = "reuse-delay"),
    @JsonSubTypes.Type(value = Request.Reconcile.class, name = "reconcile")})
sealed interface Request<R extends Result> extends CborSerializable {

  /** Decides this request in the space; a refusal is thrown. */
  R decide(Handler space);

  /** How much of a run's {@code pidspace.max-batch} it takes. */
  default int weight() {
    return 1;
  }

  /** What a space does for each kind; a refusal is thrown as a {@link PidspaceException}. */
  interface Handler {
    Result.Pids alloc(Alloc request);

    Result.Freed free(Free request);

    Result.Info lookup(Lookup request);

    Result.Stats stats(Stats request);

    Result.Pids allocAt(AllocAt request);

    Result.HoldPlaced hold(Hold request);

    Result.Done release(Release request);

    Result.Stats setPidMax(SetPidMax request);

    Result.Image export(Export request);

    Result.Stats setReuseDelay(SetReuseDelay request);

    Result.Reconciliation reconcile(Reconcile request);
  }

  /**
   * {@code count} pids by next-fit, 1..max-batch. {@code key}: null, or an idempotency key
   * ({@link #isKey}): an alloc with a key the space knows answers that alloc's pids again.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL) // an alloc without a key crosses nodes as it did before keys
  record Alloc(int count, String key) implements Request<Result.Pids> {
    Alloc(int count) {
      this(count, null);
    }

    /** The longest idempotency key: a UUID (36) fits, with room for a prefix. */
    static final int MAX_KEY = 64;

    /** Whether {@code key} may be an idempotency key: 1..64 of {@code [A-Za-z0-9._:-]}. */
    static boolean isKey(String key) {
      if (key.isEmpty() || key.length() > MAX_KEY) {
        return false;
      }
      for (int i = 0; i < key.length(); i++) {
        char c = key.charAt(i);
        if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
            || c == '.' || c == '_' || c == ':' || c == '-')) {
          return false;
        }
      }
      return true;
    }

    @Override
    public Result.Pids decide(Handler space) {
      return space.alloc(this);
    }

    @Override
    public int weight() {
      return count;
    }
  }

  /**
   * Frees these vpids of the space (1..max-batch of them); answers the global pids freed and the
   * refused ones. {@code generations} (null: none) is parallel to {@code vpids}: a vpid whose
   * generation is named (not 0) and is not its holder's is refused {@code stale-handle}.
   */
  record Free(int[] vpids, int[] generations) implements Request<Result.Freed> {
    @Override
    public Result.Freed decide(Handler space) {
      return space.free(this);
    }

    @Override
    public int weight() {
      return vpids.length;
    }
  }

  record Lookup(int vpid) implements Request<Result.Info> {
    @Override
    public Result.Info decide(Handler space) {
      return space.lookup(this);
    }
  }

  record Stats() implements Request<Result.Stats> {
    @Override
    public Result.Stats decide(Handler space) {
      return space.stats(this);
    }
  }

  /** Exactly these vpids (1..max-batch), all or nothing; those held by {@code hold} (0: none) are claimed from it. */
  record AllocAt(int[] vpids, int hold) implements Request<Result.Pids> {
    @Override
    public Result.Pids decide(Handler space) {
      return space.allocAt(this);
    }

    @Override
    public int weight() {
      return vpids.length;
    }
  }

  /** Holds these vpids (1..max-batch) for {@code ttlMillis}, 1 ms..1 day. */
  record Hold(int[] vpids, long ttlMillis) implements Request<Result.HoldPlaced> {
    @Override
    public Result.HoldPlaced decide(Handler space) {
      return space.hold(this);
    }

    @Override
    public int weight() {
      return vpids.length;
    }
  }

  /** Releases hold {@code hold}, at least 1. */
  record Release(int hold) implements Request<Result.Done> {
    @Override
    public Result.Done decide(Handler space) {
      return space.release(this);
    }
  }

  /** A pid_max within the layout's range (the space checks it against its allocated vpids). */
  record SetPidMax(int pidMax) implements Request<Result.Stats> {
    @Override
    public Result.Stats decide(Handler space) {
      return space.setPidMax(this);
    }
  }

  record Export() implements Request<Result.Image> {
    @Override
    public Result.Image decide(Handler space) {
      return space.export(this);
    }
  }

  /** A reuse delay in milliseconds, 0 (off)..{@code PidMap.MAX_REUSE_DELAY}. */
  record SetReuseDelay(long millis) implements Request<Result.Stats> {
    @Override
    public Result.Stats decide(Handler space) {
      return space.setReuseDelay(this);
    }
  }

  /**
   * The vpids a runtime sees alive (at most max-batch); frees the leaks that were in the last
   * {@code reports} reports too (0: report only).
   */
  record Reconcile(int[] alive, int reports) implements Request<Result.Reconciliation> {
    @Override
    public Result.Reconciliation decide(Handler space) {
      return space.reconcile(this);
    }

    @Override
    public int weight() {
      return alive.length;
    }
  }
}
