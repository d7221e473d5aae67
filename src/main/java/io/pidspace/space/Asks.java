package io.pidspace.space;

import akka.actor.typed.ActorRef;
import akka.actor.typed.RecipientRef;
import akka.actor.typed.Scheduler;
import akka.actor.typed.scaladsl.AskPattern;
import akka.util.Timeout;
import io.pidspace.core.PidspaceException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;

/**
 * Asks that answer with a plain {@link CompletableFuture}, completed in the thread that delivers
 * the answer (the answering actor's), so dependent stages run there too: keep them short and
 * never block in them. Akka's javadsl ask answers with Scala's CompletableFuture adapter instead,
 * which turns every dependent stage ({@code thenApply}, {@code whenComplete}, {@code pipeToSelf})
 * into an async one on the common pool; on a machine with fewer than three cores the JDK then
 * starts a new thread for every stage. That cost a thread start per request and halved durable
 * throughput on two cores. (Completing on the dispatcher instead cost the in-memory storm half
 * its rate.)
 */
final class Asks {

  private static final ExecutionContext IN_PLACE = ExecutionContext.parasitic$.MODULE$;

  private Asks() {}

  static <Req, Res> CompletableFuture<Res> ask(RecipientRef<Req> target, Function<ActorRef<Res>, Req> request,
      Duration timeout, Scheduler scheduler) {
    Future<Res> answer = new AskPattern.Askable<>(target).ask(request::apply, Timeout.create(timeout), scheduler);
    return toJava(answer);
  }

  /**
   * As {@link #ask}, for a request answered with a {@link Result}: a {@link Result.Refused}
   * completes the future with its {@link PidspaceException}, a timeout with {@code unavailable}.
   */
  static <Req, R extends Result> CompletableFuture<R> askResult(RecipientRef<Req> target,
      Function<ActorRef<Result>, Req> request, Duration timeout, Scheduler scheduler) {
    CompletableFuture<R> future = new CompletableFuture<>();
    ask(target, request, timeout, scheduler).whenComplete((result, failure) -> {
      if (failure != null) {
        future.completeExceptionally(PidspaceException.from(failure));
      } else if (result instanceof Result.Refused refused) {
        future.completeExceptionally(refused.refusal().exception());
      } else {
        @SuppressWarnings("unchecked") // the target answers R or a refusal (see its command's replyTo)
        R value = (R) result;
        future.complete(value);
      }
    });
    return future;
  }

  private static <T> CompletableFuture<T> toJava(Future<T> answer) {
    CompletableFuture<T> future = new CompletableFuture<>();
    answer.onComplete(result -> result.isSuccess()
        ? future.complete(result.get())
        : future.completeExceptionally(result.failed().get()), IN_PLACE);
    return future;
  }
}
