package io.pidspace.space;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.pattern.StatusReply;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryFailed;
import akka.persistence.typed.SnapshotAdapter;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.Receive;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * One pidspace: the only owner of its {@link PidMap}, taking one message at a time. A sharded
 * entity whose id is the space id. It refuses everything as "unknown space" until the
 * {@link SpaceRegistry} creates it and again after it is destroyed: no message brings an empty
 * space to life. Space 0 exists from the start.
 *
 * <p>Each command is decided once, here ({@link #decide}): the event it causes, if any, and the
 * reply. Two small runtimes carry the decision out. {@link Durable} is event-sourced: the reply
 * that hands out a pid, confirms a free, a create or a destroy is sent only after its event is
 * stored. {@link InMemory} ({@code pidspace.persistence = none}) applies the event at once.
 */
public final class PidSpace {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "PidSpace");

  public interface Command extends CborSerializable {}

  /** Sent by the registry only. Makes the space fresh, whatever it held before. */
  public record Create(int pidMax, ActorRef<StatusReply<SpaceStats>> replyTo) implements Command {}

  /** Sent by the registry only. Frees every pid; the space is unknown afterwards. */
  public record Destroy(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  public record Alloc(int count, ActorRef<StatusReply<Allocated>> replyTo) implements Command {}

  /** {@code pid} is global and belongs to this space (the {@link PidRouter} decoded it). */
  public record Free(int pid, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  public record FreeBatch(int[] pids, ActorRef<FreeResult> replyTo) implements Command {}

  public record Lookup(int pid, ActorRef<StatusReply<PidInfo>> replyTo) implements Command {}

  public record GetStats(ActorRef<StatusReply<SpaceStats>> replyTo) implements Command {}

  /** Global pids, in the order next-fit handed them out. */
  public record Allocated(int[] pids) implements CborSerializable {}

  private final int space;
  private final PidspaceSettings settings;
  private final PidLayout layout;

  /** The behavior of space {@code space}, durable or in memory as {@code pidspace.persistence} says. */
  public static Behavior<Command> create(PidspaceSettings settings, int space) {
    PidSpace logic = new PidSpace(settings, space);
    return Behaviors.setup(ctx -> settings.durable() ? new Durable(ctx, logic) : new InMemory(ctx, logic));
  }

  private PidSpace(PidspaceSettings settings, int space) {
    this.space = space;
    this.settings = settings;
    this.layout = settings.layout();
  }

  /** What a command does: the event to store ({@code null} for none), then the reply to send. */
  private record Decision(SpaceEvent event, Consumer<SpaceState> reply) {
    static Decision reply(Runnable reply) {
      return new Decision(null, state -> reply.run());
    }
  }

  private Decision decide(SpaceState state, Command command) {
    if (command instanceof Alloc cmd) {
      return decideAlloc(state, cmd);
    } else if (command instanceof Free cmd) {
      return decideFree(state, cmd);
    } else if (command instanceof FreeBatch cmd) {
      return decideFreeBatch(state, cmd);
    } else if (command instanceof Lookup cmd) {
      if (!state.exists()) {
        return refuse(cmd.replyTo, PidspaceException.unknownSpace(space));
      }
      int vpid = layout.vpidOf(cmd.pid);
      PidInfo info = new PidInfo(cmd.pid, space, vpid, state.map().isAllocated(vpid));
      return Decision.reply(() -> cmd.replyTo.tell(StatusReply.success(info)));
    } else if (command instanceof GetStats cmd) {
      if (!state.exists()) {
        return refuse(cmd.replyTo, PidspaceException.unknownSpace(space));
      }
      SpaceStats stats = state.map().stats();
      return Decision.reply(() -> cmd.replyTo.tell(StatusReply.success(stats)));
    } else if (command instanceof Create cmd) {
      if (space == PidLayout.DEFAULT_SPACE) {
        return refuse(cmd.replyTo, defaultSpace("created again"));
      }
      return new Decision(new SpaceEvent.SpaceCreated(cmd.pidMax),
          s -> cmd.replyTo.tell(StatusReply.success(s.map().stats())));
    } else if (command instanceof Destroy cmd) {
      if (space == PidLayout.DEFAULT_SPACE) {
        return refuse(cmd.replyTo, defaultSpace("destroyed"));
      }
      return new Decision(state.exists() ? SpaceEvent.SpaceDestroyed.INSTANCE : null,
          s -> cmd.replyTo.tell(StatusReply.success(Done.getInstance())));
    }
    throw new IllegalArgumentException("unexpected command " + command);
  }

  private Decision decideAlloc(SpaceState state, Alloc cmd) {
    if (!state.exists()) {
      return refuse(cmd.replyTo, PidspaceException.unknownSpace(space));
    }
    if (cmd.count < 1 || cmd.count > settings.maxBatch()) {
      return refuse(cmd.replyTo, PidspaceException.badRequest(
          "count " + cmd.count + " is outside 1.." + settings.maxBatch()));
    }
    PidMap map = state.map();
    int[] vpids = new int[Math.min(cmd.count, map.pidMax())];
    int n = map.peek(cmd.count, vpids);
    if (n == 0) {
      return refuse(cmd.replyTo, PidspaceException.exhausted(space, map.pidMax()));
    }
    int[] chosen = n == vpids.length ? vpids : Arrays.copyOf(vpids, n);
    int[] pids = new int[n];
    for (int i = 0; i < n; i++) {
      pids[i] = layout.encode(space, chosen[i]);
    }
    return new Decision(new SpaceEvent.PidsAllocated(chosen), s -> cmd.replyTo.tell(StatusReply.success(new Allocated(pids))));
  }

  private Decision decideFree(SpaceState state, Free cmd) {
    if (!state.exists()) {
      return refuse(cmd.replyTo, PidspaceException.unknownSpace(space));
    }
    int vpid = layout.vpidOf(cmd.pid);
    PidspaceException refusal = state.map().checkFree(vpid);
    if (refusal != null) {
      return refuse(cmd.replyTo, refusal);
    }
    return new Decision(new SpaceEvent.PidsFreed(new int[] {vpid}),
        s -> cmd.replyTo.tell(StatusReply.success(Done.getInstance())));
  }

  private Decision decideFreeBatch(SpaceState state, FreeBatch cmd) {
    List<FreeResult.Refusal> refused = new ArrayList<>();
    if (!state.exists()) {
      PidspaceException unknown = PidspaceException.unknownSpace(space);
      for (int pid : cmd.pids) {
        refused.add(FreeResult.Refusal.of(pid, unknown));
      }
      FreeResult result = new FreeResult(new int[0], refused);
      return Decision.reply(() -> cmd.replyTo.tell(result));
    }
    int[] vpids = new int[cmd.pids.length];
    for (int i = 0; i < vpids.length; i++) {
      vpids[i] = layout.vpidOf(cmd.pids[i]);
    }
    int[] accepted = new int[vpids.length];
    int n = state.map().acceptFrees(vpids, accepted, (i, reason) -> refused.add(FreeResult.Refusal.of(cmd.pids[i], reason)));
    int[] freedVpids = Arrays.copyOf(accepted, n);
    int[] freedPids = new int[n];
    for (int i = 0; i < n; i++) {
      freedPids[i] = layout.encode(space, freedVpids[i]);
    }
    FreeResult result = new FreeResult(freedPids, refused);
    return new Decision(n == 0 ? null : new SpaceEvent.PidsFreed(freedVpids), s -> cmd.replyTo.tell(result));
  }

  private static <T> Decision refuse(ActorRef<StatusReply<T>> replyTo, PidspaceException reason) {
    String wire = reason.toWire();
    return Decision.reply(() -> replyTo.tell(StatusReply.error(wire)));
  }

  private static PidspaceException defaultSpace(String what) {
    return new PidspaceException(
        PidspaceException.Code.DEFAULT_SPACE, "space 0 is the default space and cannot be " + what);
  }

  private SpaceState initialState() {
    return SpaceState.initial(layout, space, settings.pidMax());
  }

  /** {@code pidspace.persistence = none}: the event is applied at once; nothing is stored. */
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
      return newReceiveBuilder().onAnyMessage(command -> {
        Decision decision = logic.decide(state, command);
        if (decision.event != null) {
          state.apply(decision.event);
        }
        decision.reply.accept(state);
        return this;
      }).build();
    }
  }

  /** {@code pidspace.persistence = jdbc}: the reply waits until the event is stored. */
  private static final class Durable extends EventSourcedBehavior<Command, SpaceEvent, SpaceState> {
    private final ActorContext<Command> context;
    private final PidSpace logic;

    Durable(ActorContext<Command> context, PidSpace logic) {
      super(PersistenceId.of(TYPE_KEY.name(), Integer.toString(logic.space)),
          SupervisorStrategy.restartWithBackoff(
              logic.settings.restartBackoffMin(), logic.settings.restartBackoffMax(), 0.2));
      this.context = context;
      this.logic = logic;
    }

    @Override
    public SpaceState emptyState() {
      return logic.initialState();
    }

    @Override
    public CommandHandler<Command, SpaceEvent, SpaceState> commandHandler() {
      return (state, command) -> {
        Decision decision = logic.decide(state, command);
        return decision.event == null
            ? Effect().none().thenRun(decision.reply::accept)
            : Effect().persist(decision.event).thenRun(decision.reply::accept);
      };
    }

    @Override
    public EventHandler<SpaceState, SpaceEvent> eventHandler() {
      return SpaceState::apply;
    }

    @Override
    public RetentionCriteria retentionCriteria() {
      // Snapshots keep recovery short; events before the older kept snapshot are deleted.
      return RetentionCriteria.snapshotEvery(logic.settings.snapshotEvery(), 2).withDeleteEventsOnSnapshot();
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
          return SpaceState.fromSnapshot(logic.layout, logic.space, (SpaceState.Snapshot) from);
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
          .onSignal(RecoveryFailed.class, (state, failed) -> context.getLog().error(
              "space {} (persistence id {}) cannot be recovered from its journal and stays down: {}",
              logic.space, persistenceId().id(), failed.getFailure().toString()))
          .build();
    }
  }
}
