package io.pidspace.space;

import akka.Done;
import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.Scheduler;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.pattern.StatusReply;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidspaceException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Group commit for one space on one node. Single allocs and frees that arrive while a request
 * to the space is in flight wait here, and go on together: a run of allocs as one
 * {@code alloc(count)}, a run of frees as one batch free, so each run costs one journal write.
 * Requests leave in arrival order and the space takes runs in that order, so what a caller
 * sends in order happens in order. One run is in flight at a time: whatever arrives while it is
 * stored makes the next run, so the busier the space, the bigger the batch. (Two runs in flight
 * kept the space busier but halved the batches; on 16 spaces that cost a third of the
 * throughput.) The space stays one-command-one-event.
 */
public final class GroupCommit extends AbstractBehavior<GroupCommit.Command> {

  public interface Command extends NoSerializationVerificationNeeded {}

  public record Alloc(ActorRef<StatusReply<Integer>> replyTo) implements Command {}

  public record Free(int pid, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  private record AllocsAnswered(List<Alloc> waiting, PidSpace.Allocated allocated, Throwable failure)
      implements Command {}

  private record FreesAnswered(List<Free> waiting, FreeResult result) implements Command {}

  private final int space;
  private final PidspaceSettings settings;
  private final ActorRef<PidRouter.Command> router;
  private final Scheduler scheduler;

  private final ArrayDeque<Command> queue = new ArrayDeque<>();
  private boolean inFlight; // a run is sent and not yet answered

  public static Behavior<Command> create(PidspaceSettings settings, int space, ActorRef<PidRouter.Command> router) {
    return Behaviors.setup(ctx -> new GroupCommit(ctx, settings, space, router));
  }

  private GroupCommit(
      ActorContext<Command> context, PidspaceSettings settings, int space, ActorRef<PidRouter.Command> router) {
    super(context);
    this.space = space;
    this.settings = settings;
    this.router = router;
    this.scheduler = context.getSystem().scheduler();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Alloc.class, this::enqueue)
        .onMessage(Free.class, this::enqueue)
        .onMessage(AllocsAnswered.class, this::onAllocsAnswered)
        .onMessage(FreesAnswered.class, this::onFreesAnswered)
        .build();
  }

  private Behavior<Command> enqueue(Command request) {
    queue.add(request);
    sendNextRun();
    return this;
  }

  /** Sends the longest run of one kind at the head of the queue, up to {@code max-batch}. */
  private void sendNextRun() {
    if (queue.isEmpty() || inFlight) {
      return;
    }
    inFlight = true;
    if (queue.peek() instanceof Alloc) {
      List<Alloc> run = new ArrayList<>();
      while (run.size() < settings.maxBatch() && queue.peek() instanceof Alloc a) {
        run.add(a);
        queue.poll();
      }
      getContext().pipeToSelf(
          Asks.<PidRouter.Command, PidSpace.Allocated>askWithStatus(router,
              replyTo -> new PidRouter.Alloc(space, run.size(), replyTo), settings.askTimeout(), scheduler),
          (allocated, failure) -> new AllocsAnswered(run, allocated, failure));
    } else {
      List<Free> run = new ArrayList<>();
      while (run.size() < settings.maxBatch() && queue.peek() instanceof Free f) {
        run.add(f);
        queue.poll();
      }
      int[] pids = run.stream().mapToInt(Free::pid).toArray();
      getContext().pipeToSelf(
          Asks.<PidRouter.Command, FreeResult>ask(router,
              replyTo -> new PidRouter.FreeBatch(pids, replyTo), settings.askTimeout(), scheduler),
          (result, failure) -> new FreesAnswered(run, result != null ? result : unanswered(pids, failure)));
    }
  }

  private Behavior<Command> onAllocsAnswered(AllocsAnswered answer) {
    List<Alloc> waiting = answer.waiting;
    if (answer.failure != null) {
      String wire = answer.failure instanceof StatusReply.ErrorMessage
          ? answer.failure.getMessage()
          : unavailable(answer.failure).toWire();
      waiting.forEach(a -> a.replyTo.tell(StatusReply.error(wire)));
    } else {
      int[] pids = answer.allocated.pids();
      for (int i = 0; i < waiting.size(); i++) {
        // fewer pids than callers only when the space ran out: the rest are told so
        waiting.get(i).replyTo.tell(i < pids.length
            ? StatusReply.success(pids[i])
            : StatusReply.error(exhausted().toWire()));
      }
    }
    inFlight = false;
    sendNextRun();
    return this;
  }

  private Behavior<Command> onFreesAnswered(FreesAnswered answer) {
    Map<Integer, Integer> freed = new HashMap<>();
    for (int pid : answer.result.freed()) {
      freed.merge(pid, 1, Integer::sum);
    }
    Map<Integer, ArrayDeque<FreeResult.Refusal>> refused = new HashMap<>();
    for (FreeResult.Refusal r : answer.result.refused()) {
      refused.computeIfAbsent(r.pid(), k -> new ArrayDeque<>()).add(r);
    }
    for (Free f : answer.waiting) {
      if (freed.merge(f.pid, -1, Integer::sum) >= 0) {
        f.replyTo.tell(StatusReply.success(Done.getInstance()));
      } else {
        FreeResult.Refusal r = refused.get(f.pid).poll();
        f.replyTo.tell(StatusReply.error(r.code() + ": " + r.message()));
      }
    }
    inFlight = false;
    sendNextRun();
    return this;
  }

  private PidspaceException exhausted() {
    return new PidspaceException(PidspaceException.Code.SPACE_EXHAUSTED, "space " + space + " has no free pid left");
  }

  private PidspaceException unavailable(Throwable failure) {
    return new PidspaceException(
        PidspaceException.Code.UNAVAILABLE, "space " + space + " did not answer: " + failure.getMessage());
  }

  private FreeResult unanswered(int[] pids, Throwable failure) {
    PidspaceException reason = unavailable(failure);
    List<FreeResult.Refusal> refusals = new ArrayList<>();
    for (int pid : pids) {
      refusals.add(FreeResult.Refusal.of(pid, reason));
    }
    return new FreeResult(new int[0], refusals);
  }
}
