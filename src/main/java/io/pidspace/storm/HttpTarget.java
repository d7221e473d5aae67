package io.pidspace.storm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.Refusal;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A running cluster as a storm target: every call is a request to one of its nodes' HTTP API
 * (round robin over {@code --url}), sent asynchronously so forkers never block.
 */
final class HttpTarget implements StormTarget {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  /** Requests in flight at once: the rest wait their turn here rather than open a connection each. */
  private static final int MAX_IN_FLIGHT = 64;

  private final List<String> urls;
  private final String token;
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

  /** Checks that every node answers before the storm starts. Blocks: call it outside actors. */
  HttpTarget(List<String> urls, String token) {
    this.urls = urls.stream().map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u).toList();
    this.token = token == null ? "" : token;
    for (String url : this.urls) {
      try {
        HttpResponse<String> r = http.send(request(url, "GET", "/v1/spaces", null), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          throw new IOException("it answered HTTP " + r.statusCode());
        }
      } catch (IOException | IllegalArgumentException e) {
        throw PidspaceException.badRequest("no pidspace node answers at " + url + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw PidspaceException.badRequest("interrupted while checking " + url);
      }
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
  public void close() {}

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
    String url = urls.get(Math.floorMod(next.getAndIncrement(), urls.size()));
    http.sendAsync(request(url, method, path, body), HttpResponse.BodyHandlers.ofString())
        .whenComplete((r, failure) -> {
          inFlight.decrementAndGet();
          drain();
          if (failure != null) {
            result.completeExceptionally(new PidspaceException(
                PidspaceException.Code.UNAVAILABLE, "no answer from " + url + ": " + failure.getMessage()));
            return;
          }
          JsonNode json = parse(r.body());
          if (r.statusCode() / 100 != 2) {
            result.completeExceptionally(refusal(r.statusCode(), json, r.body()).exception());
          } else {
            try {
              result.complete(answer.apply(json));
            } catch (RuntimeException e) {
              result.completeExceptionally(e);
            }
          }
        });
  }

  /** The refusal an error body names; a code this client does not know is unavailable, the text kept. */
  private static Refusal refusal(int status, JsonNode json, String body) {
    String word = json.path("error").asText("http-" + status);
    String message = json.path("message").asText(body);
    PidspaceException.Code code = PidspaceException.Code.ofWire(word);
    return code != null ? new Refusal(code, message) : new Refusal(PidspaceException.Code.UNAVAILABLE, word + ": " + message);
  }

  private HttpRequest request(String url, String method, String path, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(TIMEOUT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (!token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    return b.header("Content-Type", "application/json").build();
  }

  private static JsonNode parse(String body) {
    try {
      return body.isEmpty() ? JSON.missingNode() : JSON.readTree(body);
    } catch (IOException e) {
      return JSON.missingNode();
    }
  }
}
