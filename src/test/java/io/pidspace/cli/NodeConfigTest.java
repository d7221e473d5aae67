package io.pidspace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.discovery.Discovery;
import akka.discovery.ServiceDiscovery;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The config a node runs with: which file (--config, -Dconfig.file and its kin, conf/application.conf),
 * the shipped conf/ files, and the build's version as Akka's app-version.
 */
class NodeConfigTest {

  private static Config config(String... args) {
    NodeCommand node = new NodeCommand();
    new CommandLine(node).parseArgs(args);
    return node.nodeConfig();
  }

  /** {@code system}: the system properties, given as "key=value". */
  private static NodeCommand.Loaded load(List<String> system, String... args) {
    NodeCommand node = new NodeCommand();
    new CommandLine(node).parseArgs(args);
    Properties properties = new Properties();
    system.forEach(p -> properties.setProperty(p.substring(0, p.indexOf('=')), p.substring(p.indexOf('=') + 1)));
    return NodeCommand.load(node.options(), node.configFile, properties);
  }

  private static final boolean JDBC_URL_FROM_ENV = System.getenv("PIDSPACE_JDBC_URL") != null;

  @Test
  void load_nothingNamed_readsConfApplicationConf() {
    NodeCommand.Loaded loaded = load(List.of());
    assertEquals("conf/application.conf (the default)", loaded.source());
    assertEquals("jdbc", loaded.config().getString("pidspace.persistence"));
    assertEquals("org.h2.Driver", loaded.config().getString("pidspace.jdbc.driver"));
  }

  @Test
  void load_confDirWithoutApplicationConf_runsOnTheDefaults(@TempDir Path empty) {
    NodeCommand.Loaded loaded = load(List.of("pidspace.conf-dir=" + empty));
    assertEquals("none (the defaults)", loaded.source());
    assertEquals("jdbc", loaded.config().getString("pidspace.persistence"), "pidspace-node.conf: a node is durable");
  }

  /** README's and conf/postgres.conf's own form: Typesafe Config's convention, over conf/application.conf. */
  @Test
  void load_configFile_winsOverTheDefault() {
    NodeCommand.Loaded loaded = load(List.of("config.file=conf/postgres.conf"));
    assertEquals("conf/postgres.conf, conf/application.conf (-Dconfig.file)", loaded.source());
    assertPostgres(loaded.config());
  }

  @Test
  void load_configOption_readsThatFile() {
    NodeCommand.Loaded loaded = load(List.of(), "--config", "conf/postgres.conf");
    assertEquals("conf/postgres.conf, conf/application.conf (--config)", loaded.source());
    assertPostgres(loaded.config());
  }

  @Test
  void load_configUrlAndConfigResource_areReadToo() {
    NodeCommand.Loaded url = load(List.of("config.url=" + Path.of("conf/postgres.conf").toUri()));
    String postgresConf = Path.of("conf/postgres.conf").toAbsolutePath().toString();
    assertEquals(postgresConf + ", " + Path.of("conf/application.conf").toAbsolutePath() + " (-Dconfig.url)", url.source());
    assertPostgres(url.config());
    NodeCommand.Loaded resource = load(List.of("config.resource=/application-test.conf"));
    assertEquals("application-test.conf (-Dconfig.resource)", resource.source());
    assertEquals("WARNING", resource.config().getString("akka.loglevel"));
  }

  /** The file named first, then what it includes. */
  @Test
  void load_aFileThatIncludesOthers_isNamedFirst() {
    assertEquals("conf/bootstrap.conf, conf/application.conf (-Dconfig.file)",
        load(List.of("config.file=conf/bootstrap.conf")).source());
    assertEquals("conf/kubernetes.conf, conf/postgres.conf, conf/application.conf (--config)",
        load(List.of(), "--config", "conf/kubernetes.conf").source());
  }

  @Test
  void load_systemPropertiesAndOptions_areAboveTheFile() {
    Config config = load(List.of("config.file=conf/postgres.conf", "pidspace.jdbc.user=someone"),
        "--port", "25999").config();
    assertEquals("someone", config.getString("pidspace.jdbc.user"));
    assertEquals(25999, config.getInt("akka.remote.artery.canonical.port"));
    // --data-dir reaches the default H2 URL: the library defaults resolve with everything above them
    Config h2 = load(List.of(), "--data-dir", "/tmp/elsewhere").config();
    assertTrue(h2.getString("pidspace.jdbc.url").startsWith("jdbc:h2:file:/tmp/elsewhere/pidspace;"),
        h2.getString("pidspace.jdbc.url"));
  }

