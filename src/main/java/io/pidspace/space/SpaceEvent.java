package io.pidspace.space;

import io.pidspace.core.CborSerializable;

/**
 * What happened to a space, as stored in its journal. Applied by {@link SpaceState#apply}; the
 * allocation rule itself ran before, in {@code PidMap.Run}.
 */
public sealed interface SpaceEvent extends CborSerializable {

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
   * {@code last_pid}), {@code -v} freed.
   */
  record PidsChanged(int[] changes) implements SpaceEvent {}

  /**
   * A reservation ({@code pidspace.reservation}): allocs of vpids {@code from < v <= upTo} may be
   * answered before they are stored; they are stored with the space's next write. Replaces the
   * previous one; {@code from == upTo} is none. Recovery counts every free vpid of the last one as
   * allocated (leaked), since some may have been handed out unstored.
   */
  record Reserved(int from, int upTo) implements SpaceEvent {}
}
