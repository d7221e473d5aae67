package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.pattern.StatusReply;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidspaceException;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Reads the {@link StatusReply} a probe received: the value of a success, the code of a refusal. */
final class Replies {

  private Replies() {}

  static <T> T value(TestProbe<StatusReply<T>> probe) {
    StatusReply<T> reply = probe.receiveMessage();
    assertTrue(reply.isSuccess(), () -> "expected a success, got " + reply.getError().getMessage());
    return reply.getValue();
  }

  static PidspaceException.Code refusal(TestProbe<? extends StatusReply<?>> probe) {
    StatusReply<?> reply = probe.receiveMessage();
    assertTrue(reply.isError(), () -> "expected a refusal, got " + reply.getValue());
    return PidspaceException.fromWire(reply.getError().getMessage()).code();
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
