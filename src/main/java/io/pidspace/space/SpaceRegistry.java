package io.pidspace.space;

import akka.Done;
import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.pattern.StatusReply;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryFailed;
import akka.persistence.typed.SnapshotAdapter;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.Effect;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;
import java.util.BitSet;

/**
 * Hands out space ids and knows which spaces exist; a Cluster Singleton in a cluster,
 * event-sourced like the spaces. It creates and destroys one space at a time (the rest wait in
 * the stash), so an id is never given twice and a space is never used before its actor has
 * stored that it exists. A space's own event comes first, the registry's second: a crash in
 * between leaves an id the registry thinks free, and creating it again resets that space.
 */
public final class SpaceRegistry
    extends EventSourcedBehavior<SpaceRegistry.Command, SpaceRegistry.Event, SpaceRegistry.State> {

  public interface Command extends CborSerializable {}

  /** {@code id} is {@link #ANY_ID} for the lowest free one; {@code pidMax} 0 for the default. */
  public record Create(int id, int pidMax, ActorRef<StatusReply<SpaceStats>> replyTo) implements Command {}

  public record Destroy(int id, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  public record ListSpaces(ActorRef<SpaceIds> replyTo) implements Command {}

  /** The ids of every existing space, ascending; space 0 first. */
  public record SpaceIds(int[] ids) implements CborSerializable {}

  public static final int ANY_ID = -1;

  // A space's answer, from this actor to itself: never crosses the network.
  private record Created(int id, StatusReply<SpaceStats> reply, ActorRef<StatusReply<SpaceStats>> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  private record Destroyed(int id, StatusReply<Done> reply, ActorRef<StatusReply<Done>> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  public sealed interface Event extends CborSerializable {}

  public record SpaceAdded(int id) implements Event {}

  public record SpaceRemoved(int id) implements Event {}

  /** The existing space ids. Changed only by {@link #apply}. */
  public static final class State {
    private final BitSet existing = new BitSet();

    State() {
      existing.set(PidLayout.DEFAULT_SPACE);
    }

    State apply(Event event) {
      if (event instanceof SpaceAdded e) {
        existing.set(e.id);
      } else if (event instanceof SpaceRemoved e) {
        existing.clear(e.id);
      }
      return this;
    }
  }

  private final ActorContext<Command> context;
  private final PidspaceSettings settings;
  private final PidLayout layout;
  private final SpaceRefs spaces;
  private boolean busy; // a create or destroy is in flight; not state: a restart forgets it

  public static Behavior<Command> create(PidspaceSettings settings, SpaceRefs spaces) {
    return Behaviors.setup(ctx -> new SpaceRegistry(ctx, settings, spaces));
  }

  private SpaceRegistry(ActorContext<Command> context, PidspaceSettings settings, SpaceRefs spaces) {
    super(PersistenceId.ofUniqueId("SpaceRegistry"),
        SupervisorStrategy.restartWithBackoff(settings.restartBackoffMin(), settings.restartBackoffMax(), 0.2));
    this.context = context;
    this.settings = settings;
    this.layout = settings.layout();
    this.spaces = spaces;
  }

  @Override
  public State emptyState() {
    return new State();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(ListSpaces.class, (state, cmd) -> Effect().none()
            .thenRun(s -> cmd.replyTo.tell(new SpaceIds(s.existing.stream().toArray()))))
        .onCommand(Create.class, this::onCreate)
        .onCommand(Destroy.class, this::onDestroy)
        .onCommand(Created.class, this::onCreated)
        .onCommand(Destroyed.class, this::onDestroyed)
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  private Effect<Event, State> onCreate(State state, Create cmd) {
    if (busy) {
      return Effect().stash();
    }
    int id;
    int pidMax;
    try {
      id = chooseId(state, cmd.id);
      pidMax = cmd.pidMax == 0 ? settings.pidMax() : layout.checkPidMax(cmd.pidMax);
    } catch (PidspaceException refusal) {
      return Effect().none().thenRun(s -> cmd.replyTo.tell(StatusReply.error(refusal.toWire())));
    }
    busy = true;
    context.pipeToSelf(
        Asks.<PidSpace.Command, SpaceStats>askWithStatus(spaces.space(id), replyTo -> new PidSpace.Create(pidMax, replyTo),
            settings.askTimeout(), context.getSystem().scheduler()),
        (stats, failure) -> new Created(id, reply(stats, failure), cmd.replyTo));
    return Effect().none();
  }

  private Effect<Event, State> onCreated(State state, Created done) {
    busy = false;
    if (!done.reply.isSuccess()) {
      return Effect().none().thenRun(s -> done.replyTo.tell(done.reply)).thenUnstashAll();
    }
    return Effect().persist(new SpaceAdded(done.id)).thenRun(s -> done.replyTo.tell(done.reply)).thenUnstashAll();
  }

  private Effect<Event, State> onDestroy(State state, Destroy cmd) {
    if (busy) {
      return Effect().stash();
    }
    try {
      layout.checkSpace(cmd.id);
      if (cmd.id == PidLayout.DEFAULT_SPACE) {
        throw new PidspaceException(
            PidspaceException.Code.DEFAULT_SPACE, "space 0 is the default space and cannot be destroyed");
      }
      if (!state.existing.get(cmd.id)) {
        throw PidspaceException.unknownSpace(cmd.id);
      }
    } catch (PidspaceException refusal) {
      String wire = refusal.toWire();
      return Effect().none().thenRun(s -> cmd.replyTo.tell(StatusReply.error(wire)));
    }
    busy = true;
    context.pipeToSelf(
        Asks.<PidSpace.Command, Done>askWithStatus(spaces.space(cmd.id), PidSpace.Destroy::new,
            settings.askTimeout(), context.getSystem().scheduler()),
        (done, failure) -> new Destroyed(cmd.id, reply(done, failure), cmd.replyTo));
    return Effect().none();
  }

  private Effect<Event, State> onDestroyed(State state, Destroyed done) {
    busy = false;
    if (!done.reply.isSuccess()) {
      return Effect().none().thenRun(s -> done.replyTo.tell(done.reply)).thenUnstashAll();
    }
    return Effect().persist(new SpaceRemoved(done.id)).thenRun(s -> done.replyTo.tell(done.reply)).thenUnstashAll();
  }

  private int chooseId(State state, int requested) {
    if (requested == ANY_ID) {
      int id = state.existing.nextClearBit(1);
      if (id >= layout.maxSpaces()) {
        throw new PidspaceException(
            PidspaceException.Code.NO_SPACE_IDS_LEFT, "all " + (layout.maxSpaces() - 1) + " space ids are in use");
      }
      return id;
    }
    layout.checkSpace(requested);
    if (state.existing.get(requested)) {
      throw new PidspaceException(PidspaceException.Code.SPACE_ID_IN_USE, "space " + requested + " already exists");
    }
    return requested;
  }

  /** A space's answer, or a refusal that says the space did not answer in time. */
  private static <T> StatusReply<T> reply(T value, Throwable failure) {
    if (failure == null) {
      return StatusReply.success(value);
    }
    if (failure instanceof StatusReply.ErrorMessage) {
      return StatusReply.error(failure.getMessage());
    }
    return StatusReply.error(new PidspaceException(
        PidspaceException.Code.UNAVAILABLE, "space did not answer: " + failure.getMessage()).toWire());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return settings.durable()
        ? RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2).withDeleteEventsOnSnapshot()
        : RetentionCriteria.disabled();
  }

  /** Stored as the sorted ids. */
  public record Snapshot(int[] ids) implements CborSerializable {}

  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        return new Snapshot(state.existing.stream().toArray());
      }

      @Override
      public State fromJournal(Object from) {
        State state = new State();
        for (int id : ((Snapshot) from).ids()) {
          state.existing.set(id);
        }
        return state;
      }
    };
  }

  @Override
  public String journalPluginId() {
    return settings.journalPluginId();
  }

  @Override
  public String snapshotPluginId() {
    return settings.snapshotPluginId();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryFailed.class, (state, failed) -> context.getLog().error(
            "the space registry (persistence id {}) cannot be recovered from its journal: {}",
            persistenceId().id(), failed.getFailure().toString()))
        .build();
  }
}
