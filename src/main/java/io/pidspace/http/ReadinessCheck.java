package io.pidspace.http;

import akka.actor.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import io.pidspace.api.PidAuthority;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The node's readiness check for Akka Management ({@code /ready}): the space registry answers,
 * which it does only once it has recovered from the journal. Akka Management's own
 * cluster-membership check adds "this node is Up". No space is asked: one bad space, or many
 * passivated ones, say nothing about whether this node can serve.
 */
public final class ReadinessCheck implements Supplier<CompletionStage<Boolean>> {

  private final PidAuthority authority;

  public ReadinessCheck(ActorSystem system) {
    this.authority = PidAuthority.get(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    return authority.spaceIds().handle((spaces, failure) -> failure == null);
  }
}
