package io.pidspace.space;

import akka.actor.NoSerializationVerificationNeeded;
import akka.actor.typed.Behavior;
import akka.actor.typed.BehaviorInterceptor;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.TypedActorContext;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.pattern.CircuitBreakerOpenException;
import akka.persistence.RecoveryTimedOut;
import akka.serialization.SerializationExtension;
import com.typesafe.config.Config;
import io.pidspace.core.PidspaceException;
import io.pidspace.metrics.SpaceMetrics;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Stands in front of a durable space, outside its restart supervisor, so it outlives the
 * space's incarnations, and knows whether the space has recovered. While it recovers, runs go
 * through (the space stashes them) and are remembered; once recovered, everything goes through.
 * When recovery fails, the remembered runs and every later one are answered here at once with
 * the refusal that names the cause, {@code space-unrecoverable} when the snapshot or an event
 * cannot be read and {@code unavailable} when the journal itself failed, while the supervisor
 * keeps retrying the recovery with backoff: a repaired space serves again by itself.
 * (Otherwise the stashed runs went down with the failed incarnation, unanswered, and every
 * caller waited out its ask.) Registry commands always go through: the registry retries them.
 * A stop ({@link PidSpace.Passivate}) stops a broken space here at once: it has nothing to store.
 *
 * <p>The space's signal handlers tell it what happened ({@link #recovered}, {@link #restarting},
 * {@link #recoveryFailed}); all of it runs on the space's own thread. Once recovered, a message
 * costs one type check here.
 */
final class RecoveryGuard extends BehaviorInterceptor<PidSpace.Command, PidSpace.Command> {

  /**
   * How long the journal may take to say which event it cannot read before the refusal names
   * the batch instead (a healthy journal takes milliseconds; the callers wait meanwhile).
   */
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);

  private enum Phase { RECOVERING, READY, BROKEN }

  /** The journal read again off the actor: the first unreadable event after {@code after}, or 0. */
  private record Probed(long after, long sequenceNr, Throwable cause)
      implements PidSpace.Command, NoSerializationVerificationNeeded {}

  private final ActorContext<PidSpace.Command> context;
  private final PidspaceSettings settings;
  private final int space;
  private final String persistenceId;
  private final SpaceMetrics metrics;
  private Phase phase = Phase.RECOVERING;
  private PidspaceException refusal; // while BROKEN
  private Result refused; // the same, as each request's answer
  // While RECOVERING: the runs the space has stashed, to answer if its recovery fails.
  private final List<PidSpace.Run> forwarded = new ArrayList<>();
  // Runs answered here that the space still holds in its stash (it keeps it across restarts):
  // it drops them when a later recovery succeeds, so a refused request never takes effect.
  private final Set<PidSpace.Run> answered = Collections.newSetFromMap(new IdentityHashMap<>());
  // What did not apply during this recovery: the snapshot, or the first event that did not.
  private RuntimeException unappliedSnapshot;
  private RuntimeException unappliedEvent;
  private long unappliedEventSequenceNr;
  private Throwable lastFailure;
  private boolean probing;
  private boolean passivating; // a stop came while it recovered

  private RecoveryGuard(ActorContext<PidSpace.Command> context, PidspaceSettings settings, int space,
      String persistenceId) {
    super(PidSpace.Command.class);
    this.context = context;
    this.settings = settings;
    this.space = space;
    this.persistenceId = persistenceId;
    this.metrics = SpaceMetrics.of(context.getSystem());
  }

  /** {@code space}'s durable behavior, made by {@code inner} with this guard, behind it. */
  static Behavior<PidSpace.Command> around(ActorContext<PidSpace.Command> context, PidspaceSettings settings, int space,
      String persistenceId, Function<RecoveryGuard, Behavior<PidSpace.Command>> inner) {
    RecoveryGuard guard = new RecoveryGuard(context, settings, space, persistenceId);
    return Behaviors.intercept(() -> guard, inner.apply(guard));
  }

  @Override
  public Behavior<PidSpace.Command> aroundReceive(TypedActorContext<PidSpace.Command> ctx, PidSpace.Command msg,
      ReceiveTarget<PidSpace.Command> target) {
    if (phase == Phase.READY) {
      return msg instanceof Probed ? Behaviors.same() : target.apply(ctx, msg);
    }
    if (msg instanceof Probed probed) {
      onProbed(probed);
      return Behaviors.same();
    }
    if (msg == PidSpace.Passivate.INSTANCE) {
      if (phase == Phase.BROKEN) {
        // Nothing to store: no incarnation has recovered since its last write. Passed on, the
        // stop would wait in the space's stash for a recovery that does not come (a rebalance's
        // handoff, a node's leave, a plain space's shutdown would wait out their timeouts).
        return Behaviors.stopped();
      }
      passivating = true; // the space stores and stops once recovered; if it fails, this stops it
    }
    if (msg instanceof PidSpace.Run run) {
      if (phase == Phase.BROKEN) {
        run.replyTo().tell(refusedAll(run));
        return Behaviors.same();
      }
      forwarded.add(run);
    }
    return target.apply(ctx, msg);
  }

  /**
   * RecoveryCompleted: the space answers what it stashed and everything from now on. Throws what
   * the snapshot or an event failed with when it did not apply ({@link #snapshotNotApplied},
   * {@link #eventNotApplied}): thrown from RecoveryCompleted, it fails the recovery, which then
   * restarts with backoff.
   */
  void recovered() {
    if (unappliedSnapshot != null) {
      throw unappliedSnapshot;
    }
    if (unappliedEvent != null) {
      throw unappliedEvent;
    }
    if (phase == Phase.BROKEN) {
      context.getLog().info("space {} (persistence id {}) recovered and serves again", space, persistenceId);
    }
    phase = Phase.READY;
    lastFailure = null;
    passivating = false; // the space has the stop stashed and acts on it itself
    forwarded.clear();
    refusal = null;
    refused = null;
    metrics.unrecoverable(space, false);
  }

  /** PreRestart: a space whose write failed restarts and recovers again; one that is broken stays so. */
  void restarting() {
    if (phase == Phase.READY) {
      phase = Phase.RECOVERING;
    }
  }

  /**
   * The snapshot was read but does not make a space (its bitmap is corrupt). Thrown from the
   * snapshot adapter, that would stop the space instead of failing its recovery (Akka reads the
   * snapshot outside the recovery's own error handling): the adapter tells this instead, and
   * {@link #recovered} fails the recovery once the journal has replayed every event.
   */
  void snapshotNotApplied(RuntimeException cause) {
    unappliedSnapshot = cause;
  }

  /**
   * Event {@code sequenceNr} was read but does not apply. While recovering, the failure waits for
   * the end of the replay ({@link #recovered}): thrown from the event handler it fails the
   * recovery mid-replay, and the rest of that replay reaches the next incarnation, which stashes
   * it and, once recovered, stops unstashing at it (an Akka 2.8 quirk): requests behind it wait
   * unanswered. Returns false once recovered: then the event handler throws as it would.
   */
  boolean eventNotApplied(RuntimeException cause, long sequenceNr) {
    if (phase == Phase.READY) {
      return false;
    }
    if (unappliedEvent == null) {
      unappliedEvent = cause;
      unappliedEventSequenceNr = sequenceNr;
    }
    return true;
  }

  /** Whether recovery has found a snapshot or an event that does not apply: the events after it are not applied. */
  boolean skipsEvents() {
    return unappliedSnapshot != null || unappliedEvent != null;
  }

  /**
   * RecoveryFailed, with the sequence number of the last event replayed, or -1 while the
   * snapshot was still being read.
   */
  void recoveryFailed(Throwable cause, long replayedTo) {
    if (lastFailure != null && cause.getCause() == lastFailure) {
      return; // Akka signals a failed replay twice, the second time wrapped: it is the same failure
    }
    lastFailure = cause;
    RuntimeException snapshot = unappliedSnapshot;
    RuntimeException event = unappliedEvent;
    unappliedSnapshot = null;
    unappliedEvent = null;
    if (snapshot != null) {
      broken(unrecoverable("its snapshot", snapshot));
    } else if (event != null) {
      broken(unrecoverable("its event at sequence number " + unappliedEventSequenceNr, event));
    } else if (journalFailed(cause)) {
      broken(PidspaceException.unavailable("space " + space + " cannot be recovered now (persistence id "
          + persistenceId + "): the journal failed (" + cause.getClass().getSimpleName()
          + "); it tries again with backoff"));
    } else if (replayedTo < 0) {
      broken(unrecoverable("its snapshot", cause));
    } else if (!probing) {
      // The journal could not read an event after replayedTo, and does not say which (see
      // JournalSchema.firstUnreadableEvent): read them again, off the actor, and answer then.
      probing = true;
      Config config = context.getSystem().settings().config();
      String batch = settings.journalPluginId() + ".replayBatchSize";
      int limit = config.hasPath(batch) ? config.getInt(batch) : 400;
      var serialization = SerializationExtension.get(Adapter.toClassic(context.getSystem()));
      context.pipeToSelf(
          CompletableFuture.supplyAsync(
                  () -> JournalSchema.firstUnreadableEvent(config, serialization, persistenceId, replayedTo, limit),
                  context.getSystem().dispatchers().lookup(DispatcherSelector.blocking()))
              .orTimeout(PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
          (sequenceNr, failure) -> new Probed(replayedTo, sequenceNr == null ? 0 : sequenceNr, cause));
    }
  }

  /** Whether the space holds {@code command} stashed although it was answered here: it drops it. */
  boolean answeredAlready(PidSpace.Command command) {
    return !answered.isEmpty() && answered.remove(command);
  }

  private void onProbed(Probed probed) {
    probing = false;
    broken(unrecoverable(probed.sequenceNr > 0
        ? "its event at sequence number " + probed.sequenceNr
        : "an event after sequence number " + probed.after, probed.cause));
  }

  private void broken(PidspaceException why) {
    boolean unrecoverable = why.code() == PidspaceException.Code.SPACE_UNRECOVERABLE;
    if (refusal == null || !refusal.getMessage().equals(why.getMessage())) {
      if (unrecoverable) {
        context.getLog().error("space {} answers every request with {}: {}", space, why.code().wire(), why.getMessage());
      } else {
        context.getLog().warn("space {} answers every request with {}: {}", space, why.code().wire(), why.getMessage());
      }
    }
    phase = Phase.BROKEN;
    refusal = why;
    refused = new Result.Refused(why.refusal());
    metrics.unrecoverable(space, unrecoverable);
    for (PidSpace.Run run : forwarded) {
      run.replyTo().tell(refusedAll(run));
      answered.add(run);
    }
    forwarded.clear();
    if (passivating) {
      passivating = false;
      context.getSelf().tell(PidSpace.Passivate.INSTANCE); // stopped here, now that it is broken
    }
  }

  private PidSpace.Results refusedAll(PidSpace.Run run) {
    return new PidSpace.Results(Collections.nCopies(run.requests().size(), refused));
  }

  private PidspaceException unrecoverable(String what, Throwable cause) {
    return PidspaceException.unrecoverable("space " + space + " cannot be recovered: " + what + " (persistence id "
        + persistenceId + ") cannot be read: " + describe(cause) + "; an operator must repair it (docs/operations.md)");
  }

  /** The error's class and the first line of its message, at most 200 characters: not the payload it quotes. */
  private static String describe(Throwable cause) {
    String message = cause.getMessage();
    if (message == null || message.isBlank()) {
      return cause.getClass().getName();
    }
    String line = message.lines().findFirst().orElse("").strip();
    return cause.getClass().getName() + ": " + (line.length() > 200 ? line.substring(0, 200) + "..." : line);
  }

  /** Whether the journal could not be asked (not what it holds): down, slow, or refusing calls. */
  private static boolean journalFailed(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException || t instanceof TimeoutException || t instanceof CircuitBreakerOpenException
          || t instanceof RecoveryTimedOut || t instanceof RejectedExecutionException) {
        return true;
      }
    }
    return false;
  }
}
