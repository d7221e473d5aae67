package io.pidspace.space;

import akka.actor.typed.BackoffSupervisorStrategy;
import akka.actor.typed.PreRestart;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.japi.function.Procedure;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.RecoveryFailed;
import akka.persistence.typed.SnapshotAdapter;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import io.pidspace.metrics.SpaceMetrics;
import java.time.Duration;
import java.util.List;

/** {@code pidspace.persistence = jdbc}: the reply waits until the events are stored. */
final class DurableSpace extends EventSourcedBehavior<PidSpace.Command, SpaceEvent, SpaceState> {
  private final ActorContext<PidSpace.Command> context;
  private final PidSpace logic;
  private final SpaceMetrics metrics;
  // Set by Passivate: an incarnation restarted after the stop's write failed stops again.
  private boolean stopping;
  // The lease the journal held when this copy recovered: another copy's. Leases this copy stores
  // later are its own, and a copy never answers for a generation it destroyed itself.
  private long othersLeaseUntil;
  private final RecoveryGuard guard;

  DurableSpace(ActorContext<PidSpace.Command> context, PidSpace logic, boolean restartsCapped, RecoveryGuard guard) {
    super(persistenceId(logic.space), restarts(logic.settings, restartsCapped));
    this.context = context;
    this.logic = logic;
    this.metrics = SpaceMetrics.of(context.getSystem());
    this.guard = guard;
  }

  static PersistenceId persistenceId(int space) {
    return PersistenceId.of(PidSpace.TYPE_KEY.name(), Integer.toString(space));
  }

  /** The decision's reply, once its events are stored, after telling the node's metrics about the write. */
  private Procedure<SpaceState> timed(PidSpace.Decision decision) {
    long start = System.nanoTime();
    return stored -> {
      int pids = 0;
      for (SpaceEvent event : decision.events()) {
        pids += event instanceof SpaceEvent.PidsChanged changed ? changed.changes().length : 0;
      }
      metrics.stored(pids, System.nanoTime() - start);
      decision.reply().run();
    };
  }

  private static BackoffSupervisorStrategy restarts(PidspaceSettings settings, boolean capped) {
    BackoffSupervisorStrategy backoff = SupervisorStrategy.restartWithBackoff(settings.restartBackoffMin(), settings.restartBackoffMax(), 0.2);
    return capped ? backoff.withMaxRestarts(settings.maxRestarts()) : backoff;
  }

  @Override
  public SpaceState emptyState() {
    return logic.initialState();
  }

  @Override
  public CommandHandler<PidSpace.Command, SpaceEvent, SpaceState> commandHandler() {
    return (state, command) -> {
      if (guard.answeredAlready(command)) {
        return Effect().none(); // refused while recovery failed; stashed since
      }
      if (command == PidSpace.Passivate.INSTANCE) {
        stopping = true;
        List<SpaceEvent> events = PidSpace.stopEvents(state);
        if (events.isEmpty()) {
          return Effect().stop();
        }
        context.getLog().debug("space {} stops: it stores its unstored changes and ends its reservation first ({} events)",
            logic.space, events.size());
        return Effect().persist(events).thenStop();
      }
      if ((command instanceof PidSpace.Create || command instanceof PidSpace.Import) && !state.exists()) {
        long wait = othersLeaseUntil + PidSpace.CLOCK_MARGIN_MILLIS - System.currentTimeMillis();
        if (wait > 0) {
          // a stale copy of the old generation may still answer allocs inside its reservation. One
          // that stored a lease after this copy recovered fails this write, and this copy with it.
          context.scheduleOnce(Duration.ofMillis(wait), context.getSelf(), command);
          return Effect().none();
        }
      }
      PidSpace.Decision decision = logic.decide(state, command);
      return decision.events().isEmpty()
          ? Effect().none().thenRun(s -> decision.reply().run())
          : Effect().persist(decision.events()).thenRun(timed(decision));
    };
  }

  @Override
  public EventHandler<SpaceState, SpaceEvent> eventHandler() {
    return (state, event) -> {
      if (guard.skipsEvents()) {
        return state; // this recovery fails once the replay ends (RecoveryGuard)
      }
      try {
        return state.apply(event);
      } catch (RuntimeException notApplied) {
        if (guard.eventNotApplied(notApplied, replayedTo())) {
          return state;
        }
        throw notApplied;
      }
    };
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return logic.settings.retention();
  }

  @Override
  public SnapshotAdapter<SpaceState> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(SpaceState state) {
        return state.toSnapshot();
      }

      @Override
      public SpaceState fromJournal(Object from) {
        try {
          return SpaceState.fromSnapshot(logic.layout, logic.space, (SpaceState.Snapshot) from,
              logic.settings.allocKeys());
        } catch (RuntimeException corrupt) {
          guard.snapshotNotApplied(corrupt);
          return logic.initialState(); // never used: the recovery fails (RecoveryGuard.recovered)
        }
      }
    };
  }

  @Override
  public String journalPluginId() {
    return logic.settings.journalPluginId();
  }

  @Override
  public String snapshotPluginId() {
    return logic.settings.snapshotPluginId();
  }

  @Override
  public SignalHandler<SpaceState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.class, (state, completed) -> {
          guard.recovered();
          othersLeaseUntil = state.reservedUntil();
          int leaked = state.markReservationLeaked();
          if (leaked > 0) {
            context.getLog().warn("space {} recovered with an unfinished reservation: {} free vpids in it count as "
                + "allocated (leaked) until freed, since some may have been handed out", logic.space, leaked);
          }
          if (stopping) {
            context.getSelf().tell(PidSpace.Passivate.INSTANCE);
          }
        })
        .onSignal(RecoveryFailed.class, (state, failed) -> {
          context.getLog().error("space {} (persistence id {}) cannot be recovered from its journal: {}",
              logic.space, persistenceId().id(), failed.getFailure().toString());
          guard.recoveryFailed(failed.getFailure(), replayedTo());
        })
        .onSignal(PreRestart.class, (state, restart) -> guard.restarting())
        .build();
  }

  /** The event recovery replays (or replayed last); -1 while it was still reading the snapshot. */
  private long replayedTo() {
    try {
      return lastSequenceNumber(context);
    } catch (IllegalStateException readingTheSnapshot) {
      return -1;
    }
  }
}
