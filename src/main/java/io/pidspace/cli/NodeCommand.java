package io.pidspace.cli;

import akka.Done;
import akka.actor.AddressFromURIString;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.cluster.typed.JoinSeedNodes;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import io.pidspace.api.PidAuthority;
import io.pidspace.http.HttpSettings;
import io.pidspace.http.PidspaceHttp;
import io.pidspace.space.JournalIdentity;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = {
      "Runs one node of the pid authority: a cluster member that hosts spaces, the JSON HTTP API with its "
          + "/dashboard, and on the management port the health endpoints (/alive, /ready) and Prometheus "
          + "/metrics. Alone it forms a cluster of its own; with --seed it joins one.",
      "Config, from the top: -D…, the options below, the config file, then the defaults. The file: --config "
          + "FILE, or -Dconfig.file=FILE (-Dconfig.resource, -Dconfig.url) as for any Akka application (not both), "
          + "else conf/application.conf when present.",
      "Every node of a cluster must share one journal (PostgreSQL, or an H2 TCP server): the cluster refuses a "
          + "node whose journal is another one.",
      "Ctrl-C (or SIGTERM) leaves the cluster gracefully and stops the node."
    })
final class NodeCommand implements Callable<Integer> {

  /** The node's lifecycle at INFO (joined, serving, leaving, left): the logback configs show this logger. */
  private static final Logger LIFECYCLE = LoggerFactory.getLogger("io.pidspace.node");

  @Option(names = "--config", description = "HOCON node config. Default: -Dconfig.file (-Dconfig.resource, "
      + "-Dconfig.url) when given, else conf/application.conf if it exists (bin/pidspace: the distribution's conf/).")
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

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Loaded loaded;
    try {
      loaded = load(options(), configFile, System.getProperties());
    } catch (IllegalArgumentException twoFiles) {
      throw new ParameterException(spec.commandLine(), twoFiles.getMessage());
    } catch (ConfigException e) {
      System.err.println("pidspace node: cannot read the config: " + e.getMessage());
      return 1;
    }
    Config config;
    try {
      // before the system exists: the join check compares it
      config = PidAuthority.withJournalIdentity(loaded.config());
    } catch (RuntimeException e) {
      System.err.println("pidspace node: cannot start: " + e.getMessage());
      return 1;
    }
    // seed nodes are joined by join() below, not at start: a refusal must find its log task registered
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "pidspace",
        config.withValue("akka.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of())));
    try {
      PidAuthority authority = PidAuthority.get(system);
      logLifecycle(system, config);
      // the API listens before /ready on the management port can say yes
      InetSocketAddress api = PidspaceHttp.bind(system, authority, HttpSettings.from(config))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      AkkaManagement.get(system).start().toCompletableFuture().get(30, TimeUnit.SECONDS);
      join(system, config);
      String http = "http://" + api.getHostString() + ":" + api.getPort();
      String management = "http://" + config.getString("akka.management.http.hostname") + ":"
          + config.getInt("akka.management.http.port");
      LIFECYCLE.info("pidspace {} node {} serving: HTTP API {}, dashboard {}/dashboard, health {}/ready, metrics {}/metrics, "
          + "journal {}, config {}", PidspaceVersion.get(), Cluster.get(system).selfMember().address(), http, http, management,
          management, journal(config), loaded.source());
    } catch (Exception e) {
      System.err.println("pidspace node: cannot start: " + e.getMessage());
      system.terminate();
      return 1;
    }
    system.getWhenTerminated().toCompletableFuture().join(); // SIGTERM leaves the cluster gracefully
    return exitStatus(system, config);
  }

  /** The journal's URL and identity, as the start line and a refusal name it. */
  private static String journal(Config config) {
    String identity = config.getString(JournalIdentity.PATH);
    return identity.isEmpty() ? "none (memory only)" : config.getString("pidspace.jdbc.url") + " (identity " + identity + ")";
  }

