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
