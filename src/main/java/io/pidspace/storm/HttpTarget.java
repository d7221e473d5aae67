package io.pidspace.storm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.Refusal;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A running cluster as a storm target: every call is a request to one of its nodes' HTTP API,
 * sent asynchronously on that node's {@link NodeClient} so forkers never block.
 *
 * <p>Each space has a home node among the {@code --url}s (its id modulo their number): its allocs
 * and the frees of its pids go there, as a container's agent keeps to one node. Requests for one
 * space spread over two nodes make two runs a turn, each node's, and each waits for the other's
 * write (docs/benchmarks.md: two nodes did 0.46 of one so). Creates go round robin; an alloc
 * whose outcome is unknown is asked again on the next node.
 *
 * <p>At most {@link #MAX_IN_FLIGHT} requests a node are in flight; what arrives meanwhile waits, and
 * leaves batched, as an agent that serves many processes would send it: the allocs waiting for
 * one space as one {@code POST /v1/spaces/{id}/pids?count=N}, the frees waiting for one node as one {@code
 * POST /v1/pids:free}. Nothing waits for a batch to fill: a lone request leaves as soon as a
 * request slot is free, so a light load sees single requests and a heavy one fewer, larger ones.
 *
 * <p>Each free names the generation its pid's alloc was answered with, as a client that retries
 * must (docs/http.md): a free that reached a pid allocated again since is refused {@code stale-handle}.
 *
 * <p>Every alloc request carries an idempotency key of its own (docs/http.md); one whose outcome
 * is unknown (no answer, 503) is sent again with that key up to {@link #ALLOC_RETRIES} times, to
 * the next node, so a lost answer neither leaks its pids nor fails the forks waiting for them.
 */
final class HttpTarget implements StormTarget {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  /** Alloc and free requests in flight at once per node; creates and destroys go outside them. */
  static final int MAX_IN_FLIGHT = 16;
  /** Most pids one batched request carries (the node takes up to {@code pidspace.max-batch}, 10,000 by default). */
  static final int MAX_BATCH = 1_000;
  /** The key under which waiting frees queue; space ids key the allocs. */
  private static final Object FREES = new Object();
  /** How often an alloc of unknown outcome is asked again (with its key), after 100 ms, then 200 ms. */
  static final int ALLOC_RETRIES = 2;
  private static final long RETRY_BACKOFF_MILLIS = 100;

  // Keys: this target's random prefix and a sequence number, unique without a UUID per request.
  private final String keyPrefix = java.util.UUID.randomUUID() + ".";
  private long keys; // guarded by this
  private final boolean keyed;

  private final List<String> urls;
  private final List<NodeClient> nodes = new ArrayList<>();
  // Guarded by this. Per node: what waits for its request slots, a key per batch in the order
  // they came (a space id, or FREES), the frees waiting, and its requests in flight.
  private final List<ArrayDeque<Object>> order = new ArrayList<>();
  private final List<List<Free>> frees = new ArrayList<>();
  private final int[] inFlight;
  private final Map<Integer, List<CompletableFuture<Integer>>> allocs = new HashMap<>(); // by space
  private final Map<Integer, Issued> issued = new HashMap<>(); // the pids handed out and not yet freed
  private int next; // round robin for creates and frees of pids not issued here
  private int drained; // the node the next drain looks at first, so none starves

  /** {@code generation}: the one the alloc answered, 0 for none known. */
  private record Free(int pid, int generation, CompletableFuture<Void> done) {}

  private record Issued(int space, int generation) {}

  /** Checks that every node answers before the storm starts. Blocks: call it outside actors. */
  HttpTarget(List<String> urls, String token, boolean keyed) {
    this.keyed = keyed;
    this.urls = urls.stream().map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u).toList();
    inFlight = new int[this.urls.size()];
    try {
      for (String url : this.urls) {
        nodes.add(check(url, token == null ? "" : token));
        order.add(new ArrayDeque<>());
        frees.add(new ArrayList<>());
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
    return single("POST", "/v1/spaces", "{\"pidMax\": " + pidMax + "}", json -> json.get("id").asInt());
  }

  @Override
  public CompletionStage<Void> destroySpace(int space) {
    return single("DELETE", "/v1/spaces/" + space, null, json -> null);
  }

  @Override
  public CompletionStage<Integer> alloc(int space) {
    CompletableFuture<Integer> pid = new CompletableFuture<>();
    synchronized (this) {
      allocs.computeIfAbsent(space, s -> {
        order.get(home(s)).add(s);
        return new ArrayList<>();
      }).add(pid);
    }
    drain();
    return pid;
  }

  @Override
  public CompletionStage<Void> free(int pid) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    synchronized (this) {
      Issued handle = issued.remove(pid);
      int node = handle == null ? nextNode() : home(handle.space);
      if (frees.get(node).isEmpty()) {
        order.get(node).add(FREES);
      }
      frees.get(node).add(new Free(pid, handle == null ? 0 : handle.generation, done));
    }
    drain();
    return done;
  }

  @Override
  public void close() {
    nodes.forEach(NodeClient::close);
  }

  /**
   * A create or destroy: sent at once, outside the request slots. A create may wait seconds for
   * the registry (docs/protocol.md), and slots held by those would stall every fork.
   */
  private <T> CompletionStage<T> single(String method, String path, String body, Function<JsonNode, T> answer) {
    int node;
    synchronized (this) {
      node = nextNode();
    }
    return send(node, method, path, body, false).thenApply(answer);
  }

  /** Sends what waits, a batch per key, while fewer than {@link #MAX_IN_FLIGHT} requests of its node are in flight. */
  private void drain() {
    while (true) {
      List<CompletableFuture<Integer>> pids = null;
      List<Free> freeing = null;
      int node = -1;
      int space = 0;
      synchronized (this) {
        for (int i = 0; i < nodes.size() && node < 0; i++) {
          int n = (drained + i) % nodes.size();
          if (inFlight[n] < MAX_IN_FLIGHT && !order.get(n).isEmpty()) {
            node = n;
          }
        }
        if (node < 0) {
          return;
        }
        drained = (node + 1) % nodes.size();
        ArrayDeque<Object> waiting = order.get(node);
        if (waiting.poll() instanceof Integer s) {
          space = s;
          pids = take(allocs.get(space));
          if (allocs.get(space).isEmpty()) {
            allocs.remove(space);
          } else {
            waiting.add(space);
          }
        } else {
          freeing = take(frees.get(node));
          if (!frees.get(node).isEmpty()) {
            waiting.add(FREES);
          }
        }
        inFlight[node]++;
      }
      if (pids != null) {
        sendAllocs(node, space, pids);
      } else {
        sendFrees(node, freeing);
      }
    }
  }

  /** The node a space's allocs and frees go to; called holding this. */
  private int home(int space) {
    return Math.floorMod(space, nodes.size());
  }

  /** Round robin over the nodes; called holding this. */
  private int nextNode() {
    int node = next;
    next = (next + 1) % nodes.size();
    return node;
  }

  /** Up to {@link #MAX_BATCH} of the oldest waiting, taken out of {@code waiting}. */
  private static <T> List<T> take(List<T> waiting) {
    List<T> head = waiting.subList(0, Math.min(MAX_BATCH, waiting.size()));
    List<T> taken = new ArrayList<>(head);
    head.clear();
    return taken;
  }

  /** One alloc request for them all; when the space runs out part way, the rest are refused as exhausted. */
  private void sendAllocs(int node, int space, List<CompletableFuture<Integer>> pids) {
    String path = "/v1/spaces/" + space + "/pids" + (pids.size() == 1 ? "" : "?count=" + pids.size());
    String key = null;
    if (keyed) {
      synchronized (this) {
        key = keyPrefix + Long.toString(++keys, 36);
      }
    }
    keyedAlloc(node, path, key, keyed ? ALLOC_RETRIES : 0, true).whenComplete((json, failure) -> {
      JsonNode got = failure == null ? json.get("pids") : null;
      if (got != null && got.isArray()) {
        synchronized (this) {
          for (int i = 0; i < got.size(); i++) {
            issued.put(got.get(i).asInt(), new Issued(space, json.path("generations").path(i).asInt(0)));
          }
        }
      }
      for (int i = 0; i < pids.size(); i++) {
        if (failure != null) {
          pids.get(i).completeExceptionally(failure);
        } else if (got == null || !got.isArray()) {
          pids.get(i).completeExceptionally(PidspaceException.unavailable("the node's answer has no pids"));
        } else if (i < got.size()) {
          pids.get(i).complete(got.get(i).asInt());
        } else {
          pids.get(i).completeExceptionally(new PidspaceException(PidspaceException.Code.SPACE_EXHAUSTED,
              "space " + space + " ran out of free pids within a batch of " + pids.size()));
        }
      }
    });
  }

  /**
   * The alloc request with {@code key} (null: none); a failure of unknown outcome ({@code unavailable}: no
   * answer, or 503) is asked again with the same key on the next node, {@code retries} times more.
   */
  private CompletableFuture<JsonNode> keyedAlloc(int node, String path, String key, int retries, boolean slotted) {
    CompletableFuture<JsonNode> result = new CompletableFuture<>();
    send(node, "POST", path, null, key, slotted).whenComplete((json, failure) -> {
      if (failure == null) {
        result.complete(json);
      } else if (retries > 0 && failure instanceof PidspaceException refused
          && refused.code() == PidspaceException.Code.UNAVAILABLE) {
        int other = (node + 1) % nodes.size();
        long backoff = RETRY_BACKOFF_MILLIS << (ALLOC_RETRIES - retries);
        // outside the request slots, as a create is: a node that does not answer must not stall the rest
        CompletableFuture.delayedExecutor(backoff, TimeUnit.MILLISECONDS).execute(() ->
            keyedAlloc(other, path, key, retries - 1, false).whenComplete((again, still) -> {
              if (still == null) {
                result.complete(again);
              } else {
                result.completeExceptionally(still);
              }
            }));
      } else {
        result.completeExceptionally(failure);
      }
    });
    return result;
  }

  /** One batch free for them all; each refused pid fails with its own reason. */
  private void sendFrees(int node, List<Free> freeing) {
    if (freeing.size() == 1) {
      Free one = freeing.get(0);
      String query = one.generation == 0 ? "" : "?generation=" + one.generation;
      send(node, "DELETE", "/v1/pids/" + one.pid + query, null, true).whenComplete((json, failure) -> {
        if (failure != null) {
          one.done.completeExceptionally(failure);
        } else {
          one.done.complete(null);
        }
      });
      return;
    }
    StringBuilder body = new StringBuilder(32 + 22 * freeing.size()).append("{\"pids\":[");
    for (int i = 0; i < freeing.size(); i++) {
      body.append(i == 0 ? "" : ",").append(freeing.get(i).pid);
    }
    body.append("],\"generations\":[");
    for (int i = 0; i < freeing.size(); i++) {
      body.append(i == 0 ? "" : ",").append(freeing.get(i).generation);
    }
    send(node, "POST", "/v1/pids:free", body.append("]}").toString(), true).whenComplete((json, failure) -> {
      Map<Integer, PidspaceException> refused = new HashMap<>();
      if (failure == null) {
        for (JsonNode r : json.path("refused")) {
          refused.put(r.path("pid").asInt(), refusal(r.path("error").asText(), r.path("message").asText()).exception());
        }
      }
      for (Free f : freeing) {
        PidspaceException why = refused.get(f.pid);
        if (failure != null) {
          f.done.completeExceptionally(failure);
        } else if (why != null) {
          f.done.completeExceptionally(why);
        } else {
          f.done.complete(null);
        }
      }
    });
  }

  /**
   * One request; answers its JSON body, or fails with the node's refusal or UNAVAILABLE. A request
   * that held a slot ({@code slotted}) gives it to what waits first.
   */
  private CompletableFuture<JsonNode> send(int node, String method, String path, String body, boolean slotted) {
    return send(node, method, path, body, null, slotted);
  }

  private CompletableFuture<JsonNode> send(int node, String method, String path, String body, String key,
      boolean slotted) {
    String url = urls.get(node);
    CompletableFuture<JsonNode> result = new CompletableFuture<>();
    nodes.get(node).send(method, path, body, key).whenComplete((r, failure) -> {
      if (slotted) {
        synchronized (this) {
          inFlight[node]--;
        }
        drain();
      }
      if (failure != null) {
        result.completeExceptionally(new PidspaceException(
            PidspaceException.Code.UNAVAILABLE, "no answer from " + url + ": " + failure.getMessage()));
        return;
      }
      JsonNode json = parse(r.body());
      if (r.status() / 100 != 2) {
        result.completeExceptionally(
            refusal(json.path("error").asText("http-" + r.status()), json.path("message").asText(r.body())).exception());
      } else {
        result.complete(json);
      }
    });
    return result;
  }

  /** The refusal an error names; a code this client does not know is unavailable, the text kept. */
  private static Refusal refusal(String word, String message) {
    PidspaceException.Code code = PidspaceException.Code.ofWire(word);
    return code != null ? new Refusal(code, message) : new Refusal(PidspaceException.Code.UNAVAILABLE, word + ": " + message);
  }

  private static JsonNode parse(String body) {
    try {
      return body.isEmpty() ? JSON.missingNode() : JSON.readTree(body);
    } catch (IOException e) {
      return JSON.missingNode();
    }
  }
}
