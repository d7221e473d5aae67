package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.TestProbe;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Reads the {@link Result} a probe received: the value of a success, the code of a refusal. */
final class Replies {

  private Replies() {}

  /** The stats of a create's or an import's answer. */
  static SpaceStats stats(TestProbe<Result> probe) {
    Result reply = probe.receiveMessage();
    assertTrue(reply instanceof Result.Stats, () -> "expected stats, got " + reply);
    return ((Result.Stats) reply).stats();
  }

  /** A destroy's answer: done. */
  static void done(TestProbe<Result> probe) {
    Result reply = probe.receiveMessage();
    assertTrue(reply instanceof Result.Done, () -> "expected done, got " + reply);
  }

  static PidspaceException.Code refusal(TestProbe<Result> probe) {
    Result reply = probe.receiveMessage();
    assertTrue(reply instanceof Result.Refused, () -> "expected a refusal, got " + reply);
    return ((Result.Refused) reply).refusal().code();
  }

  /** The value a stage completed with (waiting generously: the build machine is slow). */
  static <T> T value(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected a success, got " + e.getCause(), e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("no answer", e);
    }
  }

  /** The code of the refusal a stage failed with. */
  static PidspaceException.Code refusal(CompletionStage<?> stage) {
    try {
      Object value = stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw new AssertionError("expected a refusal, got " + value);
    } catch (ExecutionException e) {
      assertTrue(e.getCause() instanceof PidspaceException, () -> "expected a refusal, got " + e.getCause());
      return ((PidspaceException) e.getCause()).code();
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("no answer", e);
    }
  }

  /** Each refusal of a batch free as {@code "pid code"}, in the order given. */
  static List<String> refusals(FreeResult result) {
    return result.refused().stream().map(r -> r.pid() + " " + r.code()).toList();
  }
}
