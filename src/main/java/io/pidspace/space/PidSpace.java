package io.pidspace.space;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.pattern.StatusReply;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;
import java.util.ArrayList;
import java.util.List;

/**
 * One pidspace: the only owner of its {@link PidMap}, taking one message at a time. A sharded
 * entity whose id is the space id. It refuses everything as "unknown space" until the
 * {@link SpaceRegistry} creates it and again after it is destroyed: no message brings an empty
 * space to life. Space 0 exists from the start.
 */
public final class PidSpace extends AbstractBehavior<PidSpace.Command> {

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
  private final int[] scratch;
  private PidMap map; // null: unknown (never created, or destroyed)

  public static Behavior<Command> create(PidspaceSettings settings, int space) {
    return Behaviors.setup(ctx -> new PidSpace(ctx, settings, space));
  }

  private PidSpace(ActorContext<Command> context, PidspaceSettings settings, int space) {
    super(context);
    this.space = space;
    this.settings = settings;
    this.layout = settings.layout();
    this.scratch = new int[settings.maxBatch()];
    if (space == PidLayout.DEFAULT_SPACE) {
      map = PidMap.create(layout, space, settings.pidMax());
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Create.class, this::onCreate)
        .onMessage(Destroy.class, this::onDestroy)
        .onMessage(Alloc.class, this::onAlloc)
        .onMessage(Free.class, this::onFree)
        .onMessage(FreeBatch.class, this::onFreeBatch)
        .onMessage(Lookup.class, this::onLookup)
        .onMessage(GetStats.class, this::onGetStats)
        .build();
  }

  private Behavior<Command> onCreate(Create cmd) {
    if (space == PidLayout.DEFAULT_SPACE) {
      cmd.replyTo.tell(StatusReply.error(defaultSpace("created again").toWire()));
    } else {
      map = PidMap.create(layout, space, cmd.pidMax);
      cmd.replyTo.tell(StatusReply.success(map.stats()));
    }
    return this;
  }

  private Behavior<Command> onDestroy(Destroy cmd) {
    if (space == PidLayout.DEFAULT_SPACE) {
      cmd.replyTo.tell(StatusReply.error(defaultSpace("destroyed").toWire()));
    } else {
      map = null;
      cmd.replyTo.tell(StatusReply.success(Done.getInstance()));
    }
    return this;
  }

  private Behavior<Command> onAlloc(Alloc cmd) {
    if (map == null) {
      return refuse(cmd.replyTo, PidspaceException.unknownSpace(space));
    }
    if (cmd.count < 1 || cmd.count > settings.maxBatch()) {
      return refuse(cmd.replyTo, PidspaceException.badRequest(
          "count " + cmd.count + " is outside 1.." + settings.maxBatch()));
    }
    int n = map.alloc(cmd.count, scratch);
    if (n == 0) {
      return refuse(cmd.replyTo, PidspaceException.exhausted(space, map.pidMax()));
    }
    int[] pids = new int[n];
    for (int i = 0; i < n; i++) {
      pids[i] = layout.encode(space, scratch[i]);
    }
    cmd.replyTo.tell(StatusReply.success(new Allocated(pids)));
    return this;
  }

  private Behavior<Command> onFree(Free cmd) {
    if (map == null) {
      return refuse(cmd.replyTo, PidspaceException.unknownSpace(space));
    }
    PidspaceException refusal = map.checkFree(layout.vpidOf(cmd.pid));
    if (refusal != null) {
      return refuse(cmd.replyTo, refusal);
    }
    map.free(layout.vpidOf(cmd.pid)); // checked above: cannot throw
    cmd.replyTo.tell(StatusReply.success(Done.getInstance()));
    return this;
  }

  private Behavior<Command> onFreeBatch(FreeBatch cmd) {
    List<FreeResult.Refusal> refused = new ArrayList<>();
    if (map == null) {
      PidspaceException unknown = PidspaceException.unknownSpace(space);
      for (int pid : cmd.pids) {
        refused.add(FreeResult.Refusal.of(pid, unknown));
      }
      cmd.replyTo.tell(new FreeResult(new int[0], refused));
      return this;
    }
    int[] vpids = new int[cmd.pids.length];
    for (int i = 0; i < vpids.length; i++) {
      vpids[i] = layout.vpidOf(cmd.pids[i]);
    }
    boolean[] refusedAt = new boolean[vpids.length];
    int freed = map.freeAll(vpids, (i, reason) -> {
      refusedAt[i] = true;
      refused.add(FreeResult.Refusal.of(cmd.pids[i], reason));
    });
    int[] freedPids = new int[freed];
    for (int i = 0, k = 0; i < vpids.length; i++) {
      if (!refusedAt[i]) {
        freedPids[k++] = cmd.pids[i];
      }
    }
    cmd.replyTo.tell(new FreeResult(freedPids, refused));
    return this;
  }

  private Behavior<Command> onLookup(Lookup cmd) {
    if (map == null) {
      return refuse(cmd.replyTo, PidspaceException.unknownSpace(space));
    }
    int vpid = layout.vpidOf(cmd.pid);
    cmd.replyTo.tell(StatusReply.success(new PidInfo(cmd.pid, space, vpid, map.isAllocated(vpid))));
    return this;
  }

  private Behavior<Command> onGetStats(GetStats cmd) {
    if (map == null) {
      return refuse(cmd.replyTo, PidspaceException.unknownSpace(space));
    }
    cmd.replyTo.tell(StatusReply.success(map.stats()));
    return this;
  }

  private <T> Behavior<Command> refuse(ActorRef<StatusReply<T>> replyTo, PidspaceException reason) {
    replyTo.tell(StatusReply.error(reason.toWire()));
    return this;
  }

  private static PidspaceException defaultSpace(String what) {
    return new PidspaceException(PidspaceException.Code.DEFAULT_SPACE, "space 0 is the default space and cannot be " + what);
  }

  @Override
  public String toString() {
    return "PidSpace[" + space + (map == null ? ", unknown]" : ", " + map.stats() + "]");
  }
}
