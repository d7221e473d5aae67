package io.pidspace.space;

import akka.actor.typed.ActorSystem;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
import com.typesafe.config.Config;
import io.pidspace.core.PidspaceException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guards a cluster node against acting on stale state after a freeze (SIGSTOP, a stalled VM, a
 * long GC), {@code pidspace.freeze-guard}. Measured in ClusterIT with the failover defaults: a
 * node frozen 10 s woke up, saw the others unreachable, its own SBR downed them and it ran on as
 * a one-node island; and requests that reached it during the freeze were answered by its stale
 * copies of spaces that had moved: a free of a pid allocated meanwhile answered "not allocated".
 * The journal fences writes, not answers that need none (refusals, lookups, stats).
 *
 * <p>So: (1) a request is refused as unavailable while this guard has not ticked for a while
 * (the process was frozen and has not yet noticed), and (2) a freeze longer than the others wait
 * before downing this node (heartbeat interval, acceptable pause, the SBR's stable-after) downs
 * it: it refuses everything, shuts down (with exit-jvm, exits) and, restarted, rejoins.
 *
 * <p>A dedicated thread that sleeps and measures its own overshoot sees exactly a freeze of the
 * whole process: every thread stops, this one too. The cost: a healthy node frozen just past the
 * limit, which the others were slow to notice, restarts without need; one whose guard thread is
 * starved of CPU for a second refuses requests meanwhile.
 */
final class FreezeGuard {

  private static final Logger log = LoggerFactory.getLogger(FreezeGuard.class);
  private static final long TICK_NANOS = Duration.ofMillis(100).toNanos();
  /**
   * No tick for this long: the process was frozen. Above the second a busy two-core host starves
   * this thread now and then (it refused requests at 1 s under load), and never above the limit
   * (what the others take to down a node), so that a node frozen longer refuses until it has
   * downed itself.
   */
  private static final long STALE_NANOS = Duration.ofSeconds(2).toNanos();

  /** Outside a node: never refuses. */
  static final FreezeGuard NONE = new FreezeGuard();

  private volatile long lastTick = System.nanoTime();
  private volatile boolean downed;
  private final boolean active;
  private final long staleNanos;

  private FreezeGuard() {
    this.active = false;
    this.staleNanos = STALE_NANOS;
  }

  private FreezeGuard(ActorSystem<?> system, long limitNanos) {
    this.active = true;
    this.staleNanos = Math.min(STALE_NANOS, limitNanos);
    Thread guard = new Thread(() -> watch(system, limitNanos), "pidspace-freeze-guard");
    guard.setDaemon(true);
    guard.start();
  }

  /** A guard for a cluster node when {@code pidspace.freeze-guard} is on, else {@link #NONE}. */
  static FreezeGuard of(ActorSystem<?> system, Config config) {
    if (!config.getBoolean("pidspace.freeze-guard")) {
      return NONE;
    }
    Duration limit = config.getDuration("akka.cluster.failure-detector.heartbeat-interval")
        .plus(config.getDuration("akka.cluster.failure-detector.acceptable-heartbeat-pause"))
        .plus(config.getDuration("akka.cluster.split-brain-resolver.stable-after"));
    return new FreezeGuard(system, limit.toNanos());
  }

  /** Null, or why this node must not answer now. */
  PidspaceException refusal() {
    if (!active) {
      return null;
    }
    if (downed) {
      return PidspaceException.unavailable("this node was frozen and is shutting down; ask another node");
    }
    if (System.nanoTime() - lastTick > staleNanos) {
      return PidspaceException.unavailable("this node was frozen a moment ago; ask again or ask another node");
    }
    return null;
  }

  private void watch(ActorSystem<?> system, long limitNanos) {
    while (!system.whenTerminated().isCompleted()) {
      try {
        Thread.sleep(TICK_NANOS / 1_000_000);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      long frozen = now - lastTick - TICK_NANOS;
      if (frozen > limitNanos) {
        downed = true;
        Cluster cluster = Cluster.get(system);
        log.warn("this node was frozen for {} ms, longer than the cluster waits before downing it ({} ms): it downs"
            + " itself and shuts down; restart it to rejoin", frozen / 1_000_000, limitNanos / 1_000_000);
        cluster.manager().tell(new Down(cluster.selfMember().address()));
        return;
      }
      lastTick = now;
    }
  }
}
