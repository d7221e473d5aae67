package io.pidspace.storm;

import io.pidspace.api.PidAuthority;
import io.pidspace.core.SpaceStats;
import java.util.concurrent.CompletionStage;

/** A {@link PidAuthority} as a storm target: every call goes through the real actors. */
final class AuthorityTarget implements StormTarget {

  private final String name;
  private final PidAuthority authority;

  /** Waits until the registry and the spaces answer, so that start-up is not timed as latency. */
  AuthorityTarget(String name, PidAuthority authority) {
    this.name = name;
    this.authority = authority;
    authority.spaceIds().toCompletableFuture().join();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public CompletionStage<Integer> createSpace(int pidMax) {
    return authority.createSpace(PidAuthority.ANY_ID, pidMax).thenApply(SpaceStats::space);
  }

  @Override
  public CompletionStage<Void> destroySpace(int space) {
    return authority.destroySpace(space).thenApply(done -> null);
  }

  @Override
  public CompletionStage<Integer> alloc(int space) {
    return authority.alloc(space);
  }

  @Override
  public CompletionStage<Void> free(int pid) {
    return authority.free(pid).thenApply(done -> null);
  }

  @Override
  public void close() {
    authority.close();
  }
}
