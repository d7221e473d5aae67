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
import akka.pattern.StatusReply;
import io.pidspace.core.PidspaceException;
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
  record Echo(String text, ActorRef<StatusReply<String>> replyTo) implements NoSerializationVerificationNeeded {}

  private record Reply(Echo echo) implements NoSerializationVerificationNeeded {}

  private static Behavior<Object> echoBehavior() {
    return Behaviors.withTimers(timers -> Behaviors.receive(Object.class)
        .onMessage(Echo.class, echo -> {
          timers.startSingleTimer(new Reply(echo), Duration.ofMillis(100));
          return Behaviors.same();
        })
        .onMessage(Reply.class, reply -> {
          Echo echo = reply.echo;
          echo.replyTo.tell(echo.text.isEmpty() ? StatusReply.error("empty") : StatusReply.success(echo.text));
          return Behaviors.same();
        })
        .build());
  }

  private static final ActorRef<Object> echo = testKit.spawn(echoBehavior());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static String threadOfDependentStage(CompletionStage<String> answer) throws Exception {
    return answer.thenApply(text -> Thread.currentThread().getName()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void askWithStatus_runsDependentStagesInTheAnsweringActorsThread() throws Exception {
    String ranOn = threadOfDependentStage(Asks.<Object, String>askWithStatus(
        echo, replyTo -> new Echo("hi", replyTo), TIMEOUT, testKit.scheduler()));

    assertTrue(ranOn.startsWith(testKit.system().name() + "-akka.actor.default-dispatcher"), ranOn);
  }

  @Test
  void javadslAsk_runsDependentStagesElsewhere_whichIsWhyAsksExists() throws Exception {
    String ranOn = threadOfDependentStage(AskPattern.<Object, String>askWithStatus(
        echo, replyTo -> new Echo("hi", replyTo), TIMEOUT, testKit.scheduler()));

    assertFalse(ranOn.startsWith(testKit.system().name()), ranOn);
  }

  @Test
  void askWithStatus_answers_valueOrRefusal() throws Exception {
    assertEquals("hi", Asks.<Object, String>askWithStatus(echo, replyTo -> new Echo("hi", replyTo), TIMEOUT,
        testKit.scheduler()).get(10, TimeUnit.SECONDS));

    ExecutionException refused = assertThrows(ExecutionException.class, () -> Asks.<Object, String>askWithStatus(
        echo, replyTo -> new Echo("", replyTo), TIMEOUT, testKit.scheduler()).get(10, TimeUnit.SECONDS));
    assertEquals(PidspaceException.Code.UNAVAILABLE, assertInstanceOf(PidspaceException.class, refused.getCause()).code(),
        "an error without a refusal code");
    assertEquals("empty", refused.getCause().getMessage());
  }

  @Test
  void ask_noAnswer_failsWithTimeout() {
    ActorRef<Echo> silent = testKit.spawn(Behaviors.ignore());

    ExecutionException late = assertThrows(ExecutionException.class, () -> Asks.<Echo, StatusReply<String>>ask(
        silent, replyTo -> new Echo("hi", replyTo), Duration.ofMillis(200), testKit.scheduler()).get(10, TimeUnit.SECONDS));
    assertInstanceOf(TimeoutException.class, late.getCause());
  }
}
