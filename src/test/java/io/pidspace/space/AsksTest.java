package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.Refusal;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class AsksTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** Answered after a short delay, so that a dependent stage is registered before the answer. */
  record Echo(int hold, ActorRef<Result> replyTo) implements NoSerializationVerificationNeeded {}

  private record Reply(Echo echo) implements NoSerializationVerificationNeeded {}

  private static Behavior<Object> echoBehavior() {
    return Behaviors.withTimers(timers -> Behaviors.receive(Object.class)
        .onMessage(Echo.class, echo -> {
          timers.startSingleTimer(new Reply(echo), Duration.ofMillis(100));
          return Behaviors.same();
        })
        .onMessage(Reply.class, reply -> {
          Echo echo = reply.echo;
          echo.replyTo.tell(echo.hold > 0 ? new Result.HoldPlaced(echo.hold)
              : new Result.Refused(new Refusal(PidspaceException.Code.UNKNOWN_HOLD, "no hold")));
          return Behaviors.same();
        })
        .build());
  }

  private static final ActorRef<Object> echo = testKit.spawn(echoBehavior());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static String threadOfDependentStage(CompletionStage<? extends Result> answer) throws Exception {
    return answer.thenApply(result -> Thread.currentThread().getName()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void askResult_runsDependentStagesInTheAnsweringActorsThread() throws Exception {
    String ranOn = threadOfDependentStage(Asks.<Object, Result.HoldPlaced>askResult(
        echo, replyTo -> new Echo(1, replyTo), TIMEOUT, testKit.scheduler()));

    assertTrue(ranOn.startsWith(testKit.system().name() + "-akka.actor.default-dispatcher"), ranOn);
  }

  @Test
  void javadslAsk_runsDependentStagesElsewhere_whichIsWhyAsksExists() throws Exception {
    String ranOn = threadOfDependentStage(AskPattern.<Object, Result>ask(
        echo, replyTo -> new Echo(1, replyTo), TIMEOUT, testKit.scheduler()));

    assertFalse(ranOn.startsWith(testKit.system().name()), ranOn);
  }

  @Test
  void askResult_answers_valueOrRefusal() throws Exception {
    assertEquals(7, Asks.<Object, Result.HoldPlaced>askResult(echo, replyTo -> new Echo(7, replyTo), TIMEOUT,
        testKit.scheduler()).get(10, TimeUnit.SECONDS).hold());

    ExecutionException refused = assertThrows(ExecutionException.class, () -> Asks.<Object, Result.HoldPlaced>askResult(
        echo, replyTo -> new Echo(0, replyTo), TIMEOUT, testKit.scheduler()).get(10, TimeUnit.SECONDS));
    assertEquals(PidspaceException.Code.UNKNOWN_HOLD, assertInstanceOf(PidspaceException.class, refused.getCause()).code());
    assertEquals("no hold", refused.getCause().getMessage());
  }

  @Test
  void ask_noAnswer_failsWithTimeout() {
    ActorRef<Echo> silent = testKit.spawn(Behaviors.ignore());

    ExecutionException late = assertThrows(ExecutionException.class, () -> Asks.<Echo, Result>ask(
        silent, replyTo -> new Echo(1, replyTo), Duration.ofMillis(200), testKit.scheduler()).get(10, TimeUnit.SECONDS));
    assertInstanceOf(TimeoutException.class, late.getCause());
    ExecutionException unanswered = assertThrows(ExecutionException.class, () -> Asks.<Echo, Result>askResult(
        silent, replyTo -> new Echo(1, replyTo), Duration.ofMillis(200), testKit.scheduler()).get(10, TimeUnit.SECONDS));
    assertEquals(PidspaceException.Code.UNAVAILABLE,
        assertInstanceOf(PidspaceException.class, unanswered.getCause()).code(), "a refusal says unavailable");
  }
}
