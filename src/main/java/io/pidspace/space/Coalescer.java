package io.pidspace.space;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.Behavior;
import akka.actor.typed.RecipientRef;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.pidspace.core.PidspaceException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The one ordered path from this node to one space: every request of every kind (allocs of any
 * count, single and batch frees, lookups, stats) waits here and leaves in arrival order. One
 * {@link PidSpace.Run run} is in flight at a time; whatever arrives while it is decided and
 * stored, and whatever its answers make their callers ask next, makes the next run, which the
 * space stores as one event (group commit). (Two runs in
 * flight kept the space busier but halved the batches; on 16 spaces that cost a third of the
 * throughput.)
 *
 * <p>Callers' deadlines: a request whose caller has given up is dropped before it is sent, and
 * the space drops one that reaches it too late, so nothing is stored for a caller that was told
 * "unavailable". The queue is bounded: past {@code pidspace.max-queue} a request is answered
 * "overloaded" at once. Every request is answered exactly once, by this actor: callers need no
 * timer of their own.
 */
final class Coalescer extends AbstractBehavior<Coalescer.Command> {

  interface Command extends NoSerializationVerificationNeeded {}

  /** {@code deadline} is a {@link System#nanoTime()} instant. */
  record Queued(Request<?> request, long deadline, CompletableFuture<Result> answer) implements Command {}

  private record RunAnswered(List<Queued> run, PidSpace.Results results, Throwable failure) implements Command {}

  /** Sent to itself after a run's answers: the next run waits for it (see {@link #onRunAnswered}). */
  private enum SendNext implements Command { INSTANCE }

  private final int space;
  private final PidspaceSettings settings;
  private final RecipientRef<PidSpace.Command> target;
  private final InFlight inFlightAsks;
  private final ArrayDeque<Queued> queue = new ArrayDeque<>();
  private boolean inFlight; // a run is sent and not yet answered, or its answers are handed out
  // The last run was failed by a member's removal (or timed out after one) and none has been
  // answered since: the next one may go to a dead node too, so it gets InFlight.SUSPECT_TIMEOUT.
  private boolean suspect;

  static Behavior<Command> create(PidspaceSettings settings, int space, RecipientRef<PidSpace.Command> target,
      InFlight inFlightAsks) {
    return Behaviors.setup(ctx -> new Coalescer(ctx, settings, space, target, inFlightAsks));
  }

  private Coalescer(ActorContext<Command> context, PidspaceSettings settings, int space,
      RecipientRef<PidSpace.Command> target, InFlight inFlightAsks) {
    super(context);
    this.space = space;
    this.settings = settings;
    this.target = target;
    this.inFlightAsks = inFlightAsks;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Queued.class, this::onRequest)
        .onMessage(RunAnswered.class, this::onRunAnswered)
        .onMessageEquals(SendNext.INSTANCE, () -> {
          inFlight = false;
          sendNextRun();
          return this;
        })
        .build();
  }

  private Behavior<Command> onRequest(Queued request) {
    if (queue.size() >= settings.maxQueue()) {
      request.answer.completeExceptionally(new PidspaceException(PidspaceException.Code.OVERLOADED,
          "space " + space + " has " + settings.maxQueue() + " requests waiting on this node (pidspace.max-queue)"));
      return this;
    }
    queue.add(request);
    sendNextRun();
    return this;
  }

  /** Sends what waits, in arrival order, up to {@code max-batch} pids (one request without group commit). */
  private void sendNextRun() {
    if (inFlight) {
      return;
    }
    List<Queued> run = new ArrayList<>();
    List<Request<?>> requests = new ArrayList<>();
    long now = System.nanoTime();
    long wallNow = System.currentTimeMillis();
    // After a removal the space may be on its way to a new home: this run gets SUSPECT_TIMEOUT in
    // all, and its requests only half of it to reach the space, so a run the coalescer stops
    // waiting for is one the space refuses, not one it stores unanswered.
    long cap = suspect ? now + InFlight.SUSPECT_TIMEOUT.toNanos() / 2 : Long.MAX_VALUE;
    Duration grace = suspect ? InFlight.SUSPECT_TIMEOUT.dividedBy(2) : settings.askTimeout().dividedBy(2);
    long latest = now;
    int weight = 0;
    while (!queue.isEmpty()
        && (run.isEmpty() || settings.groupCommit() && weight + queue.peek().request.weight() <= settings.maxBatch())) {
      Queued r = queue.poll();
      if (r.deadline - now <= 0) {
        r.answer.completeExceptionally(gaveUp());
        continue;
      }
      long deadline = Math.min(r.deadline, cap);
      run.add(r);
      requests.add(r.request);
      weight += r.request.weight();
      latest = Math.max(latest, deadline);
    }
    if (run.isEmpty()) {
      return;
    }
    inFlight = true;
    long[] deadlines = new long[run.size()]; // on the space's clock: epoch millis
    for (int i = 0; i < deadlines.length; i++) {
      deadlines[i] = wallNow + (Math.min(run.get(i).deadline, cap) - now) / 1_000_000;
    }
    // The space refuses what reaches it after its deadline; past the latest one, the grace lets
    // a write that started in time finish and be answered truly.
    Duration timeout = Duration.ofNanos(latest - now).plus(grace);
    // A run to a space on a node that crashed is failed when that node is removed (InFlight), not
    // when this timeout expires: the next run then waits in sharding's buffer until the space is back.
    getContext().pipeToSelf(
        inFlightAsks.track(Asks.<PidSpace.Command, PidSpace.Results>ask(target,
            replyTo -> new PidSpace.Run(requests, deadlines, replyTo), timeout,
            getContext().getSystem().scheduler())),
        (results, failure) -> new RunAnswered(run, results, failure));
  }

  /**
   * Hands out the run's answers, then sends the next run only once whatever those answers made
   * their callers ask next has arrived: a caller that asks again as soon as it is answered (a
   * chain composed on the answers) tells this actor from inside {@code complete}, so its request
   * is in the mailbox before {@link SendNext}. Sent at once instead, the next run left without
   * it, and such a caller joined every second write.
   */
  private Behavior<Command> onRunAnswered(RunAnswered answer) {
    suspect = answer.failure == InFlight.LOST || suspect && answer.failure != null;
    if (answer.failure != null) {
      PidspaceException unavailable = answer.failure instanceof PidspaceException moved
          ? moved
          : PidspaceException.unavailable("space " + space + " did not answer in time");
      answer.run.forEach(r -> r.answer.completeExceptionally(unavailable));
    } else {
      List<Result> results = answer.results.results();
      for (int i = 0; i < answer.run.size(); i++) {
        answer.run.get(i).answer.complete(results.get(i));
      }
    }
    getContext().getSelf().tell(SendNext.INSTANCE);
    return this;
  }

  private PidspaceException gaveUp() {
    return PidspaceException.unavailable("space " + space + " was busy; the request waited past its deadline");
  }
}
