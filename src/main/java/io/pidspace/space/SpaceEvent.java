package io.pidspace.space;

import io.pidspace.core.CborSerializable;

/**
 * What happened to a space, as stored in its journal. One event may carry many vpids (an
 * alloc of a count, a batch free): that is the group commit. Events are applied by
 * {@link SpaceState#apply}; the allocation rule itself ran before, in {@code PidMap#peek}.
 */
public sealed interface SpaceEvent extends CborSerializable {

  record SpaceCreated(int pidMax) implements SpaceEvent {}

  /** In the order next-fit chose them; the last one becomes {@code last_pid}. */
  record PidsAllocated(int[] vpids) implements SpaceEvent {}

  record PidsFreed(int[] vpids) implements SpaceEvent {}

  enum SpaceDestroyed implements SpaceEvent {
    INSTANCE
  }
}
