package io.pidspace.cli;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.pidspace.api.PidAuthority;
import io.pidspace.http.HttpSettings;
import io.pidspace.http.PidspaceHttp;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = {
      "Runs one node of the pid authority: a cluster member that hosts spaces, the JSON HTTP API with its "
          + "/dashboard, and on the management port the health endpoints (/alive, /ready) and Prometheus "
          + "/metrics. Alone it forms a cluster of its own; with --seed it joins one.",
      "Config: --config FILE (default conf/application.conf when present), then -D…, then the defaults.",
      "Ctrl-C (or SIGTERM) leaves the cluster gracefully and stops the node."
    })
final class NodeCommand implements Callable<Integer> {

  /** The node's lifecycle at INFO (joined, serving, leaving, left): the logback configs show this logger. */
  private static final Logger LIFECYCLE = LoggerFactory.getLogger("io.pidspace.node");

  @Option(names = "--config", description = "HOCON node config. Default: conf/application.conf if it exists "
      + "(bin/pidspace: the distribution's conf/).")
  Path configFile;

  @Option(names = "--host", description = "Address to bind and advertise. Default: 127.0.0.1.")
  String host;

  @Option(names = "--port", description = "Artery (cluster) port. Default: 25520.")
  Integer port;

  @Option(names = "--http-port", description = "Port of the JSON HTTP API. Default: 8080.")
  Integer httpPort;

  @Option(names = "--management-port", description = "Port of the health endpoints and /metrics. Default: 8558.")
  Integer managementPort;

  @Option(names = "--seed", description = "Seed node host:port, repeatable. Default: none (this node starts a cluster).")
  List<String> seeds;

  @Option(names = "--data-dir", description = "Directory of the H2 journal. Default: ./data.")
  Path dataDir;

  @Option(names = "--persistence", description = "jdbc (default) or none (memory only; refuses to join other nodes).")
  String persistence;

  @Override
  public Integer call() throws Exception {
    Config config = nodeConfig();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "pidspace", config);
    try {
      PidAuthority authority = PidAuthority.get(system);
      logLifecycle(system);
      // the API listens before /ready on the management port can say yes
      InetSocketAddress api = PidspaceHttp.bind(system, authority, HttpSettings.from(config))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      AkkaManagement.get(system).start().toCompletableFuture().get(30, TimeUnit.SECONDS);
      join(system, config);
      String http = "http://" + api.getHostString() + ":" + api.getPort();
      String management = "http://" + config.getString("akka.management.http.hostname") + ":"
          + config.getInt("akka.management.http.port");
      LIFECYCLE.info("pidspace {} node {} serving: HTTP API {}, dashboard {}/dashboard, health {}/ready, metrics {}/metrics, "
          + "journal {}", PidspaceVersion.get(), Cluster.get(system).selfMember().address(), http, http, management,
          management, authority.settings().durable() ? config.getString("pidspace.jdbc.url") : "none (memory only)");
    } catch (Exception e) {
      System.err.println("pidspace node: cannot start: " + e.getMessage());
      system.terminate();
      return 1;
    }
    system.getWhenTerminated().toCompletableFuture().join(); // SIGTERM leaves the cluster gracefully
    return 0;
  }

  /** Joined (this member Up), leaving (coordinated shutdown begins), left (removed from the cluster). */
  private static void logLifecycle(ActorSystem<?> system) {
    akka.cluster.Cluster classic = akka.cluster.Cluster.get(system.classicSystem());
    // no member count: the state this callback sees may not list this member as Up yet
    classic.registerOnMemberUp(() -> LIFECYCLE.info("node {} joined the cluster: Up", classic.selfAddress()));
    classic.registerOnMemberRemoved(() -> LIFECYCLE.info("node {} left the cluster", classic.selfAddress()));
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "log-leaving", () -> {
      LIFECYCLE.info("node {} leaving the cluster ({})", classic.selfAddress(),
          CoordinatedShutdown.get(system).getShutdownReason().map(Object::toString).orElse("shutdown"));
      return CompletableFuture.completedFuture(Done.getInstance());
    });
  }

  Config nodeConfig() {
    Map<String, Object> options = new HashMap<>();
    if (host != null) {
      options.put("akka.remote.artery.canonical.hostname", host);
      options.put("akka.management.http.hostname", host);
      options.put("pidspace.http.interface", host);
    }
    if (port != null) {
      options.put("akka.remote.artery.canonical.port", port);
    }
    if (httpPort != null) {
      options.put("pidspace.http.port", httpPort);
    }
    if (managementPort != null) {
      options.put("akka.management.http.port", managementPort);
    }
    if (seeds != null) {
      options.put("akka.cluster.seed-nodes", seeds.stream().map(s -> "akka://pidspace@" + s).toList());
    }
    if (dataDir != null) {
      options.put("pidspace.data-dir", dataDir.toAbsolutePath().toString());
    }
    if (persistence != null) {
      options.put("pidspace.persistence", persistence);
    }
    // bin/pidspace names its distribution's conf/; run from a checkout, ./conf
    Path file = configFile != null ? configFile
        : Path.of(System.getProperty("pidspace.conf-dir", "conf"), "application.conf");
    Config fileConfig = Files.isRegularFile(file) || configFile != null
        ? ConfigFactory.parseFileAnySyntax(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false))
        : ConfigFactory.empty();
    // below the file: a config that sets its own app-version (e.g. a platform's release) wins
    return ConfigFactory.load(ConfigFactory.parseMap(options)
        .withFallback(fileConfig)
        .withFallback(ConfigFactory.parseMap(Map.of("akka.cluster.app-version", appVersion())))
        .withFallback(ConfigFactory.parseResources("pidspace-node.conf")));
  }

  /** Akka's app-version (rolling updates) is this build's; a development build counts as 0.0.0, Akka's default. */
  static String appVersion() {
    String v = PidspaceVersion.get();
    return Character.isDigit(v.charAt(0)) ? v : "0.0.0";
  }

  /** Static seed nodes join by themselves; with none, bootstrap (when configured) or this node alone. */
  private static void join(ActorSystem<?> system, Config config) {
    if (!config.getStringList("akka.cluster.seed-nodes").isEmpty()) {
      return;
    }
    if (config.getBoolean("pidspace.node.bootstrap")) {
      ClusterBootstrap.get(system).start();
    } else {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }
}
