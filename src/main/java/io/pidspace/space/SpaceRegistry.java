package io.pidspace.space;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
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
import io.pidspace.core.SpaceImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Hands out space ids and knows which spaces exist: the source of truth for that. A Cluster
 * Singleton in a cluster, event-sourced like the spaces.
 *
 * <p>A create or destroy is a protocol (docs/protocol.md): the registry first stores its intent
 * with a new generation, then tells the space, which acts only on a generation newer than its
 * own; then the registry stores that the intent took effect and answers. A registry that
 * recovers with an intent pending finishes it. A space that turns out to exist without the
 * registry's record (an orphan) is adopted and reported, never reset. Generations come from the
 * registry's own stored events, which the journal fences, so a stale or second registry cannot
 * hand out one that a newer intent already used.
 *
 * <p>Creates and destroys wait while one is in flight, so those sent together are answered in
 * order. A space that does not answer in time leaves its intent pending, retried with backoff;
 * the next request goes on (one for that id is refused as unavailable), so a space that does
 * not answer holds up nothing else for longer than one try.
 *
 * <p>Near 500 lines: the protocol's every step is a handler of this one actor, and its stored
 * types stay nested here because their class names are in journals already written.
 */
final class SpaceRegistry
    extends EventSourcedBehavior<SpaceRegistry.Command, SpaceRegistry.Event, SpaceRegistry.State> {

  interface Command extends CborSerializable {}

  /**
   * {@code id} is {@link #ANY_ID} for the lowest free one; {@code pidMax} 0 for the default.
   * Answered {@link Result.Stats} or {@link Result.Refused}, as {@link Import} is.
   */
  record Create(int id, int pidMax, ActorRef<Result> replyTo) implements Command {}

  /**
   * Creates space {@code id} ({@link #ANY_ID}: the lowest free one) exactly as {@code image} says:
   * the create protocol with the image in its intent, so a crash leaves nothing or the whole
   * space. The caller checks the image ({@code PidMap.fromImage}); the space checks it again.
   */
  record Import(int id, SpaceImage image, ActorRef<Result> replyTo) implements Command {}

  /** Answered {@link Result.Done} or {@link Result.Refused}. */
  record Destroy(int id, ActorRef<Result> replyTo) implements Command {}

  record ListSpaces(ActorRef<SpaceIds> replyTo) implements Command {}

  /** The ids of every existing space, ascending; space 0 first. */
  record SpaceIds(int[] ids) implements CborSerializable {}

  static final int ANY_ID = -1;

  // From this actor to itself: never cross the network.
  private record SpaceAnswered(int id, long generation, PidSpace.Status status, Throwable failure)
      implements Command, NoSerializationVerificationNeeded {}

  private record Retry(int id, long generation) implements Command, NoSerializationVerificationNeeded {}

  private record Candidates(List<Integer> ids) implements Command, NoSerializationVerificationNeeded {}

  private record Inspected(int id, PidSpace.Status status) implements Command, NoSerializationVerificationNeeded {}

  sealed interface Event extends CborSerializable {}

  /** The intent to create space {@code id} as {@code generation}, stored before the space acts. */
  record CreateStarted(int id, long generation, int pidMax) implements Event {}

  /** The intent to import space {@code id} as {@code generation}, stored (image and all) before the space acts. */
  record ImportStarted(int id, long generation, SpaceImage image) implements Event {}

  /** The intent to destroy space {@code id} as {@code generation}, stored before the space acts. */
  record DestroyStarted(int id, long generation) implements Event {}

  /** The space acted on the intent of {@code generation}. */
  record Finished(int id, long generation) implements Event {}

  /**
   * The space refused the intent of {@code generation}: its own record, of generation
   * {@code seen}, disagrees. The intent is dropped, and the next one will be newer than {@code seen}.
   */
  record Abandoned(int id, long generation, long seen) implements Event {}

  /** Space {@code id} exists as {@code generation} without this registry's record: now it has one. */
  record Adopted(int id, long generation) implements Event {}

  /** An intent whose outcome is not stored yet; {@code image} only for an import (null in older builds' records). */
  record Pending(boolean create, long generation, int pidMax, SpaceImage image) implements CborSerializable {}

  /** Existing spaces by id with the generation that created them, and pending intents. */
  static final class State {
    private final TreeMap<Integer, Long> existing = new TreeMap<>();
    private final TreeMap<Integer, Pending> pending = new TreeMap<>();
    private long lastGeneration;

    State() {
      existing.put(PidLayout.DEFAULT_SPACE, 0L);
    }

    State apply(Event event) {
      if (event instanceof CreateStarted e) {
        pending.put(e.id, new Pending(true, e.generation, e.pidMax, null));
        lastGeneration = e.generation;
      } else if (event instanceof ImportStarted e) {
        pending.put(e.id, new Pending(true, e.generation, e.image.pidMax(), e.image));
        lastGeneration = e.generation;
      } else if (event instanceof DestroyStarted e) {
        pending.put(e.id, new Pending(false, e.generation, 0, null));
        lastGeneration = e.generation;
      } else if (event instanceof Finished e) {
        Pending done = pending.remove(e.id);
        if (done.create) {
          existing.put(e.id, e.generation);
        } else {
          existing.remove(e.id);
        }
      } else if (event instanceof Abandoned e) {
        pending.remove(e.id);
        lastGeneration = Math.max(lastGeneration, e.seen);
      } else if (event instanceof Adopted e) {
        existing.put(e.id, e.generation);
        lastGeneration = Math.max(lastGeneration, e.generation);
      }
      return this;
    }

    boolean isFree(int id) {
      return !existing.containsKey(id) && !pending.containsKey(id);
    }
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final PidspaceSettings settings;
  private final PidLayout layout;
  private final SpaceRefs spaces;
  private final Supplier<CompletionStage<List<Integer>>> journaledSpaces;
  // Not state: callers waiting for an intent's outcome, and retries so far. A restart answers
  // nobody (their asks time out) and retries from the start.
  private final Map<Integer, List<ActorRef<Result>>> waiting = new HashMap<>();
  private final Map<Integer, Integer> attempts = new HashMap<>();
  private final List<Integer> toInspect = new ArrayList<>();
  // Intents found pending at recovery whose first answer is awaited: until then every request
  // waits, so nobody sees the registry before it has finished what it started.
  private final Set<Integer> settling = new HashSet<>();

  /**
   * @param journaledSpaces the ids of the spaces that have a journal, to look for orphans among
   *     at start; {@code null} when there is no journal
   */
  static Behavior<Command> create(
      PidspaceSettings settings, SpaceRefs spaces, Supplier<CompletionStage<List<Integer>>> journaledSpaces) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new SpaceRegistry(ctx, timers, settings, spaces, journaledSpaces)));
  }

  private SpaceRegistry(ActorContext<Command> context, TimerScheduler<Command> timers, PidspaceSettings settings,
      SpaceRefs spaces, Supplier<CompletionStage<List<Integer>>> journaledSpaces) {
    super(PersistenceId.ofUniqueId("SpaceRegistry"),
        SupervisorStrategy.restartWithBackoff(settings.restartBackoffMin(), settings.restartBackoffMax(), 0.2));
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.layout = settings.layout();
    this.spaces = spaces;
    this.journaledSpaces = journaledSpaces;
  }

  @Override
  public State emptyState() {
    return new State();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(cmd -> !settling.isEmpty() && (cmd instanceof ListSpaces || cmd instanceof Create
            || cmd instanceof Import || cmd instanceof Destroy), cmd -> Effect().stash())
        .onCommand(ListSpaces.class, (state, cmd) -> Effect().none()
            .thenRun(s -> cmd.replyTo.tell(new SpaceIds(s.existing.keySet().stream().mapToInt(i -> i).toArray()))))
        .onCommand(Create.class, this::onCreate)
        .onCommand(Import.class, this::onImport)
        .onCommand(Destroy.class, this::onDestroy)
        .onCommand(SpaceAnswered.class, this::onSpaceAnswered)
        .onCommand(Retry.class, this::onRetry)
        .onCommand(Candidates.class, this::onCandidates)
        .onCommand(Inspected.class, this::onInspected)
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  private Effect<Event, State> onCreate(State state, Create cmd) {
    if (!waiting.isEmpty()) {
      return Effect().stash(); // after the intent in flight has its first answer: in order
    }
    int id;
    int pidMax;
    try {
      id = chooseId(state, cmd.id);
      pidMax = cmd.pidMax == 0 ? settings.pidMax() : layout.checkPidMax(cmd.pidMax);
    } catch (PidspaceException refusal) {
      return refuse(cmd.replyTo, refusal);
    }
    long generation = state.lastGeneration + 1;
    return Effect().persist(new CreateStarted(id, generation, pidMax)).thenRun(s -> {
      addWaiter(id, cmd.replyTo);
      drive(id, s.pending.get(id));
    });
  }

  private Effect<Event, State> onImport(State state, Import cmd) {
    if (!waiting.isEmpty()) {
      return Effect().stash();
    }
    int id;
    try {
      id = chooseId(state, cmd.id);
    } catch (PidspaceException refusal) {
      return refuse(cmd.replyTo, refusal);
    }
    long generation = state.lastGeneration + 1;
    return Effect().persist(new ImportStarted(id, generation, cmd.image)).thenRun(s -> {
      addWaiter(id, cmd.replyTo);
      drive(id, s.pending.get(id));
    });
  }

  private Effect<Event, State> onDestroy(State state, Destroy cmd) {
    if (!waiting.isEmpty()) {
      return Effect().stash();
    }
    try {
      layout.checkSpace(cmd.id);
      if (cmd.id == PidLayout.DEFAULT_SPACE) {
        throw new PidspaceException(
            PidspaceException.Code.DEFAULT_SPACE, "space 0 is the default space and cannot be destroyed");
      }
      if (state.pending.containsKey(cmd.id)) {
        throw busy(cmd.id);
      }
      if (!state.existing.containsKey(cmd.id)) {
        throw PidspaceException.unknownSpace(cmd.id);
      }
    } catch (PidspaceException refusal) {
      return refuse(cmd.replyTo, refusal);
    }
    long generation = state.lastGeneration + 1;
    return Effect().persist(new DestroyStarted(cmd.id, generation)).thenRun(s -> {
      addWaiter(cmd.id, cmd.replyTo);
      drive(cmd.id, s.pending.get(cmd.id));
    });
  }

  private void addWaiter(int id, ActorRef<Result> replyTo) {
    waiting.computeIfAbsent(id, k -> new ArrayList<>()).add(replyTo);
  }

  /** Tells the space what the pending intent says; its answer comes back as {@link SpaceAnswered}. */
  private void drive(int id, Pending intent) {
    Duration timeout = settings.askTimeout().dividedBy(2); // the caller hears before its own ask times out
    context.pipeToSelf(
        Asks.<PidSpace.Command, PidSpace.Status>ask(spaces.space(id),
            replyTo -> !intent.create ? new PidSpace.Destroy(intent.generation, replyTo)
                : intent.image != null ? new PidSpace.Import(intent.generation, intent.image, replyTo)
                : new PidSpace.Create(intent.generation, intent.pidMax, replyTo),
            timeout, context.getSystem().scheduler()),
        (status, failure) -> new SpaceAnswered(id, intent.generation, status, failure));
  }

  private Effect<Event, State> onSpaceAnswered(State state, SpaceAnswered answer) {
    Pending intent = state.pending.get(answer.id);
    settling.remove(answer.id);
    if (intent == null || intent.generation != answer.generation) {
      return Effect().none().thenUnstashAll(); // an answer to an intent settled meanwhile
    }
    int id = answer.id;
    if (answer.failure != null) {
      int attempt = attempts.merge(id, 1, Integer::sum);
      Duration backoff = settings.restartBackoffMin().multipliedBy(1L << Math.min(attempt, 10));
      timers.startSingleTimer(new Retry(id, intent.generation),
          backoff.compareTo(settings.restartBackoffMax()) > 0 ? settings.restartBackoffMax() : backoff);
      context.getLog().warn("space {} did not answer the registry's {} (generation {}); retrying",
          id, intent.create ? "create" : "destroy", intent.generation);
      PidspaceException late = PidspaceException.unavailable("space " + id + " did not answer in time; the registry "
          + "keeps trying to " + (intent.create ? "create" : "destroy") + " it");
      return Effect().none().thenRun(s -> answerWaiting(id, new Result.Refused(late.refusal()))).thenUnstashAll();
    }
    attempts.remove(id);
    PidSpace.Status status = answer.status;
    boolean tookEffect = intent.create
        ? status.exists() && status.generation() == intent.generation
        : !status.exists();
    if (tookEffect) {
      Result reply = intent.create ? new Result.Stats(status.stats()) : new Result.Done();
      return Effect().persist(new Finished(id, intent.generation)).thenRun(s -> answerWaiting(id, reply))
          .thenUnstashAll();
    }
    // The space's own record is newer than the intent, or it exists without the registry's
    // record: never reset it. Drop the intent; a space that exists is adopted as it is.
    context.getLog().error("space {} refused the registry's {} of generation {}: it {} at generation {}; "
            + "the registry keeps the space's record (docs/protocol.md)",
        id, intent.create ? "create" : "destroy", intent.generation,
        status.exists() ? "exists" : "does not exist", status.generation());
    PidspaceException refusal = intent.create && status.exists()
        ? new PidspaceException(PidspaceException.Code.SPACE_ID_IN_USE,
            "space " + id + " already exists (found without the registry's record; now listed)")
        : new PidspaceException(PidspaceException.Code.CONFLICT,
            "space " + id + " has a newer record than this request; see the node's log");
    List<Event> events = new ArrayList<>(List.of(new Abandoned(id, intent.generation, status.generation())));
    if (status.exists()) {
      events.add(new Adopted(id, status.generation()));
    }
    return Effect().persist(events).thenRun(s -> answerWaiting(id, new Result.Refused(refusal.refusal())))
        .thenUnstashAll();
  }

  private Effect<Event, State> onRetry(State state, Retry retry) {
    Pending intent = state.pending.get(retry.id);
    if (intent != null && intent.generation == retry.generation) {
      drive(retry.id, intent);
    }
    return Effect().none();
  }

  private void answerWaiting(int id, Result reply) {
    List<ActorRef<Result>> callers = waiting.remove(id);
    if (callers != null) {
      callers.forEach(c -> c.tell(reply));
    }
  }

  /** After recovery: finish what was pending, then look for orphans among the journaled spaces. */
  private void onRecovered(State state) {
    settling.addAll(state.pending.keySet());
    state.pending.forEach(this::drive);
    if (journaledSpaces != null) {
      context.pipeToSelf(journaledSpaces.get(), (ids, failure) -> {
        if (failure != null) {
          context.getLog().warn("could not list the journaled spaces to look for orphans: {}", failure.toString());
          return new Candidates(List.of());
        }
        return new Candidates(ids);
      });
    }
  }

  private Effect<Event, State> onCandidates(State state, Candidates candidates) {
    candidates.ids.stream().filter(id -> id != PidLayout.DEFAULT_SPACE && layout.isValidSpace(id) && state.isFree(id))
        .forEach(toInspect::add);
    inspectNext();
    return Effect().none();
  }

  /** One space at a time, so the look for orphans never wakes many spaces at once. */
  private void inspectNext() {
    if (toInspect.isEmpty()) {
      return;
    }
    int id = toInspect.remove(0);
    context.pipeToSelf(
        Asks.<PidSpace.Command, PidSpace.Status>ask(spaces.space(id), PidSpace.Inspect::new,
            settings.askTimeout(), context.getSystem().scheduler()),
        (status, failure) -> new Inspected(id, status));
  }

  private Effect<Event, State> onInspected(State state, Inspected inspected) {
    inspectNext();
    PidSpace.Status status = inspected.status;
    if (status == null || !status.exists() || !state.isFree(inspected.id)) {
      return Effect().none();
    }
    context.getLog().warn("space {} exists (generation {}, {} live pids) without the registry's record: an orphan; "
            + "adopted, so it is listed and can be destroyed, never reset",
        inspected.id, status.generation(), status.stats().allocated());
    return Effect().persist(new Adopted(inspected.id, status.generation()));
  }

  private int chooseId(State state, int requested) {
    if (requested == ANY_ID) {
      return layout.lowestFreeSpace(state::isFree);
    }
    layout.checkSpace(requested);
    if (state.pending.containsKey(requested)) {
      throw busy(requested);
    }
    if (state.existing.containsKey(requested)) {
      throw new PidspaceException(PidspaceException.Code.SPACE_ID_IN_USE, "space " + requested + " already exists");
    }
    return requested;
  }

  private static PidspaceException busy(int id) {
    return PidspaceException.unavailable("space " + id + " is being created or destroyed; try again");
  }

  private Effect<Event, State> refuse(ActorRef<Result> replyTo, PidspaceException refusal) {
    Result refused = new Result.Refused(refusal.refusal());
    return Effect().none().thenRun(s -> replyTo.tell(refused));
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return settings.retention();
  }

  /** Stored as parallel arrays of the existing spaces, the pending intents, and the last generation. */
  record Snapshot(long lastGeneration, int[] ids, long[] generations, int[] pendingIds, List<Pending> pending)
      implements CborSerializable {}

  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        return new Snapshot(state.lastGeneration,
            state.existing.keySet().stream().mapToInt(i -> i).toArray(),
            state.existing.values().stream().mapToLong(g -> g).toArray(),
            state.pending.keySet().stream().mapToInt(i -> i).toArray(),
            List.copyOf(state.pending.values()));
      }

      @Override
      public State fromJournal(Object from) {
        Snapshot snapshot = (Snapshot) from;
        State state = new State();
        state.lastGeneration = snapshot.lastGeneration;
        for (int i = 0; i < snapshot.ids.length; i++) {
          state.existing.put(snapshot.ids[i], snapshot.generations[i]);
        }
        for (int i = 0; i < snapshot.pendingIds.length; i++) {
          state.pending.put(snapshot.pendingIds[i], snapshot.pending.get(i));
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
        .onSignal(RecoveryCompleted.instance(), this::onRecovered)
        .onSignal(RecoveryFailed.class, (state, failed) -> context.getLog().error(
            "the space registry (persistence id {}) cannot be recovered from its journal: {}",
            persistenceId().id(), failed.getFailure().toString()))
        .build();
  }
}
