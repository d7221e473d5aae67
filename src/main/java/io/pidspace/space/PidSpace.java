package io.pidspace.space;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import java.util.ArrayList;
import java.util.List;

/**
 * One pidspace: the only owner of its {@link PidMap}, taking one message at a time. A sharded
 * entity whose id is the space id. It refuses everything as "unknown space" until the
 * {@link SpaceRegistry} creates it and again after it is destroyed: no message brings an empty
 * space to life. Space 0 exists from the start.
 *
 * <p>Requests come in {@link Run runs} from a node's {@link Coalescer}: the space decides a run
 * with the core, request by request in arrival order, stores what changed as one event and then
 * answers every request ({@link #decide}; each kind in {@link SpaceRequests}). {@link DurableSpace} is event-sourced: no answer before its
 * event is stored, except allocs inside a stored reservation ({@code pidspace.reservation},
 * {@link SpaceEvent.Reserved}), which are stored with the next write. {@link InMemory}
 * ({@code pidspace.persistence = none}) keeps the changes at once.
 *
 * <p>Creates and destroys carry the registry's generation (docs/protocol.md): the space acts only
 * on a generation newer than its own, stores it, and answers a repeated one with its status, so a
 * retried, late or second registry's command can never reset a space that holds pids.
 */
final class PidSpace {

