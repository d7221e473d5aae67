package io.pidspace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/** One real node JVM started from the built jar, and a small HTTP client for its API. */
final class NodeProcess {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final ObjectMapper JSON = new ObjectMapper();

  final String name;
  final int port;
  final int httpPort;
  final int managementPort;
  private final List<String> args;
  /** Environment variables of the node's JVM on top of this one's, e.g. PIDSPACE_JDBC_URL. */
  final Map<String, String> env = new HashMap<>();
  private final Path log;
  private Process process;
  /** The Linux user the JVM runs as (a root test's iptables rules match it), or null: this one's. */
  String user;

  NodeProcess(String name, int port, List<Integer> seedPorts, List<String> settings, Path logDir) {
    this.name = name;
    this.port = port;
    this.httpPort = freePort();
    this.managementPort = freePort();
    this.log = logDir.resolve(name + ".log");
    List<String> a = new ArrayList<>(List.of("java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    settings.forEach(s -> a.add("-D" + s));
    a.addAll(List.of("-jar", System.getProperty("pidspace.jar", "target/pidspace.jar"), "node"));
    // the node refuses --config beside -Dconfig.file (or .resource, .url): which one was meant is a guess
    if (settings.stream().noneMatch(s -> s.matches("config\\.(file|resource|url)=.*"))) {
      a.addAll(List.of("--config", "conf/application.conf"));
    }
    a.addAll(List.of(
        "--port", Integer.toString(port),
        "--http-port", Integer.toString(httpPort),
        "--management-port", Integer.toString(managementPort)));
    seedPorts.forEach(p -> a.addAll(List.of("--seed", "127.0.0.1:" + p)));
    this.args = a;
  }

  /** Ports handed out in this JVM: a node that is down keeps its ports for its restart. */
  private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

  /**
   * A port free now, below the kernel's ephemeral range (32768-60999 by default). {@code new
   * ServerSocket(0)} gives an ephemeral port, which any outgoing connection on the machine (a
   * node's, JDBC's, a second build's) may take before the node binds it or while a killed node
   * restarts: ClusterIT's node-1 once failed to start so, with a second build running.
   */
  static int freePort() {
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(20_000, 32_000);
      if (!GIVEN.add(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        return port;
      } catch (IOException taken) {
        // in use: another
      }
    }
    throw new IllegalStateException("no free port between 20000 and 31999");
  }

  void start() throws IOException {
    List<String> command = new ArrayList<>();
    if (user != null) {
      // env after the switch: a preloaded library (libfaketime) is loaded by the JVM only, not by root's setpriv
      command.addAll(List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups", "--", "env"));
      env.forEach((k, v) -> command.add(k + "=" + v));
    }
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    if (user == null) {
      builder.environment().putAll(env);
    }
    process = builder.start();
  }

  /** Waits until /ready says yes: the node is Up and the registry answers through the journal. */
  void awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
      }
      try {
        HttpResponse<String> r = HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/ready"))
                .timeout(Duration.ofSeconds(3)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException(name + " was not ready within " + timeout + "; see " + log);
  }

  /** kill -9: no leave, no shutdown hook. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the node leaves the cluster gracefully and exits. */
  void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(name + " did not stop within 60 s of SIGTERM; see " + log);
    }
  }

  /** SIGSTOP: the JVM freezes as a long GC pause or a stalled VM would; it keeps its sockets. */
  void pause() throws Exception {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  void resume() throws Exception {
    signal("CONT");
  }

  private void signal(String name) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /** Waits up to {@code timeout} for the JVM to exit; whether it did. */
  boolean awaitExit(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The exit status, once {@link #awaitExit} said it exited. */
  int exitValue() {
    return process.exitValue();
  }

  /** The log of every run of this node so far. */
  String log() throws IOException {
    return Files.readString(log);
  }

  /** How many lines of this node's log (every run of it so far) contain {@code text}. */
  long logged(String text) throws IOException {
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains(text)).count();
    }
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** Sends a request to this node's API; the answer's status and JSON body (null when empty). */
  Answer call(String method, String path, String body) throws IOException, InterruptedException {
    return call(method, path, body, Duration.ofSeconds(15));
  }

  /** As {@link #call(String, String, String)}, waiting at most {@code timeout} for the answer. */
  Answer call(String method, String path, String body, Duration timeout) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build());
  }

  /** A {@code POST path} without a body, with {@code Idempotency-Key: key}. */
  Answer postKeyed(String path, String key, Duration timeout) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
        .timeout(timeout)
        .header("Idempotency-Key", key)
        .POST(HttpRequest.BodyPublishers.noBody())
        .build());
  }

  private static Answer send(HttpRequest request) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r.body().isEmpty() ? null : JSON.readTree(r.body()),
        r.headers().firstValue("Retry-After").orElse(null));
  }

  /** {@code retryAfter}: the Retry-After header, or null. */
  record Answer(int status, JsonNode json, String retryAfter) {}

  @Override
  public String toString() {
    return name + "(artery " + port + ", http " + httpPort + ")";
  }
}
