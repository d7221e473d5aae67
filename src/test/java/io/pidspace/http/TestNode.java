package io.pidspace.http;

import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A durable one-node cluster (H2 in memory) with the API and Akka Management on free ports of
 * 127.0.0.1, the management routes as pidspace-node.conf lists them: what {@code pidspace node}
 * serves, in this JVM.
 */
final class TestNode implements AutoCloseable {

  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  final PidAuthority authority;
  final String api;
  final String management;

  TestNode() throws Exception {
    this("jdbc:h2:mem:node-" + DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1", Map.of());
  }

  /** A node on the journal at {@code url} (an H2 one kept open outlives the node), {@code overrides} over the rest. */
  TestNode(String url, Map<String, Object> overrides) throws Exception {
    int managementPort;
    try (ServerSocket free = new ServerSocket(0)) {
      managementPort = free.getLocalPort();
    }
    authority = PidAuthority.start(ConfigFactory.parseMap(overrides).withFallback(ConfigFactory.parseMap(Map.of(
            "pidspace.persistence", "jdbc",
            "pidspace.jdbc.url", url,
            "akka.management.http.hostname", "127.0.0.1",
            "akka.management.http.port", managementPort)))
        .withFallback(ConfigFactory.parseResources("pidspace-node.conf").withOnlyPath("akka.management.http.routes")));
    try {
      AkkaManagement.get(authority.system()).start().toCompletableFuture().get(30, TimeUnit.SECONDS);
      HttpSettings settings = HttpSettings.from(authority.system().settings().config()).withPort(0);
      int apiPort = PidspaceHttp.bind(authority.system(), authority, settings).toCompletableFuture()
          .get(30, TimeUnit.SECONDS).getPort();
      api = "http://127.0.0.1:" + apiPort;
      management = "http://127.0.0.1:" + managementPort;
      authority.spaceIds().toCompletableFuture().get(30, TimeUnit.SECONDS); // the registry has recovered
    } catch (Exception e) {
      authority.close();
      throw e;
    }
  }

  /** {@code method} on the API; {@code body} null sends none. */
  HttpResponse<String> send(String method, String path, String body) throws Exception {
    return request(api, method, path, body);
  }

  static HttpResponse<String> request(String base, String method, String path, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(20))
        .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    return CLIENT.send(request.build(), BodyHandlers.ofString());
  }

  @Override
  public void close() {
    authority.close();
  }
}