  @Test
  void load_configOptionAndConfigFile_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> load(List.of("config.file=conf/postgres.conf"), "--config", "conf/application.conf"));
    assertEquals("--config conf/application.conf and -Dconfig.file=conf/postgres.conf both name the node's config "
        + "file; give one of them", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> load(List.of("config.file=conf/postgres.conf", "config.resource=application-test.conf")));
    assertTrue(e.getMessage().startsWith(
        "-Dconfig.file=conf/postgres.conf and -Dconfig.resource=application-test.conf both name"), e.getMessage());
  }

  @Test
  void load_aFileThatIsNotThere_fails() {
    ConfigException e = assertThrows(ConfigException.class, () -> load(List.of("config.file=conf/postgress.conf")));
    assertTrue(e.getMessage().contains("conf/postgress.conf"), e.getMessage());
    assertThrows(ConfigException.class, () -> load(List.of(), "--config", "conf/postgress.conf"));
  }

  /** The command as a user runs it: both forms at once is a usage error, before anything starts. */
  @Test
  void node_configOptionAndConfigFile_isAUsageError() {
    StringWriter err = new StringWriter();
    System.setProperty("config.file", "conf/postgres.conf");
    int status;
    try {
      status = Main.commandLine().setErr(new PrintWriter(err, true)).execute("node", "--config", "conf/application.conf");
    } finally {
      System.clearProperty("config.file");
      ConfigFactory.invalidateCaches();
    }
    assertEquals(2, status, err.toString());
    assertTrue(err.toString().startsWith("pidspace node: --config conf/application.conf and -Dconfig.file=conf/postgres.conf"
        + " both name the node's config file; give one of them"), err.toString());
    assertTrue(err.toString().strip().endsWith("Try 'pidspace node --help' for more information."), err.toString());
  }

  private static void assertPostgres(Config config) {
    assertEquals("org.postgresql.Driver", config.getString("pidspace.jdbc.driver"));
    assertEquals("slick.jdbc.PostgresProfile$", config.getString("pidspace.jdbc.profile"));
    if (!JDBC_URL_FROM_ENV) {
      assertEquals("jdbc:postgresql://127.0.0.1:5432/pidspace?connectTimeout=10", config.getString("pidspace.jdbc.url"));
    }
    assertEquals("jdbc", config.getString("pidspace.persistence"), "postgres.conf includes application.conf");
  }

  @Test
  void appVersion_isTheBuilds() {
    assertEquals(PidspaceVersion.get(), config().getString("akka.cluster.app-version"));
  }

  @Test
  void appVersion_aConfigOfItsOwnWins() {
    System.setProperty("akka.cluster.app-version", "7.1.0");
    ConfigFactory.invalidateCaches();
    try {
      assertEquals("7.1.0", config().getString("akka.cluster.app-version"));
    } finally {
      System.clearProperty("akka.cluster.app-version");
      ConfigFactory.invalidateCaches();
    }
  }

  @Test
  void kubernetesConf_bootstrapsThroughTheKubernetesApi() throws Exception {
    Config k8s = config("--config", "conf/kubernetes.conf");
    assertTrue(k8s.getBoolean("pidspace.node.bootstrap"));
    assertEquals("kubernetes-api", k8s.getString("akka.discovery.method"));
    assertEquals("kubernetes-api", k8s.getString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
    assertEquals("pidspace", k8s.getString("akka.management.cluster.bootstrap.contact-point-discovery.service-name"));
    assertEquals("org.postgresql.Driver", k8s.getString("pidspace.jdbc.driver"), "a cluster shares one journal");
    assertEquals("127.0.0.1", k8s.getString("akka.management.http.hostname"), "without POD_IP, loopback as ever");

    // The discovery the file names loads on this Akka and resolves through the Kubernetes API:
    // outside a pod it says what it is missing rather than finding nobody.
    Config local = ConfigFactory.parseString("akka.actor.provider = local\nakka.coordinated-shutdown.exit-jvm = off").withFallback(k8s);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "k8s-conf", local);
    try {
      ServiceDiscovery discovery = Discovery.get(system).discovery();
      assertEquals("akka.discovery.kubernetes.KubernetesApiServiceDiscovery", discovery.getClass().getName());
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> discovery.lookup("pidspace", Duration.ofSeconds(5)).toCompletableFuture().get());
      assertTrue(String.valueOf(e.getCause().getMessage()).contains("/var/run/secrets/kubernetes.io/serviceaccount/"), e.getCause().toString());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get();
    }
  }
}
