package io.pidspace.space;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.StashBuffer;
import akka.pattern.StatusReply;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;
import java.util.BitSet;

/**
 * Hands out space ids and knows which spaces exist; a Cluster Singleton in a cluster. It creates
 * and destroys one space at a time (the rest wait in a stash), so an id is never given twice and
 * a space is never used before its actor has confirmed it exists.
 */
public final class SpaceRegistry extends AbstractBehavior<SpaceRegistry.Command> {

  public interface Command extends CborSerializable {}

  /** {@code id} is {@link #ANY_ID} for the lowest free one; {@code pidMax} 0 for the default. */
  public record Create(int id, int pidMax, ActorRef<StatusReply<SpaceStats>> replyTo) implements Command {}

  public record Destroy(int id, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  public record ListSpaces(ActorRef<SpaceIds> replyTo) implements Command {}

  /** The ids of every existing space, ascending; space 0 first. */
  public record SpaceIds(int[] ids) implements CborSerializable {}

  public static final int ANY_ID = -1;

  private record Created(int id, StatusReply<SpaceStats> reply, ActorRef<StatusReply<SpaceStats>> replyTo)
      implements Command {}

  private record Destroyed(int id, StatusReply<Done> reply, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  private final PidspaceSettings settings;
  private final PidLayout layout;
  private final SpaceRefs spaces;
  private final StashBuffer<Command> waiting;
  private final BitSet existing = new BitSet();
  private boolean busy; // a create or destroy is in flight

  public static Behavior<Command> create(PidspaceSettings settings, SpaceRefs spaces) {
    return Behaviors.withStash(10_000, stash -> Behaviors.setup(ctx -> new SpaceRegistry(ctx, settings, spaces, stash)));
  }

  private SpaceRegistry(
      ActorContext<Command> context, PidspaceSettings settings, SpaceRefs spaces, StashBuffer<Command> waiting) {
    super(context);
    this.settings = settings;
    this.layout = settings.layout();
    this.spaces = spaces;
    this.waiting = waiting;
    existing.set(PidLayout.DEFAULT_SPACE);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ListSpaces.class, this::onList)
        .onMessage(Create.class, this::onCreate)
        .onMessage(Destroy.class, this::onDestroy)
        .onMessage(Created.class, this::onCreated)
        .onMessage(Destroyed.class, this::onDestroyed)
        .build();
  }

  private Behavior<Command> onList(ListSpaces cmd) {
    cmd.replyTo.tell(new SpaceIds(existing.stream().toArray()));
    return this;
  }

  private Behavior<Command> onCreate(Create cmd) {
    if (busy) {
      return stash(cmd);
    }
    int id;
    int pidMax;
    try {
      id = chooseId(cmd.id);
      pidMax = cmd.pidMax == 0 ? settings.pidMax() : layout.checkPidMax(cmd.pidMax);
    } catch (PidspaceException refusal) {
      cmd.replyTo.tell(StatusReply.error(refusal.toWire()));
      return this;
    }
    busy = true;
    getContext().askWithStatus(
        SpaceStats.class,
        spaces.space(id),
        settings.askTimeout(),
        replyTo -> new PidSpace.Create(pidMax, replyTo),
        (stats, failure) -> new Created(id, reply(stats, failure), cmd.replyTo));
    return this;
  }

  private Behavior<Command> onCreated(Created done) {
    if (done.reply.isSuccess()) {
      existing.set(done.id);
    }
    done.replyTo.tell(done.reply);
    return idle();
  }

  private Behavior<Command> onDestroy(Destroy cmd) {
    if (busy) {
      return stash(cmd);
    }
    PidspaceException refusal = null;
    if (cmd.id == PidLayout.DEFAULT_SPACE) {
      refusal = new PidspaceException(
          PidspaceException.Code.DEFAULT_SPACE, "space 0 is the default space and cannot be destroyed");
    } else if (!layout.isValidSpace(cmd.id) || !existing.get(cmd.id)) {
      refusal = PidspaceException.unknownSpace(cmd.id);
    }
    if (refusal != null) {
      cmd.replyTo.tell(StatusReply.error(refusal.toWire()));
      return this;
    }
    busy = true;
    getContext().askWithStatus(
        Done.class,
        spaces.space(cmd.id),
        settings.askTimeout(),
        PidSpace.Destroy::new,
        (done, failure) -> new Destroyed(cmd.id, reply(done, failure), cmd.replyTo));
    return this;
  }

  private Behavior<Command> onDestroyed(Destroyed done) {
    if (done.reply.isSuccess()) {
      existing.clear(done.id);
    }
    done.replyTo.tell(done.reply);
    return idle();
  }

  private int chooseId(int requested) {
    if (requested == ANY_ID) {
      int id = existing.nextClearBit(1);
      if (id >= layout.maxSpaces()) {
        throw new PidspaceException(
            PidspaceException.Code.NO_SPACE_IDS_LEFT, "all " + (layout.maxSpaces() - 1) + " space ids are in use");
      }
      return id;
    }
    layout.checkSpace(requested);
    if (existing.get(requested)) {
      throw new PidspaceException(PidspaceException.Code.SPACE_ID_IN_USE, "space " + requested + " already exists");
    }
    return requested;
  }

  private Behavior<Command> stash(Command cmd) {
    if (waiting.isFull()) {
      PidspaceException busyRefusal = new PidspaceException(
          PidspaceException.Code.UNAVAILABLE, "the space registry is overloaded; try again");
      if (cmd instanceof Create c) {
        c.replyTo.tell(StatusReply.error(busyRefusal.toWire()));
      } else if (cmd instanceof Destroy d) {
        d.replyTo.tell(StatusReply.error(busyRefusal.toWire()));
      }
      return this;
    }
    waiting.stash(cmd);
    return this;
  }

  private Behavior<Command> idle() {
    busy = false;
    return waiting.unstashAll(this);
  }

  /** A space's answer, or a refusal that says the space did not answer in time. */
  private static <T> StatusReply<T> reply(T value, Throwable failure) {
    if (failure == null) {
      return StatusReply.success(value);
    }
    if (failure instanceof StatusReply.ErrorMessage) {
      return StatusReply.error(failure.getMessage());
    }
    return StatusReply.error(
        new PidspaceException(PidspaceException.Code.UNAVAILABLE, "space did not answer: " + failure.getMessage()).toWire());
  }
}
