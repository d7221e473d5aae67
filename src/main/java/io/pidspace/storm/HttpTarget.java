package io.pidspace.storm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pidspace.core.PidspaceException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A running cluster as a storm target: every call is a request to one of its nodes' HTTP API
 * (round robin over {@code --url}), sent asynchronously so forkers never block, each node's on
 * its {@link NodeClient}.
 */
final class HttpTarget implements StormTarget {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  /** Requests in flight at once: the rest wait their turn here rather than open a connection each. */
  private static final int MAX_IN_FLIGHT = 64;

  private final List<String> urls;
  private final List<NodeClient> nodes = new ArrayList<>();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

  /** Checks that every node answers before the storm starts. Blocks: call it outside actors. */
  HttpTarget(List<String> urls, String token) {
    this.urls = urls.stream().map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u).toList();
    try {
      for (String url : this.urls) {
        nodes.add(check(url, token == null ? "" : token));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private static NodeClient check(String url, String token) {
    NodeClient node;
    try {
      node = new NodeClient(url, token, CONNECT_TIMEOUT, TIMEOUT);
    } catch (IllegalArgumentException e) {
      throw PidspaceException.badRequest("no pidspace node answers at " + url + ": " + e.getMessage());
    }
    try {
      NodeClient.Response r = node.send("GET", "/v1/spaces", null).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (r.status() != 200) {
        throw new IOException("it answered HTTP " + r.status());
      }
      return node;
    } catch (IOException | ExecutionException | TimeoutException e) {
      node.close();
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw PidspaceException.badRequest("no pidspace node answers at " + url + ": " + cause.getMessage());
    } catch (InterruptedException e) {
      node.close();
      Thread.currentThread().interrupt();
      throw PidspaceException.badRequest("interrupted while checking " + url);
    }
  }

  @Override
  public String name() {
    return "pidspace cluster (" + urls.size() + (urls.size() == 1 ? " node" : " nodes") + " over HTTP)";
  }

  @Override
  public CompletionStage<Integer> createSpace(int pidMax) {
    return call("POST", "/v1/spaces", "{\"pidMax\": " + pidMax + "}", json -> json.get("id").asInt());
  }

  @Override
  public CompletionStage<Void> destroySpace(int space) {
    return call("DELETE", "/v1/spaces/" + space, null, json -> null);
  }

  @Override
  public CompletionStage<Integer> alloc(int space) {
    return call("POST", "/v1/spaces/" + space + "/pids", null, json -> json.get("pids").get(0).asInt());
  }

  @Override
  public CompletionStage<Void> free(int pid) {
    return call("DELETE", "/v1/pids/" + pid, null, json -> null);
  }

  @Override
  public void close() {
    nodes.forEach(NodeClient::close);
  }

  private <T> CompletionStage<T> call(String method, String path, String body, Function<JsonNode, T> answer) {
    CompletableFuture<T> result = new CompletableFuture<>();
    waiting.add(() -> send(method, path, body, answer, result));
    drain();
    return result;
  }

  /** Starts waiting requests while fewer than {@link #MAX_IN_FLIGHT} are in flight. */
  private void drain() {
    while (true) {
      int n = inFlight.get();
      if (n >= MAX_IN_FLIGHT || waiting.isEmpty()) {
        return;
      }
      if (inFlight.compareAndSet(n, n + 1)) {
        Runnable request = waiting.poll();
        if (request == null) {
          inFlight.decrementAndGet();
        } else {
          request.run();
        }
      }
    }
  }

  private <T> void send(String method, String path, String body, Function<JsonNode, T> answer, CompletableFuture<T> result) {
    int node = Math.floorMod(next.getAndIncrement(), urls.size());
    String url = urls.get(node);
    nodes.get(node).send(method, path, body)
        .whenComplete((r, failure) -> {
          inFlight.decrementAndGet();
          drain();
          if (failure != null) {
            result.completeExceptionally(new PidspaceException(
                PidspaceException.Code.UNAVAILABLE, "no answer from " + url + ": " + failure.getMessage()));
            return;
          }
          JsonNode json = parse(r.body());
          if (r.status() / 100 != 2) {
            result.completeExceptionally(PidspaceException.fromWire(
                json.path("error").asText("http-" + r.status()) + ": " + json.path("message").asText(r.body())));
          } else {
            try {
              result.complete(answer.apply(json));
            } catch (RuntimeException e) {
              result.completeExceptionally(e);
            }
          }
        });
  }

  private static JsonNode parse(String body) {
    try {
      return body.isEmpty() ? JSON.missingNode() : JSON.readTree(body);
    } catch (IOException e) {
      return JSON.missingNode();
    }
  }
}
