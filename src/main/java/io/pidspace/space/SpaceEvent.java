package io.pidspace.space;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.Hold;
import io.pidspace.core.SpaceImage;

/**
 * What happened to a space, as stored in its journal. Applied by {@link SpaceState#apply}; the
 * allocation rule itself ran before, in {@code PidMap.Draft}.
 */
sealed interface SpaceEvent extends CborSerializable {

  /**
   * The registry's create of {@code generation} took effect. Space 0 stores one with generation
   * 0 before its first change, so its pid_max is journaled and not taken from the next start's
   * config.
   */
  record SpaceCreated(long generation, int pidMax) implements SpaceEvent {}

  /** The registry's destroy of {@code generation} took effect: every pid is free, the space is gone. */
  record SpaceDestroyed(long generation) implements SpaceEvent {}

  /**
   * One run of requests (the group commit), in order: {@code +v} allocated by next-fit (it becomes
   * {@code last_pid}), {@code +(PidMap.AT | v)} allocated at (last_pid stays), {@code -v} freed.
   * A run that also places or releases holds or sets pid_max stores those events between its
   * pid changes, all in one atomic write. Stored as runs ({@link PidRuns}).
   */
  @JsonSerialize(using = PidRuns.Serializer.class)
  @JsonDeserialize(using = PidRuns.Deserializer.class)
  record PidsChanged(int[] changes) implements SpaceEvent {}

  /** Vpids held for a restore in flight until {@code hold.expiresAt()}. */
  record HoldPlaced(Hold hold) implements SpaceEvent {}

  /** A hold released by its owner or by expiry. */
  record HoldReleased(int hold) implements SpaceEvent {}

  record PidMaxChanged(int pidMax) implements SpaceEvent {}

  /** The space's reuse delay (millis, 0 off): vpids freed from now on cool down that long. */
  record ReuseDelayChanged(long reuseDelay) implements SpaceEvent {}

  /** Vpids freed by the run (in its {@code PidsChanged}) under a reuse delay: next-fit skips each until its {@code until}. */
  record PidsCooled(int[] vpids, long[] until) implements SpaceEvent {}

  /**
   * The registry's import of {@code generation} took effect: the space exists exactly as
   * {@code image} describes it. One event, so a crash leaves nothing or the whole space.
   */
  record SpaceImported(long generation, SpaceImage image) implements SpaceEvent {}

  /**
   * A reservation ({@code pidspace.reservation}): allocs of vpids {@code from < v <= upTo} may be
   * answered before they are stored, until {@code until} (epoch millis, the storing node's clock);
   * they are stored with the space's next write. Replaces the previous one; {@code from == upTo}
   * is none. Recovery counts every free vpid of the last one as allocated (leaked), since some may
   * have been handed out unstored; a create or import of a new generation waits until a stale copy
   * of the old one can no longer answer inside it ({@code until} and a margin for clock skew).
   */
  record Reserved(int from, int upTo, long until) implements SpaceEvent {}

  /**
   * An alloc with idempotency key {@code key} (of {@code count} pids, at {@code at}, epoch millis
   * of the storing node) took {@code vpids}: stored in the same write as their {@code PidsChanged},
   * so a retry with the key finds them also after a crash ({@link AllocKeys}). {@code generations}
   * are theirs as allocated, so a retry's handles stay the first answer's: a pid handed out again
   * since is not freed by them (stale-handle).
   */
  record AllocKeyed(String key, long at, int count, int[] vpids, int[] generations) implements SpaceEvent {}
}
