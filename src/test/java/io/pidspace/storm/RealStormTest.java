package io.pidspace.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pidspace.core.PidspaceException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Short storms on both targets; they check the model, never how fast it went. */
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
