package io.pidspace.metrics;

import akka.actor.typed.ActorSystem;

/** What a durable space reports to its node's metrics, once per stored event: cheap, no lock. */
public interface SpaceMetrics {

  /** An event that changed {@code pids} pids was stored {@code nanos} after the space asked to persist it. */
  void stored(int pids, long nanos);

  /**
   * Space {@code space} failed its recovery on this node because its stored state cannot be read
   * ({@code true}), or recovered here ({@code false}). Not told when it stops: a space that stops
   * unrecoverable is started again here by its next message.
   */
  void unrecoverable(int space, boolean unrecoverable);

  static SpaceMetrics of(ActorSystem<?> system) {
    return NodeMetrics.get(system);
  }
}
