package io.pidspace.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.http.HttpSettings;
import io.pidspace.http.PidspaceHttp;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP target against a real node: many calls at once (more than its request slots, so the
 * ones that wait leave batched) answer each call as one call on its own would be answered.
 */
class HttpTargetTest {

  private static PidAuthority node;
  private static StormTarget target;

  @BeforeAll
  static void start() throws Exception {
    node = PidAuthority.start(ConfigFactory.empty());
    java.net.InetSocketAddress address = PidspaceHttp.bind(node.system(), node,
            HttpSettings.from(node.system().settings().config()).withPort(0))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    target = StormTarget.cluster(List.of("http://127.0.0.1:" + address.getPort()), "");
  }

  @AfterAll
  static void stop() {
    target.close();
    node.close();
  }

  /**
   * A stand-in node that answers an alloc 503 once, then pids: the target asks again with the
   * same key, and the fork gets its pid; each request has a key of its own.
   */
  @Test
  void anAllocOfUnknownOutcome_isAskedAgainWithItsKey() throws Exception {
    List<String> keys = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer standIn = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    standIn.createContext("/", exchange -> {
      boolean alloc = exchange.getRequestMethod().equals("POST");
      if (alloc) {
        keys.add(String.valueOf(exchange.getRequestHeaders().getFirst("Idempotency-Key")));
      }
      boolean unknown = alloc && keys.size() % 2 == 1;
      byte[] body = (!alloc ? "{\"spaces\":[]}" : unknown ? "{\"error\":\"unavailable\",\"message\":\"no answer in time\"}"
          : "{\"pids\":[4194306]}").getBytes();
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(unknown ? 503 : 200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    standIn.start();
    StormTarget retrying = StormTarget.cluster(List.of("http://127.0.0.1:" + standIn.getAddress().getPort()), "");
    try {
      assertEquals(4194306, join(retrying.alloc(1)));
      assertEquals(2, keys.size());
      assertEquals(keys.get(0), keys.get(1));
      assertTrue(keys.get(0).length() <= 64 && keys.get(0).matches("[A-Za-z0-9._:-]+"), keys.get(0));
      assertEquals(4194306, join(retrying.alloc(1)));
      assertEquals(4, keys.size());
      assertEquals(2, keys.stream().distinct().count(), "a new request, a new key: " + keys);
    } finally {
      retrying.close();
      standIn.stop(0);
    }
  }

  /**
   * Two stand-in nodes: each space's allocs and the frees of its pids all go to its home node (its
   * id modulo two), so no space makes runs on two nodes; an alloc whose home node is gone is asked
   * again on the other.
   */
  @Test
  void eachSpaceKeepsToItsHomeNode_andAnAllocMovesOnWhenThatNodeIsGone() throws Exception {
    List<StandIn> standIns = List.of(new StandIn(), new StandIn());
    StormTarget two = StormTarget.cluster(standIns.stream().map(StandIn::url).toList(), "");
    try {
      List<CompletableFuture<Integer>> allocs = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        allocs.add(two.alloc(3 + i % 2).toCompletableFuture()); // spaces 3 and 4, interleaved
      }
      List<CompletableFuture<Void>> frees = new ArrayList<>();
      allocs.forEach(pid -> frees.add(two.free(pid.join()).toCompletableFuture()));
      frees.forEach(CompletableFuture::join);
      for (int node = 0; node < 2; node++) {
        Set<Integer> spaces = standIns.get(node).spaces;
        assertEquals(Set.of(4 - node), spaces, "node " + node + " was sent requests for spaces " + spaces);
      }
      assertEquals(200, standIns.get(0).pids.get() + standIns.get(1).pids.get());
      assertEquals(200, standIns.get(0).freed.get() + standIns.get(1).freed.get());

      standIns.get(1).server.stop(0); // space 3's home
      int pid = join(two.alloc(3));
      assertEquals(3, PidLayout.DEFAULT.spaceOf(pid));
      assertEquals(101, standIns.get(0).pids.get(), "asked again on node 0");
    } finally {
      two.close();
      standIns.forEach(standIn -> standIn.server.stop(0));
    }
  }

  /** Answers allocs with new pids of the space asked, frees with nothing refused; records the spaces it was sent. */
  private static final class StandIn {
    final com.sun.net.httpserver.HttpServer server;
    final Set<Integer> spaces = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final java.util.concurrent.atomic.AtomicInteger pids = new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.atomic.AtomicInteger freed = new java.util.concurrent.atomic.AtomicInteger();

    StandIn() throws java.io.IOException {
      server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/", exchange -> {
        String path = exchange.getRequestURI().getPath();
        String query = String.valueOf(exchange.getRequestURI().getQuery());
        String body = "{\"spaces\":[]}";
        if (path.matches("/v1/spaces/\\d+/pids")) {
          int space = Integer.parseInt(path.split("/")[3]);
          spaces.add(space);
          int count = query.startsWith("count=") ? Integer.parseInt(query.substring(6)) : 1;
          StringBuilder answer = new StringBuilder("{\"pids\":[");
          for (int i = 0; i < count; i++) {
            answer.append(i == 0 ? "" : ",").append(PidLayout.DEFAULT.encode(space, 300 + pids.incrementAndGet()));
          }
          body = answer.append("]}").toString();
        } else if (path.startsWith("/v1/pids")) {
          String freeing = path.equals("/v1/pids:free")
              ? new String(exchange.getRequestBody().readAllBytes()).replaceAll(".*\"pids\":\\[([^]]*)].*", "$1")
              : path.substring("/v1/pids/".length());
          for (String pid : freeing.split(",")) {
            spaces.add(PidLayout.DEFAULT.spaceOf(Integer.parseInt(pid)));
            freed.incrementAndGet();
          }
          body = "{\"refused\":[]}";
        }
        byte[] bytes = body.getBytes();
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
      });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }
  }

