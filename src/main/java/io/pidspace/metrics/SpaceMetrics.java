package io.pidspace.metrics;

import akka.actor.typed.ActorSystem;

/** What a durable space reports to its node's metrics, once per stored event: cheap, no lock. */
public interface SpaceMetrics {

  /** An event that changed {@code pids} pids was stored {@code nanos} after the space asked to persist it. */
  void stored(int pids, long nanos);

  static SpaceMetrics of(ActorSystem<?> system) {
    return NodeMetrics.get(system);
  }
}
