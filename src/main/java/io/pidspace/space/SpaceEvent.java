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
}