  @Test
  void allocsAtOnce_getDistinctPidsUntilTheSpaceRunsOut_thenExhausted() {
    int space = join(target.createSpace(301)); // about 300 free pids
    List<CompletableFuture<Integer>> allocs = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      allocs.add(target.alloc(space).toCompletableFuture());
    }
    Set<Integer> pids = new HashSet<>();
    Map<PidspaceException.Code, Integer> refused = new TreeMap<>();
    for (CompletableFuture<Integer> alloc : allocs) {
      try {
        int pid = alloc.join();
        assertEquals(space, PidLayout.DEFAULT.spaceOf(pid), "pid " + pid + " is of its space");
        assertTrue(pids.add(pid), "pid " + pid + " handed out twice");
      } catch (CompletionException e) {
        refused.merge(refusal(e).code(), 1, Integer::sum);
      }
    }
    assertTrue(pids.size() >= 299 && pids.size() <= 300, pids.size() + " pids");
    assertEquals(Map.of(PidspaceException.Code.SPACE_EXHAUSTED, 400 - pids.size()), refused);

    List<CompletableFuture<Void>> frees = new ArrayList<>();
    pids.forEach(pid -> frees.add(target.free(pid).toCompletableFuture()));
    CompletableFuture<Void> notAllocated = target.free(5).toCompletableFuture(); // space 0's vpid 5
    frees.forEach(CompletableFuture::join);
    CompletionException e = assertThrows(CompletionException.class, notAllocated::join);
    assertEquals(PidspaceException.Code.NOT_ALLOCATED, refusal(e).code());
    assertEquals(pids.size(), freePids(space), "every pid was freed");
    join(target.destroySpace(space));
  }

  /** The target frees with the generation it was answered: a pid allocated again behind its back stays allocated. */
  @Test
  void free_namesTheGenerationItWasAnswered() {
    int space = join(target.createSpace(1000));
    int pid = join(target.alloc(space));
    join(node.free(pid));
    join(node.allocAt(space, new int[] {PidLayout.DEFAULT.vpidOf(pid)}, 0)); // handed out again: the ABA
    CompletionException stale = assertThrows(CompletionException.class, () -> join(target.free(pid)));
    assertEquals(PidspaceException.Code.STALE_HANDLE, refusal(stale).code());
    assertTrue(join(node.lookup(pid)).allocated());
    int other = join(target.alloc(space));
    join(target.free(other));
    assertEquals(false, join(node.lookup(other)).allocated());
    join(target.destroySpace(space));
  }

  /** Allocs the space's free pids one at a time until it runs out: how many there were. */
  private static int freePids(int space) {
    int got = 0;
    while (true) {
      try {
        join(target.alloc(space));
        got++;
      } catch (CompletionException exhausted) {
        assertEquals(PidspaceException.Code.SPACE_EXHAUSTED, refusal(exhausted).code());
        return got;
      }
    }
  }

  private static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  private static PidspaceException refusal(Throwable e) {
    while (!(e instanceof PidspaceException)) {
      e = e.getCause();
    }
    return (PidspaceException) e;
  }
}