  /**
   * Akka's exit status for the reason the system stopped, the one coordinated shutdown exits with
   * ({@code reason-overrides}): answering the same keeps the JVM's status from depending on which
   * of the two calls System.exit first.
   */
  private static int exitStatus(ActorSystem<?> system, Config config) {
    String path = CoordinatedShutdown.get(system).getShutdownReason()
        .map(reason -> ConfigUtil.joinPath(
            "akka", "coordinated-shutdown", "reason-overrides", reason.getClass().getName(), "exit-code"))
        .filter(config::hasPath)
        .orElse("akka.coordinated-shutdown.exit-code");
    return config.getInt(path);
  }

  /**
   * Joined (this member Up), leaving (coordinated shutdown begins), left (removed from the cluster);
   * refused at join, with what to do: the cluster logs why only on its own side.
   */
  private static void logLifecycle(ActorSystem<?> system, Config config) {
    akka.cluster.Cluster classic = akka.cluster.Cluster.get(system.classicSystem());
    // no member count: the state this callback sees may not list this member as Up yet
    classic.registerOnMemberUp(() -> LIFECYCLE.info("node {} joined the cluster: Up", classic.selfAddress()));
    classic.registerOnMemberRemoved(() -> LIFECYCLE.info("node {} left the cluster", classic.selfAddress()));
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "log-leaving", () -> {
      CoordinatedShutdown.Reason reason = CoordinatedShutdown.get(system).getShutdownReason()
          .orElse(CoordinatedShutdown.unknownReason());
      if (reason == CoordinatedShutdown.incompatibleConfigurationDetectedReason()) {
        LIFECYCLE.error("node {} was refused by the cluster at {}: its config does not match the cluster's. That "
                + "node's log says why (\"Found incompatible settings when [{}] tried to join\"): a journal that is not "
                + "the cluster's (this node's is {}; every node of a cluster must share one: PostgreSQL or an H2 TCP "
                + "server), another pidspace.shift, or a volatile node. Exiting with status {}; see docs/operations.md",
            classic.selfAddress(), String.join(", ", config.getStringList("akka.cluster.seed-nodes")),
            classic.selfAddress(), journal(config), exitStatus(system, config));
      } else {
        LIFECYCLE.info("node {} leaving the cluster ({})", classic.selfAddress(), reason);
      }
      return CompletableFuture.completedFuture(Done.getInstance());
    });
  }

  /** What the command line sets, above the config file. */
  Map<String, Object> options() {
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
    return options;
  }

  /** This node's config, under the JVM's system properties. */
  Config nodeConfig() {
    return load(options(), configFile, System.getProperties()).config();
  }

  /** A node's config, and where its file came from: the files read and what named them. */
  record Loaded(Config config, String source) {}

  /** How any Akka application is told its config file (Typesafe Config's convention). */
  private static final List<String> STANDARD = List.of("config.file", "config.resource", "config.url");

  /**
   * A node's config. From the top: {@code system} (system properties override everything, as in
   * Typesafe Config), {@code options} (the command line), the config file, the build's
   * app-version, pidspace-node.conf, the library defaults (reference.conf). The file is
   * {@code configOption} (--config), else the one {@code -Dconfig.file}, {@code -Dconfig.resource}
   * or {@code -Dconfig.url} names, as for any Akka application, else conf/application.conf under
   * {@code -Dpidspace.conf-dir} (bin/pidspace: the distribution's conf/; else ./conf) when it exists.
   *
   * @throws IllegalArgumentException when two of those name a file: which one was meant is a guess
   * @throws ConfigException when the named file cannot be read or parsed
   */
  static Loaded load(Map<String, Object> options, Path configOption, Properties system) {
    List<String> named = STANDARD.stream()
        .filter(key -> system.getProperty(key) != null)
        .map(key -> "-D" + key + "=" + system.getProperty(key))
        .toList();
    if (configOption != null && !named.isEmpty()) {
      throw new IllegalArgumentException(
          "--config " + configOption + " and " + named.get(0) + " both name the node's config file; give one of them");
    }
    if (named.size() > 1) {
      throw new IllegalArgumentException(String.join(" and ", named) + (named.size() == 2 ? " both" : " all")
          + " name the node's config file; give one of them");
    }
    ConfigParseOptions mustExist = ConfigParseOptions.defaults().setAllowMissing(false);
    Config file;
    String name; // first in the start line, before the files it includes
    String namedBy;
    if (configOption != null) {
      file = ConfigFactory.parseFileAnySyntax(configOption.toFile(), mustExist);
      name = configOption.toString();
      namedBy = "--config";
    } else if (system.getProperty("config.file") != null) {
      name = system.getProperty("config.file");
      file = ConfigFactory.parseFile(new File(name), mustExist);
      namedBy = "-Dconfig.file";
    } else if (system.getProperty("config.resource") != null) {
      String resource = system.getProperty("config.resource");
      name = resource.startsWith("/") ? resource.substring(1) : resource;
      file = ConfigFactory.parseResources(name, mustExist);
      namedBy = "-Dconfig.resource";
    } else if (system.getProperty("config.url") != null) {
      String url = system.getProperty("config.url");
      try {
        file = ConfigFactory.parseURL(new URL(url), mustExist);
      } catch (MalformedURLException e) {
        throw new IllegalArgumentException("-Dconfig.url=" + url + " is not a URL: " + e.getMessage());
      }
      name = file.origin().filename() != null ? file.origin().filename() : url; // as its settings name it
      namedBy = "-Dconfig.url";
    } else {
      Path conf = Path.of(system.getProperty("pidspace.conf-dir", "conf"), "application.conf");
      boolean there = Files.isRegularFile(conf);
      file = there ? ConfigFactory.parseFile(conf.toFile(), mustExist) : ConfigFactory.empty();
      name = there ? conf.toString() : null;
      namedBy = "the default";
    }
    Config overrides = ConfigFactory.parseProperties(system,
        ConfigParseOptions.defaults().setOriginDescription("system properties"));
    if (Boolean.parseBoolean(system.getProperty("config.override_with_env_vars"))) {
      overrides = overrides.withFallback(ConfigFactory.systemEnvironmentOverrides());
    }
    // below the file: a config that sets its own app-version (e.g. a platform's release) wins
    Config config = overrides
        .withFallback(ConfigFactory.parseMap(options))
        .withFallback(file)
        .withFallback(ConfigFactory.parseMap(Map.of("akka.cluster.app-version", appVersion())))
        .withFallback(ConfigFactory.parseResources("pidspace-node.conf"))
        .withFallback(ConfigFactory.defaultReferenceUnresolved())
        .resolve();
    Set<String> sources = new LinkedHashSet<>();
    if (name != null) {
      sources.add(name);
    }
    sources(file.root(), sources);
    return new Loaded(config, sources.isEmpty() ? "none (the defaults)" : String.join(", ", sources) + " (" + namedBy + ")");
  }

  /** Where {@code value}'s settings were read: the file itself and the ones it includes. */
  private static void sources(ConfigValue value, Set<String> into) {
    if (value instanceof ConfigObject object) {
      try {
        object.values().forEach(v -> sources(v, into));
        return;
      } catch (ConfigException.NotResolved mergedWithASubstitution) {
        // its own origin says enough
      }
    }
    ConfigOrigin origin = value.origin();
    String source = origin.resource() != null ? origin.resource()
        : origin.filename() != null ? origin.filename()
        : origin.url() != null ? origin.url().toString() : null;
    if (source != null) {
      into.add(source);
    }
  }

  /** Akka's app-version (rolling updates) is this build's; a development build counts as 0.0.0, Akka's default. */
  static String appVersion() {
    String v = PidspaceVersion.get();
    return Character.isDigit(v.charAt(0)) ? v : "0.0.0";
  }

  /** The seed nodes when there are some; with none, bootstrap (when configured) or this node alone. */
  private static void join(ActorSystem<?> system, Config config) {
    Cluster cluster = Cluster.get(system);
    List<String> seeds = config.getStringList("akka.cluster.seed-nodes");
    if (!seeds.isEmpty()) {
      cluster.manager().tell(new JoinSeedNodes(seeds.stream().map(AddressFromURIString::parse).toList()));
    } else if (config.getBoolean("pidspace.node.bootstrap")) {
      ClusterBootstrap.get(system).start();
    } else {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }
}
