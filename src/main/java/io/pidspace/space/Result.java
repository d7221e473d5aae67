package io.pidspace.space;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.FreeResult;
import io.pidspace.core.Handles;
import io.pidspace.core.PidInfo;
import io.pidspace.core.Reconciled;
import io.pidspace.core.Refusal;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import java.util.concurrent.CompletableFuture;

/**
 * What a space (or the registry) answers one request with: the value its kind answers (a
 * {@link Request} names it) or, for any kind, {@link Refused}. Each case carries only its own fields.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
@JsonSubTypes({
    @JsonSubTypes.Type(value = Result.Refused.class, name = "refused"),
    @JsonSubTypes.Type(value = Result.Pids.class, name = "pids"),
    @JsonSubTypes.Type(value = Result.Freed.class, name = "freed"),
    @JsonSubTypes.Type(value = Result.Info.class, name = "info"),
    @JsonSubTypes.Type(value = Result.Stats.class, name = "stats"),
    @JsonSubTypes.Type(value = Result.HoldPlaced.class, name = "hold"),
    @JsonSubTypes.Type(value = Result.Image.class, name = "image"),
    @JsonSubTypes.Type(value = Result.Reconciliation.class, name = "reconciled"),
    @JsonSubTypes.Type(value = Result.Done.class, name = "done")})
sealed interface Result extends CborSerializable {

  record Refused(Refusal refusal) implements Result {}

  /**
   * Global pids: next-fit's for an alloc, the ones asked for (in that order) for an alloc-at;
   * {@code generations[i]} is {@code pids[i]}'s generation, which a free may name.
   */
  record Pids(Handles handles) implements Result {
    Pids(int[] pids, int[] generations) {
      this(new Handles(pids, generations));
    }

    int[] pids() {
      return handles.pids();
    }
  }

  record Freed(FreeResult result) implements Result {}

  record Info(PidInfo info) implements Result {}

  record Stats(SpaceStats stats) implements Result {}

  record HoldPlaced(int hold) implements Result {}

  record Image(SpaceImage image) implements Result {}

  record Reconciliation(Reconciled reconciled) implements Result {}

  /** Done, with nothing to tell (a released hold, a destroyed space). */
  record Done() implements Result {}

  /**
   * {@code result} as the caller's future: its value, or a refusal failing it with a
   * {@link io.pidspace.core.PidspaceException}. {@code R} is what the request answers (its
   * {@link Request#decide} returns it), so the cast holds for every answer a space sends.
   */
  @SuppressWarnings("unchecked")
  static <R extends Result> CompletableFuture<R> settle(Result result) {
    return result instanceof Refused refused
        ? CompletableFuture.failedFuture(refused.refusal().exception())
        : CompletableFuture.completedFuture((R) result);
  }
}
