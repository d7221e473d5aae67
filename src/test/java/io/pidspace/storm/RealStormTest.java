package io.pidspace.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short storms on every target; they check the model, never how fast it went. How much of a
 * storm fits in its 2 s depends on the machine (two busy cores may fit little), so a target
 * storms again until the model has seen each thing it checks happen at least once.
 */
class RealStormTest {

  private static final String[] SHORT = {
    "--containers", "4", "--forkers", "2", "--rate", "400", "--burst", "40", "--burst-every", "300ms",
    "--lifetime-mean", "200ms", "--container-lifetime", "700ms", "--duration", "2s", "--warmup", "0"};

  /** Storms a target gets to hand out, free by exit and replace a container; not a speed bound. */
  private static final int MAX_STORMS = 20;

  @Test
  void inMemory_openLoop_keepsTheModelsInvariants() {
    try (StormTarget target = StormTarget.inMemory()) {
      stormUntilExercised(target, SHORT);
    }
  }

  @Test
  void durable_openLoop_keepsTheModelsInvariants(@TempDir Path dataDir) {
    try (StormTarget target = StormTarget.durable(dataDir)) {
      stormUntilExercised(target, SHORT);
    }
  }

  /** A cluster target: a node's HTTP API, here one in-process node on a free port. */
  @Test
  void clusterOverHttp_openLoop_keepsTheModelsInvariants() throws Exception {
    try (PidAuthority node = PidAuthority.start(ConfigFactory.empty())) {
      java.net.InetSocketAddress address = PidspaceHttp.bind(node.system(), node,
              HttpSettings.from(node.system().settings().config()).withPort(0))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      String url = "http://127.0.0.1:" + address.getPort();
      try (StormTarget target = StormTarget.cluster(List.of(url, url + "/"), "")) {
        stormUntilExercised(target, SHORT);
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
    try (StormTarget target = StormTarget.baseline()) {
      stormUntilExercised(target, closed);
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
        () -> Storm.real(Args.options(SHORT), noIds, Progress.NONE, Storm.TO_THE_END));
    assertTrue(e.getMessage().contains("could not create its space"), e.getMessage());
    assertEquals(PidspaceException.Code.NO_SPACE_IDS_LEFT, refusal(e).code());
  }

  @Test
  void warmUp_runsTheWorkloadOnTheTargetFirst_andIsNotCounted() {
    String[] args = Stream.concat(Arrays.stream(SHORT), Stream.of("--warmup", "1s")).toArray(String[]::new);
    StormOptions options = Args.options(args);
    List<String> tasks = new CopyOnWriteArrayList<>();
    Progress.Factory progress = (task, totalMillis) -> {
      tasks.add(task + " " + totalMillis + " ms");
      return Progress.NONE.open(task, totalMillis);
    };
    try (CheckingTarget checking = new CheckingTarget(StormTarget.baseline())) {
      StormReport.Run run = Storm.real(options, checking, progress, Storm.TO_THE_END);
      assertEquals(List.of(checking.name() + " warm-up 1000 ms", checking.name() + " 2000 ms"), tasks);
      StormReport.Counts c = run.counts();
      assertTrue(checking.violations.isEmpty(), checking.violations.toString());
      assertEquals(0, c.errors(), c.firstError());
      // every slot's first container creates its space, in the warm-up too: those are not the report's
      assertTrue(checking.created.get() >= c.containersCreated() + options.containers(),
          checking.created.get() + " spaces created, " + c.containersCreated() + " in the report");
      assertTrue(checking.allocs.get() >= c.allocs());
      assertEquals(c.allocs(), c.frees() + c.diedWithContainer(), "the report's pids are its own run's");
      assertTrue(checking.spaces.isEmpty() && checking.live.isEmpty(), "the warm-up ended every container");
    }
  }

  /**
   * Storms until, over all storms, pids were handed out, pids were freed by exit and a container
   * was replaced in its slot; each storm must keep every invariant of the model. A slow machine
   * only takes more storms.
   */
  private static void stormUntilExercised(StormTarget target, String[] args) {
    StormOptions options = Args.options(args);
    long allocs = 0;
    long frees = 0;
    long replaced = 0;
    for (int storm = 1; allocs == 0 || frees == 0 || replaced == 0; storm++) {
      assertTrue(storm <= MAX_STORMS, MAX_STORMS + " storms handed out " + allocs + " pids, freed " + frees
          + " by exit and replaced " + replaced + " containers: the target does not serve the storm");
      CheckingTarget checking = new CheckingTarget(target); // fresh counts per storm; closed by the caller
      StormReport.Counts c = check(checking, Storm.real(options, checking, Progress.NONE, Storm.TO_THE_END), options);
      allocs += c.allocs();
      frees += c.frees();
      replaced += c.containersCreated() - options.containers();
    }
  }

  private static StormReport.Counts check(CheckingTarget target, StormReport.Run run, StormOptions options) {
    StormReport.Counts c = run.counts();
    assertTrue(target.violations.isEmpty(), target.violations.toString());
    assertEquals(0, c.errors(), c.firstError());
    assertEquals(target.allocs.get(), c.allocs(), "the storm counts what the target handed out");
    assertEquals(c.allocs(), c.frees() + c.diedWithContainer(), "every pid is freed by exit or by its container's end");
    assertEquals(target.frees.get(), c.frees());
    assertEquals(target.diedWithContainer.get(), c.diedWithContainer());
    assertTrue(target.live.isEmpty(), "no pid outlives the storm");
    // every slot's first container creates its space however slow the machine; later ones may not come
    assertTrue(c.containersCreated() >= options.containers(), "containers created: " + c.containersCreated());
    assertEquals(c.containersCreated(), c.containersDestroyed());
    assertTrue(target.spaces.isEmpty(), "every container destroyed its space: " + target.spaces);
    assertEquals(c.forks(), c.allocs() + c.exhausted() + c.errors() + c.shed());
    for (int space : target.everCreated) {
      CompletionException e = assertThrows(CompletionException.class,
          () -> target.target.alloc(space).toCompletableFuture().join(), "space " + space + " is gone");
      assertEquals(PidspaceException.Code.UNKNOWN_SPACE, refusal(e).code());
    }
    return c;
  }

  private static PidspaceException refusal(Throwable e) {
    while (!(e instanceof PidspaceException)) {
      e = e.getCause();
    }
    return (PidspaceException) e;
  }
}
