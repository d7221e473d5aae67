package io.pidspace.storm;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.PidLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * What a real-clock storm drives: an allocator seen through four calls. A refusal completes the
 * stage exceptionally with a {@link io.pidspace.core.PidspaceException} ({@code space-exhausted}
 * when a space is full). Targets that start an actor system leave Ctrl-C to the storm: it stops
 * early and reports, then closes its target.
 */
public interface StormTarget extends AutoCloseable {

  /** How the summary names this target. */
  String name();

  /** A new space with the lowest free id; answers its id. */
  CompletionStage<Integer> createSpace(int pidMax);

  /** Frees every pid of the space and makes its id reusable. */
  CompletionStage<Void> destroySpace(int space);

  /** One global pid. */
  CompletionStage<Integer> alloc(int space);

  /** Frees a global pid; its space comes from the shift decode. */
  CompletionStage<Void> free(int pid);

  @Override
  void close();

  /** pidspace embedded and in memory: its own one-node cluster, ready when this returns. */
  static StormTarget inMemory() {
    return new AuthorityTarget("pidspace in-memory", PidAuthority.start(ConfigFactory.parseMap(Map.of(
        "akka.coordinated-shutdown.run-by-jvm-shutdown-hook", "off"))));
  }

  /**
   * pidspace embedded and durable: an H2 file journal under {@code dataDir}, with group commit,
   * unless {@code pidspace.jdbc.url} names PostgreSQL ({@code -Dconfig.file=conf/postgres.conf}).
   * The database closes with the target, not on the JVM's shutdown hook (reference.conf), so the
   * storm's drain after Ctrl-C is still stored.
   */
  static StormTarget durable(Path dataDir) {
    Config config = ConfigFactory.parseMap(Map.of(
        "akka.coordinated-shutdown.run-by-jvm-shutdown-hook", "off",
        "pidspace.persistence", "jdbc",
        "pidspace.data-dir", dataDir.toAbsolutePath().toString()));
    PidAuthority authority = PidAuthority.start(config);
    boolean postgres = authority.system().settings().config().getString("pidspace.jdbc.url").startsWith("jdbc:postgresql:");
    return new AuthorityTarget(postgres ? "pidspace durable (PostgreSQL)" : "pidspace durable (H2 file)", authority);
  }

  /** A running cluster through its nodes' HTTP API; every URL must answer before the storm starts. */
  static StormTarget cluster(List<String> urls, String token) {
    return cluster(urls, token, true);
  }

  /** As {@link #cluster(List, String)}; {@code keys}: allocs carry idempotency keys and retry an unknown outcome. */
  static StormTarget cluster(List<String> urls, String token, boolean keys) {
    return new HttpTarget(urls, token, keys);
  }

  /** The seed's design in plain Java ({@link io.pidspace.baseline.SeedPidmap}), for {@code --compare}. */
  static StormTarget baseline() {
    return new BaselineTarget(PidLayout.DEFAULT);
  }
}
