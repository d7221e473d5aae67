package io.pidspace.storm;

import io.pidspace.baseline.SeedPidmap;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The baseline as a storm target: a {@link SeedPidmap} per space, called on the caller's thread,
 * so forkers of one container allocate from one shared bitmap at once, as the seed's CPUs do.
 */
final class BaselineTarget implements StormTarget {

  private final PidLayout layout;
  private final AtomicReferenceArray<SeedPidmap> spaces;

  BaselineTarget(PidLayout layout) {
    this.layout = layout;
    this.spaces = new AtomicReferenceArray<>(layout.maxSpaces());
  }

  @Override
  public String name() {
    return "baseline (seed pidmap)";
  }

  @Override
  public synchronized CompletionStage<Integer> createSpace(int pidMax) {
    int id;
    try {
      id = layout.lowestFreeSpace(free -> spaces.get(free) == null);
    } catch (PidspaceException none) {
      return CompletableFuture.failedFuture(none);
    }
    spaces.set(id, new SeedPidmap(id, pidMax));
    return CompletableFuture.completedFuture(id);
  }

  @Override
  public CompletionStage<Void> destroySpace(int space) {
    return spaces.getAndSet(space, null) == null
        ? CompletableFuture.failedFuture(PidspaceException.unknownSpace(space))
        : CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<Integer> alloc(int space) {
    SeedPidmap map = spaces.get(space);
    if (map == null) {
      return CompletableFuture.failedFuture(PidspaceException.unknownSpace(space));
    }
    int vpid = map.alloc();
    return vpid < 0
        ? CompletableFuture.failedFuture(new PidspaceException(
            PidspaceException.Code.SPACE_EXHAUSTED, "space " + space + " has no free pid"))
        : CompletableFuture.completedFuture(layout.encode(space, vpid));
  }

  @Override
  public CompletionStage<Void> free(int pid) {
    int space = layout.spaceOf(pid);
    SeedPidmap map = spaces.get(space);
    if (map == null) {
      return CompletableFuture.failedFuture(PidspaceException.unknownSpace(space));
    }
    return map.free(layout.vpidOf(pid))
        ? CompletableFuture.completedFuture(null)
        : CompletableFuture.failedFuture(new PidspaceException(
            PidspaceException.Code.NOT_ALLOCATED, "pid " + pid + " is not allocated"));
  }

  @Override
  public void close() {}
}
