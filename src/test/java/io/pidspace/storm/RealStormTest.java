package io.pidspace.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.http.javadsl.ServerBinding;
import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.PidspaceException;
import io.pidspace.http.HttpSettings;
import io.pidspace.http.PidspaceHttp;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Short storms on every target; they check the model, never how fast it went. */
class RealStormTest {

  private static final String[] SHORT = {
    "--containers", "4", "--forkers", "2", "--rate", "400", "--burst", "40", "--burst-every", "300ms",
    "--lifetime-mean", "200ms", "--container-lifetime", "700ms", "--duration", "2s"};

  @Test
  void inMemory_openLoop_keepsTheModelsInvariants() {
    try (CheckingTarget target = new CheckingTarget(StormTarget.inMemory())) {
      check(target, Storm.real(Args.options(SHORT), target, Progress.NONE));
    }
  }

  @Test
  void durable_openLoop_keepsTheModelsInvariants(@TempDir Path dataDir) {
    try (CheckingTarget target = new CheckingTarget(StormTarget.durable(dataDir))) {
      check(target, Storm.real(Args.options(SHORT), target, Progress.NONE));
    }
  }

  /** A cluster target: a node's HTTP API, here one in-process node on a free port. */
  @Test
  void clusterOverHttp_openLoop_keepsTheModelsInvariants() throws Exception {
    try (PidAuthority node = PidAuthority.start(ConfigFactory.empty())) {
      ServerBinding binding = PidspaceHttp.bind(node.system(), node,
              HttpSettings.from(node.system().settings().config()).withPort(0))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      String url = "http://127.0.0.1:" + binding.localAddress().getPort();
      try (CheckingTarget target = new CheckingTarget(StormTarget.cluster(List.of(url, url + "/"), ""))) {
        check(target, Storm.real(Args.options(SHORT), target, Progress.NONE));
      }
    }
  }

  @Test
  void clusterOverHttp_nodeThatDoesNotAnswer_isAClearError() {
    PidspaceException e = assertThrows(PidspaceException.class,
        () -> StormTarget.cluster(List.of("http://127.0.0.1:1"), ""));
    assertTrue(e.getMessage().startsWith("no pidspace node answers at http://127.0.0.1:1"), e.getMessage());
  }

  @Test
  void baseline_closedLoop_keepsTheModelsInvariants() {
    String[] closed = Stream.concat(Arrays.stream(SHORT),
        Stream.of("--loop", "closed", "--lifetime", "pareto", "--pid-max", "1000")).toArray(String[]::new);
    try (CheckingTarget target = new CheckingTarget(StormTarget.baseline())) {
      check(target, Storm.real(Args.options(closed), target, Progress.NONE));
    }
  }

  @Test
  void aSpaceThatCannotBeCreated_abortsTheStormWithTheReason() {
    StormTarget noIds = new CheckingTarget(StormTarget.baseline()) {
      @Override
      public CompletionStage<Integer> createSpace(int pidMax) {
        return CompletableFuture.failedFuture(
            new PidspaceException(PidspaceException.Code.NO_SPACE_IDS_LEFT, "all 511 space ids are in use"));
      }
    };
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Storm.real(Args.options(SHORT), noIds, Progress.NONE));
    assertTrue(e.getMessage().contains("could not create its space"), e.getMessage());
    assertEquals(PidspaceException.Code.NO_SPACE_IDS_LEFT, refusal(e).code());
  }

  private static void check(CheckingTarget target, StormReport.Run run) {
    StormReport.Counts c = run.counts();
    assertTrue(target.violations.isEmpty(), target.violations.toString());
    assertEquals(0, c.errors(), c.firstError());
    assertTrue(c.allocs() > 0);
    assertEquals(target.allocs.get(), c.allocs(), "the storm counts what the target handed out");
    assertEquals(c.allocs(), c.frees() + c.diedWithContainer(), "every pid is freed by exit or by its container's end");
    assertEquals(target.frees.get(), c.frees());
    assertEquals(target.diedWithContainer.get(), c.diedWithContainer());
    assertTrue(target.live.isEmpty(), "no pid outlives the storm");
    assertTrue(c.containersCreated() > 4, "containers churn: " + c.containersCreated());
    assertEquals(c.containersCreated(), c.containersDestroyed());
    assertTrue(target.spaces.isEmpty(), "every container destroyed its space: " + target.spaces);
    assertEquals(c.forks(), c.allocs() + c.exhausted() + c.errors() + c.shed());
    for (int space : target.everCreated) {
      CompletionException e = assertThrows(CompletionException.class,
          () -> target.target.alloc(space).toCompletableFuture().join(), "space " + space + " is gone");
      assertEquals(PidspaceException.Code.UNKNOWN_SPACE, refusal(e).code());
    }
  }

  private static PidspaceException refusal(Throwable e) {
    while (!(e instanceof PidspaceException)) {
      e = e.getCause();
    }
    return (PidspaceException) e;
  }
}