  static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "PidSpace");

  interface Command extends CborSerializable {}

  /** From the registry only: create the space as {@code generation}, if that is newer than its own. */
  record Create(long generation, int pidMax, ActorRef<Status> replyTo) implements Command {}

  /** From the registry only: destroy the space as {@code generation}, if that is newer than its own. */
  record Destroy(long generation, ActorRef<Status> replyTo) implements Command {}

  /**
   * From the registry only: import the space as {@code generation} exactly as {@code image}
   * says, if it does not exist and that is newer than its own (a create that carries its state).
   */
  record Import(long generation, SpaceImage image, ActorRef<Status> replyTo) implements Command {}

  /** Whether the space exists and at which generation; changes nothing. */
  record Inspect(ActorRef<Status> replyTo) implements Command {}

  /** What a space is: {@code stats} only while it exists. */
  record Status(boolean exists, long generation, SpaceStats stats) implements CborSerializable {}

  /**
   * Requests in arrival order; answered with one {@link Result} each, in the same order. Their
   * callers give up at {@code deadlines} (epoch millis, one per request): a request that reaches
   * the space later is answered unavailable and changes nothing.
   */
  record Run(List<Request<?>> requests, long[] deadlines, ActorRef<Results> replyTo) implements Command {}

  record Results(List<Result> results) implements CborSerializable {}

  /**
   * Stop gracefully: sharding's stop message (passivation, a rebalance's handoff, a node's leave)
   * and a plain space's at its system's shutdown. A durable space first stores what it answered
   * unstored and ends its reservation, in one write, so its recovery counts exactly the pids
   * handed out and leaks nothing: only a crash leaks the range.
   */
  enum Passivate implements Command { INSTANCE }

  /**
   * How long a stored reservation may answer allocs unstored, on the clock of the node that stored
   * it. Bounds how long a stale copy of a space (a paused node, a split brain) can still answer
   * inside it, so a create or import of a new generation waits that long and {@link
   * #CLOCK_MARGIN_MILLIS} more before it stores anything (docs/protocol.md).
   */
  static final long RESERVATION_LEASE_MILLIS = 1_000;
  /** What the nodes' clocks may differ by, at most (NTP on a LAN keeps them within milliseconds). */
  static final long CLOCK_MARGIN_MILLIS = 1_000;

  /** The range a reservation starts at, when {@code pidspace.reservation} allows as much. */
  static final int MIN_RESERVATION = 1_024;

  final int space;
  final PidspaceSettings settings;
  final PidLayout layout;
  // How far ahead the next reservation reaches (see reservationAhead), and when the last one was stored.
  private int reservationAhead;
  private long lastReserved;

  /**
   * The behavior of space {@code space}, durable or in memory as {@code pidspace.persistence}
   * says. {@code restartsCapped}: a space that keeps failing (an unreadable journal) stops after
   * a few backed-off restarts and is started again by its next message (sharding does that); a
   * plain actor, which nothing would start again, keeps backing off instead.
   */
  static Behavior<Command> create(PidspaceSettings settings, int space, boolean restartsCapped) {
    PidSpace logic = new PidSpace(settings, space);
    return Behaviors.setup(ctx -> settings.durable()
        ? RecoveryGuard.around(ctx, settings, space, DurableSpace.persistenceId(space).id(),
            guard -> new DurableSpace(ctx, logic, restartsCapped, guard))
        : new InMemory(ctx, logic));
  }

  private PidSpace(PidspaceSettings settings, int space) {
    this.space = space;
    this.settings = settings;
    this.layout = settings.layout();
  }

  /** What a command does: the events to store (none for a read), then the reply to send. */
  record Decision(List<SpaceEvent> events, Runnable reply) {
    static Decision reply(Runnable reply) {
      return new Decision(List.of(), reply);
    }
  }

  /**
   * Decides {@code command} on {@code state}. A run changes the map as it goes; a durable space
   * rolls the changes back before it stores them, and the event handler applies them once stored.
   */
  Decision decide(SpaceState state, Command command) {
    if (command instanceof Run run) {
      return decideRun(state, run);
    } else if (command instanceof Inspect cmd) {
      Status status = status(state);
      return Decision.reply(() -> cmd.replyTo.tell(status));
    } else if (command instanceof Create cmd) {
      if (space == PidLayout.DEFAULT_SPACE || state.exists() || cmd.generation <= state.generation()) {
        Status status = status(state); // never reset: the registry reads the status and decides
        return Decision.reply(() -> cmd.replyTo.tell(status));
      }
      int pidMax = layout.checkPidMax(cmd.pidMax);
      return new Decision(List.of(new SpaceEvent.SpaceCreated(cmd.generation, pidMax)),
          () -> cmd.replyTo.tell(status(state)));
    } else if (command instanceof Import cmd) {
      if (space == PidLayout.DEFAULT_SPACE || state.exists() || cmd.generation <= state.generation()) {
        Status status = status(state);
        return Decision.reply(() -> cmd.replyTo.tell(status));
      }
      try {
        PidMap.fromImage(layout, space, cmd.image); // checked again here: the event must apply
      } catch (PidspaceException invalid) {
        // only a caller that bypassed the facade's check gets here; the registry logs the refusal
        Status status = status(state);
        return Decision.reply(() -> cmd.replyTo.tell(status));
      }
      return new Decision(List.of(new SpaceEvent.SpaceImported(cmd.generation, cmd.image)),
          () -> cmd.replyTo.tell(status(state)));
    } else if (command instanceof Destroy cmd) {
      if (space == PidLayout.DEFAULT_SPACE || cmd.generation <= state.generation()) {
        Status status = status(state);
        return Decision.reply(() -> cmd.replyTo.tell(status));
      }
      // stored even when the space does not exist: a late create of an older generation stays fenced
      return new Decision(List.of(new SpaceEvent.SpaceDestroyed(cmd.generation)),
          () -> cmd.replyTo.tell(status(state)));
    }
    throw new IllegalArgumentException("unexpected command " + command);
  }

  private static Status status(SpaceState state) {
    return new Status(state.exists(), state.generation(), state.exists() ? state.map().stats() : null);
  }

  private Decision decideRun(SpaceState state, Run run) {
    List<Result> results = new ArrayList<>(run.requests.size());
    if (!state.exists()) {
      Result unknown = new Result.Refused(PidspaceException.unknownSpace(space).refusal());
      run.requests.forEach(request -> results.add(unknown));
      return Decision.reply(() -> run.replyTo.tell(new Results(results)));
    }
    PidMap map = state.map();
    PidMap.Draft changes = state.openDraft(); // with unstored changes from earlier runs, if any
    int before = changes.size();
    int stepsBefore = changes.otherSteps();
    long now = System.currentTimeMillis();
    changes.at(now); // before anything is decided: durable hold expiry (also after a crash) and the reuse delay's clock
    SpaceRequests requests = new SpaceRequests(space, layout, state, changes, now);
    for (int i = 0; i < run.requests.size(); i++) {
      results.add(now > run.deadlines[i] ? tooLate() : requests.answer(run.requests.get(i)));
    }
    Results answer = new Results(results);
    Runnable reply = () -> run.replyTo.tell(answer);
    List<SpaceEvent.AllocKeyed> keyed = requests.keyed(); // null without a new keyed alloc: most runs
    if (changes.size() == before && changes.otherSteps() == stepsBefore) {
      if (before == 0 && stepsBefore == 0) {
        state.closeDraft();
      }
      return Decision.reply(reply);
    }
    if (!settings.durable()) {
      state.closeDraft(); // kept: nothing to store
      if (keyed != null) {
        keyed.forEach(state::apply);
      }
      return Decision.reply(reply);
    }
    // a crash leaks at most the range: a sixteenth of the space at most
    int reservation = Math.min(settings.reservation(), map.pidMax() / 16);
    // a keyed alloc is answered only once stored with its key: a crash must not forget the key
    if (reservation > 0 && keyed == null && changes.otherSteps() == stepsBefore
        && allReserved(state, changes, before, now)) {
      return Decision.reply(reply); // answered now, stored with the next write
    }
    List<PidMap.Step> record = changes.records();
    int cursor = map.lastPid(); // where next-fit goes on from once this is stored
    int pidMax = map.pidMax();
    changes.rollback();
    state.closeDraft();
    List<SpaceEvent> events = new ArrayList<>();
    if (!state.recorded()) {
      events.add(new SpaceEvent.SpaceCreated(0, map.pidMax())); // rolled back: the pid_max it started with
    }
    record.forEach(step -> events.add(event(step)));
    if (keyed != null) {
      events.addAll(keyed); // in the same atomic write as their pids
    }
    if (reservation > 0) {
      int least = Math.min(MIN_RESERVATION, reservation);
      int ahead = Math.max(least, Math.min(reservationAhead, reservation));
      // renewed once less than half of it is left ahead of the cursor or of its lease
      if (!state.reserved(cursor + ahead / 2, now + RESERVATION_LEASE_MILLIS / 2) || cursor < state.reservedFrom()) {
        ahead = reservationAhead(ahead, least, reservation, now);
        events.add(new SpaceEvent.Reserved(cursor, Math.min(cursor + ahead, pidMax - 1), now + RESERVATION_LEASE_MILLIS));
      }
    } else if (state.reserving()) {
      events.add(new SpaceEvent.Reserved(0, 0, 0)); // reservations were turned off: recovery leaks nothing more
    }
    return new Decision(events, reply);
  }

  /**
   * What a graceful stop stores: the open run's unstored changes (as {@link #decideRun} stores
   * them) and a {@code Reserved(0, 0)} that ends the reservation, its lease kept (a new
   * generation's create still waits it out); nothing when nothing is unstored or reserved.
   */
  static List<SpaceEvent> stopEvents(SpaceState state) {
    List<SpaceEvent> events = new ArrayList<>();
    if (state.exists()) {
      PidMap.Draft changes = state.openDraft();
      List<PidMap.Step> record = changes.records();
      changes.rollback();
      state.closeDraft();
      if (!record.isEmpty() && !state.recorded()) {
        events.add(new SpaceEvent.SpaceCreated(0, state.map().pidMax()));
      }
      record.forEach(step -> events.add(event(step)));
    }
    if (state.reserving()) {
      events.add(new SpaceEvent.Reserved(0, 0, state.reservedUntil()));
    }
    return events;
  }

  /**
   * How far the reservation stored now reaches ahead of the cursor: twice as far as the last one
   * when that one lasted under a tenth of a second, half as far when it lasted half a second or
   * more (its lease, not its range, ran short), between {@code least} and {@code most}. A busy
   * space (16-pid allocs at 500 k pids/s) thus stores a reservation a few dozen times a second
   * instead of a thousand, and a quiet one leaks little on a crash.
   */
  private int reservationAhead(int ahead, int least, int most, long now) {
    long lasted = now - lastReserved;
    if (lasted < RESERVATION_LEASE_MILLIS / 10) {
      ahead = Math.min(ahead * 2, most);
    } else if (lasted >= RESERVATION_LEASE_MILLIS / 2) {
      ahead = Math.max(ahead / 2, least);
    }
    reservationAhead = ahead;
    lastReserved = now;
    return ahead;
  }

  /**
   * Whether every pid change from the {@code from}th on is a next-fit alloc inside the stored
   * reservation and its lease (an alloc-at, {@code AT | v}, is never inside).
   */
  private static boolean allReserved(SpaceState state, PidMap.Draft changes, int from, long now) {
    for (int i = from; i < changes.size(); i++) {
      int c = changes.change(i);
      if (c < 0 || !state.reserved(c, now)) {
        return false;
      }
    }
    return true;
  }

  private static SpaceEvent event(PidMap.Step step) {
    if (step instanceof PidMap.Pids p) {
      return new SpaceEvent.PidsChanged(p.changes());
    } else if (step instanceof PidMap.HoldPlaced h) {
      return new SpaceEvent.HoldPlaced(h.hold());
    } else if (step instanceof PidMap.HoldReleased r) {
      return new SpaceEvent.HoldReleased(r.hold());
    } else if (step instanceof PidMap.PidMaxSet m) {
      return new SpaceEvent.PidMaxChanged(m.pidMax());
    } else if (step instanceof PidMap.ReuseDelaySet d) {
      return new SpaceEvent.ReuseDelayChanged(d.reuseDelay());
    } else if (step instanceof PidMap.Cooled c) {
      return new SpaceEvent.PidsCooled(c.vpids(), c.until());
    }
    throw new IllegalArgumentException("unexpected step " + step);
  }

  /** Whether a run's own change: in memory, the map holds it already. */
  private static boolean ofRun(SpaceEvent event) {
    return event instanceof SpaceEvent.PidsChanged || event instanceof SpaceEvent.HoldPlaced
        || event instanceof SpaceEvent.HoldReleased || event instanceof SpaceEvent.PidMaxChanged
        || event instanceof SpaceEvent.ReuseDelayChanged || event instanceof SpaceEvent.PidsCooled;
  }

  private Result tooLate() {
    return new Result.Refused(PidspaceException.unavailable(
        "the request reached space " + space + " after its caller gave up").refusal());
  }

  SpaceState initialState() {
    return SpaceState.initial(layout, space, settings.pidMax(), settings.allocKeys());
  }

  /** {@code pidspace.persistence = none}: the run's changes are kept at once; nothing is stored. */
  private static final class InMemory extends AbstractBehavior<Command> {
    private final PidSpace logic;
    private final SpaceState state;

    InMemory(ActorContext<Command> context, PidSpace logic) {
      super(context);
      this.logic = logic;
      this.state = logic.initialState();
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder().onMessageEquals(Passivate.INSTANCE, Behaviors::stopped).onAnyMessage(command -> {
        Decision decision = logic.decide(state, command);
        for (SpaceEvent event : decision.events) {
          if (!ofRun(event)) {
            state.apply(event); // a run's changes are in the map already
          }
        }
        decision.reply.run();
        return this;
      }).build();
    }
  }
}
