package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import io.pidspace.core.PidspaceException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits for what a stage answered: its value, or the code of its refusal. */
public final class Stages {

  /** Far above any answer time, also on a busy build machine; only a hang reaches it. */
  private static final long TIMEOUT_SECONDS = 30;

  private Stages() {}

  public static <T> T value(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected a value, got " + e.getCause(), e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("no answer", e);
    }
  }

  public static PidspaceException.Code refusal(CompletionStage<?> stage) {
    try {
      Object value = stage.toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      return fail("expected a refusal, got " + value);
    } catch (ExecutionException e) {
      return assertInstanceOf(PidspaceException.class, e.getCause()).code();
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("no answer", e);
    }
  }
}
