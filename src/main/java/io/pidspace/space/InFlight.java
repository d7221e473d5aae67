package io.pidspace.space;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import io.pidspace.core.PidspaceException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's asks to spaces and to the registry that are waiting for an answer. When a member
 * that was downed (it crashed or froze) is removed, an ask that went to a space or the registry
 * on it would wait out its whole timeout (a coalescer's run: the caller's 10 s ask-timeout and
 * half again) for an answer that cannot come, and the coalescer, one run at a time, would hold
 * every request behind it as long. So every ask in flight at that moment fails as
 * {@code unavailable}, {@link #SETTLE} later (so this node's shard region and singleton proxy
 * have seen the removal and buffer what follows until the space or registry is back). The
 * coalescer then sends its next run, which is answered as soon as the space is back.
 *
 * <p>The cost: an ask to a healthy node that was in flight at that moment is told unavailable
 * too; its write may still land (an alloc leaks its pid, a free or create may have happened), as
 * with any timeout (docs/protocol.md). That happens only when a failed member is removed. A
 * member that leaves gracefully (Exiting, then Removed) hands its shards off first: nothing fails.
 */
final class InFlight {

  /** From a downed member's removal to failing the asks that were in flight then. */
  static final Duration SETTLE = Duration.ofMillis(200);

  /**
   * How long a coalescer waits for a run sent after a failure-caused removal before it answers
   * unavailable and sends the next. A run sent in the moment before this node's shard region
   * has seen the removal still goes to the dead node and would hold its space's queue for a whole
   * ask. A space that is back answers well within this; one still recovering (seconds on a busy
   * host) answers the run as too late once it is back, and the next run goes at once.
   */
  static final Duration SUSPECT_TIMEOUT = Duration.ofSeconds(1);

  /** What a failed ask completes with: one immutable refusal (no stack trace), told apart by identity. */
  static final PidspaceException LOST = PidspaceException.unavailable(
      "a node was removed from the cluster after a failure while this request waited: its outcome is unknown; retry");

  private final Set<CompletableFuture<?>> asks;

  private InFlight(boolean tracking) {
    this.asks = tracking ? ConcurrentHashMap.newKeySet() : null;
  }

  /** Outside a cluster nothing moves: asks are not tracked. */
  static InFlight none() {
    return new InFlight(false);
  }

  /** Tracks asks on a cluster node: one subscriber to the cluster's removals. */
  static InFlight clustered(ActorSystem<?> system) {
    InFlight inFlight = new InFlight(true);
    system.systemActorOf(inFlight.watcher(), "pidspace-in-flight", Props.empty());
    return inFlight;
  }

  /** {@code ask}, failed early as unavailable if a downed member is removed before it is answered. */
  <T> CompletableFuture<T> track(CompletableFuture<T> ask) {
    if (asks != null && !ask.isDone()) {
      asks.add(ask);
      ask.whenComplete((answer, failure) -> asks.remove(ask));
    }
    return ask;
  }

  private record Lost(String member, List<CompletableFuture<?>> asks) implements NoSerializationVerificationNeeded {}

  private Behavior<Object> watcher() {
    return Behaviors.setup(ctx -> {
      Cluster.get(ctx.getSystem()).subscriptions().tell(
          Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberRemoved.class));
      return Behaviors.receive((c, msg) -> {
        if (msg instanceof ClusterEvent.MemberRemoved removed && removed.previousStatus() == MemberStatus.down()) {
          List<CompletableFuture<?>> waiting = List.copyOf(asks);
          if (!waiting.isEmpty()) {
            c.scheduleOnce(SETTLE, c.getSelf(), new Lost(removed.member().address().toString(), waiting));
          }
        } else if (msg instanceof Lost lost) {
          c.getLog().info("{} asks were in flight when {} was removed after a failure: answered unavailable",
              lost.asks.size(), lost.member);
          lost.asks.forEach(ask -> ask.completeExceptionally(LOST));
        }
        return Behaviors.same();
      });
    });
  }
}
