package io.pidspace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.discovery.Discovery;
import akka.discovery.ServiceDiscovery;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The config a node runs with: the shipped conf/ files, and the build's version as Akka's app-version. */
class NodeConfigTest {

  private static Config config(String... args) {
    NodeCommand node = new NodeCommand();
    new CommandLine(node).parseArgs(args);
    return node.nodeConfig();
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
