package io.pidspace.space;

import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Down;
import com.typesafe.config.Config;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downs an unreachable member at once when its remoting port refuses connections
 * ({@code pidspace.crash-downing}). A refused connection means no process listens there: that
 * member crashed or was killed, and waiting for the split brain resolver (its stable-after, then
 * its once-a-second decision: 0.5 to 1.5 s of every failover) gains nothing.
 *
 * <p>Only a refusal counts. A frozen process (SIGSTOP, a stalled VM) keeps its port, where the
 * kernel still accepts connections; a host that is down or cut off answers nothing and the probe
 * times out. Both stay with the resolver. A node acts only while it sees a majority of the
 * members reachable, so one cut off by a firewall that rejects connections cannot down the
 * majority. And a wrong downing costs availability, not a pid twice: the journal fences the
 * stale copy (docs/protocol.md).
 *
 * <p>Only unreachable members are probed: Akka's leader removes a downed member once the failure
 * detector has marked it unreachable too, so probing every member and downing a crashed one
 * before that (tried: downed at 0.0 s, removed at 2.5 s) moved nothing sooner.
 */
final class CrashDowning {

  private static final Logger log = LoggerFactory.getLogger(CrashDowning.class);
  /** How often unreachable members are probed. */
  private static final Duration PROBE_INTERVAL = Duration.ofMillis(200);
  private static final int CONNECT_TIMEOUT_MILLIS = 500;

  private CrashDowning() {}

  /** Starts it on a cluster node when {@code pidspace.crash-downing} is on and remoting uses TCP. */
  static void start(ActorSystem<?> system) {
    Config config = system.settings().config();
    if (!config.getBoolean("pidspace.crash-downing")) {
      return;
    }
    String transport = config.getString("akka.remote.artery.transport");
    if (!transport.equals("tcp") && !transport.equals("tls-tcp")) {
      log.info("pidspace.crash-downing is off: remoting over {} has no port that refuses connections", transport);
      return;
    }
    system.systemActorOf(behavior(), "pidspace-crash-downing", Props.empty());
  }

  private enum Tick { INSTANCE }

  private record Probed(Address member, boolean refused) {}

  private static Behavior<Object> behavior() {
    return Behaviors.setup(ctx -> {
      Cluster cluster = Cluster.get(ctx.getSystem());
      // A connect blocks up to its timeout: on a thread of its own, never on a dispatcher's.
      ExecutorService prober = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pidspace-crash-probe");
        t.setDaemon(true);
        return t;
      });
      Set<Address> probing = new HashSet<>();
      return Behaviors.withTimers(timers -> {
        timers.startTimerWithFixedDelay(Tick.INSTANCE, PROBE_INTERVAL);
        return Behaviors.receive(Object.class)
            .onMessageEquals(Tick.INSTANCE, () -> {
              for (Member m : cluster.state().getUnreachable()) {
                if (voter(m) && probing.add(m.address())) {
                  Address member = m.address();
                  ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> refuses(member), prober),
                      (refused, failure) -> new Probed(member, Boolean.TRUE.equals(refused)));
                }
              }
              return Behaviors.same();
            })
            .onMessage(Probed.class, p -> {
              probing.remove(p.member());
              if (p.refused()) {
                downIfCrashed(cluster, p.member());
              }
              return Behaviors.same();
            })
            .onSignal(PostStop.class, s -> {
              prober.shutdownNow();
              return Behaviors.same();
            })
            .build();
      });
    });
  }

  private static void downIfCrashed(Cluster cluster, Address address) {
    ClusterEvent.CurrentClusterState state = cluster.state();
    int voters = 0;
    int unreachableVoters = 0;
    boolean stillUnreachable = false;
    for (Member m : state.getMembers()) {
      if (voter(m)) {
        voters++;
        if (state.getUnreachable().contains(m)) {
          unreachableVoters++;
          stillUnreachable |= m.address().equals(address);
        }
      }
    }
    if (!stillUnreachable) {
      return; // reachable again, or already downed or leaving
    }
    if (2 * (voters - unreachableVoters) <= voters) {
      log.info("{} is unreachable and its port refuses connections, but this node sees no majority: the split"
          + " brain resolver decides", address);
      return;
    }
    log.warn("{} is unreachable and its port refuses connections: its process is gone; downing it now", address);
    cluster.manager().tell(new Down(address));
  }

  /** Up (or WeaklyUp, Leaving): a member the resolver would weigh and down; not one on its way out. */
  private static boolean voter(Member m) {
    MemberStatus s = m.status();
    return s == MemberStatus.up() || s == MemberStatus.weaklyUp() || s == MemberStatus.leaving();
  }

  private static boolean refuses(Address member) {
    String host = member.getHost().orElse(null);
    Integer port = member.getPort().orElse(null);
    if (host == null || port == null) {
      return false;
    }
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
      return false;
    } catch (ConnectException refused) {
      return true;
    } catch (IOException | RuntimeException other) {
      return false; // timed out, no route, unresolved: not proof that the process is gone
    }
  }
}
