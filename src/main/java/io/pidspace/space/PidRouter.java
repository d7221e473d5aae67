package io.pidspace.space;

import akka.Done;
import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.pattern.StatusReply;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes a global pid with the shift ({@code space = pid >> shift}) and forwards the request to
 * that space's actor. Every per-space request of a node passes through here, so requests that one
 * caller sends in order reach each space in that order.
 */
public final class PidRouter extends AbstractBehavior<PidRouter.Command> {

  public interface Command extends CborSerializable {}

  public record Alloc(int space, int count, ActorRef<StatusReply<PidSpace.Allocated>> replyTo) implements Command {}

  public record Free(int pid, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  public record FreeBatch(int[] pids, ActorRef<FreeResult> replyTo) implements Command {}

  public record Lookup(int pid, ActorRef<StatusReply<PidInfo>> replyTo) implements Command {}

  public record GetStats(int space, ActorRef<StatusReply<SpaceStats>> replyTo) implements Command {}

  private final PidspaceSettings settings;
  private final PidLayout layout;
  private final SpaceRefs spaces;

  public static Behavior<Command> create(PidspaceSettings settings, SpaceRefs spaces) {
    return Behaviors.setup(ctx -> new PidRouter(ctx, settings, spaces));
  }

  private PidRouter(ActorContext<Command> context, PidspaceSettings settings, SpaceRefs spaces) {
    super(context);
    this.settings = settings;
    this.layout = settings.layout();
    this.spaces = spaces;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Alloc.class, this::onAlloc)
        .onMessage(Free.class, this::onFree)
        .onMessage(FreeBatch.class, this::onFreeBatch)
        .onMessage(Lookup.class, this::onLookup)
        .onMessage(GetStats.class, this::onGetStats)
        .build();
  }

  private Behavior<Command> onAlloc(Alloc cmd) {
    if (!layout.isValidSpace(cmd.space)) {
      return refuse(cmd.replyTo, spaceOutOfRange(cmd.space));
    }
    spaces.space(cmd.space).tell(new PidSpace.Alloc(cmd.count, cmd.replyTo));
    return this;
  }

  private Behavior<Command> onFree(Free cmd) {
    PidspaceException refusal = checkPid(cmd.pid);
    if (refusal != null) {
      return refuse(cmd.replyTo, refusal);
    }
    spaces.space(layout.spaceOf(cmd.pid)).tell(new PidSpace.Free(cmd.pid, cmd.replyTo));
    return this;
  }

  private Behavior<Command> onLookup(Lookup cmd) {
    PidspaceException refusal = checkPid(cmd.pid);
    if (refusal != null) {
      return refuse(cmd.replyTo, refusal);
    }
    spaces.space(layout.spaceOf(cmd.pid)).tell(new PidSpace.Lookup(cmd.pid, cmd.replyTo));
    return this;
  }

  private Behavior<Command> onGetStats(GetStats cmd) {
    if (!layout.isValidSpace(cmd.space)) {
      return refuse(cmd.replyTo, spaceOutOfRange(cmd.space));
    }
    spaces.space(cmd.space).tell(new PidSpace.GetStats(cmd.replyTo));
    return this;
  }

  /** Splits the batch by space; a small joiner gathers the parts into one answer. */
  private Behavior<Command> onFreeBatch(FreeBatch cmd) {
    if (cmd.pids.length > settings.maxBatch()) {
      List<FreeResult.Refusal> refused = new ArrayList<>();
      PidspaceException tooMany = PidspaceException.badRequest(
          "a batch names " + cmd.pids.length + " pids; at most " + settings.maxBatch() + " are allowed");
      for (int pid : cmd.pids) {
        refused.add(FreeResult.Refusal.of(pid, tooMany));
      }
      cmd.replyTo.tell(new FreeResult(new int[0], refused));
      return this;
    }
    List<FreeResult.Refusal> refused = new ArrayList<>();
    Map<Integer, List<Integer>> bySpace = new HashMap<>();
    for (int pid : cmd.pids) {
      PidspaceException refusal = checkPid(pid);
      if (refusal != null) {
        refused.add(FreeResult.Refusal.of(pid, refusal));
      } else {
        bySpace.computeIfAbsent(layout.spaceOf(pid), k -> new ArrayList<>()).add(pid);
      }
    }
    FreeResult invalid = new FreeResult(new int[0], refused);
    if (bySpace.isEmpty()) {
      cmd.replyTo.tell(invalid);
      return this;
    }
    ActorRef<FreeResult> joiner = getContext().<Object>spawnAnonymous(
        BatchJoin.create(layout, bySpace, invalid, settings.askTimeout(), cmd.replyTo)).narrow();
    bySpace.forEach((space, pids) -> spaces.space(space).tell(
        new PidSpace.FreeBatch(pids.stream().mapToInt(Integer::intValue).toArray(), joiner)));
    return this;
  }

  private PidspaceException checkPid(int pid) {
    if (pid < 0 || !layout.isValidSpace(layout.spaceOf(pid))) {
      return PidspaceException.outOfRange("pid " + pid + " is outside 0.."
          + ((long) layout.maxSpaces() * layout.pidMaxLimit() - 1) + " (shift " + layout.shift() + ")");
    }
    return null;
  }

  private PidspaceException spaceOutOfRange(int space) {
    return PidspaceException.outOfRange("space " + space + " is outside 0.." + (layout.maxSpaces() - 1));
  }

  private <T> Behavior<Command> refuse(ActorRef<StatusReply<T>> replyTo, PidspaceException reason) {
    replyTo.tell(StatusReply.error(reason.toWire()));
    return this;
  }

  /** Gathers one {@link FreeResult} per space; spaces that do not answer in time are refused. */
  private static final class BatchJoin {
    private enum TimedOut implements NoSerializationVerificationNeeded { INSTANCE }

    static Behavior<Object> create(PidLayout layout, Map<Integer, List<Integer>> bySpace, FreeResult start,
        Duration timeout, ActorRef<FreeResult> replyTo) {
      return Behaviors.withTimers(timers -> {
        timers.startSingleTimer(TimedOut.INSTANCE, timeout);
        Map<Integer, List<Integer>> pending = new HashMap<>(bySpace);
        FreeResult[] sum = {start};
        return Behaviors.receive(Object.class)
            .onMessage(TimedOut.class, timedOut -> {
              List<FreeResult.Refusal> late = new ArrayList<>();
              pending.forEach((space, pids) -> pids.forEach(pid -> late.add(new FreeResult.Refusal(
                  pid, PidspaceException.Code.UNAVAILABLE.wire(), "space " + space + " did not answer in time"))));
              replyTo.tell(sum[0].plus(new FreeResult(new int[0], late)));
              return Behaviors.stopped();
            })
            .onMessage(FreeResult.class, part -> {
              int anyPid = part.freed().length > 0 ? part.freed()[0] : part.refused().get(0).pid();
              pending.remove(layout.spaceOf(anyPid));
              sum[0] = sum[0].plus(part);
              if (pending.isEmpty()) {
                replyTo.tell(sum[0]);
                return Behaviors.stopped();
              }
              return Behaviors.same();
            })
            .build();
      });
    }
  }
}
