package io.pidspace.space;

import akka.persistence.typed.javadsl.RetentionCriteria;
import com.typesafe.config.Config;
import io.pidspace.core.PidLayout;
import java.time.Duration;

/** The {@code pidspace { … }} block of the config, read once. */
public record PidspaceSettings(
    PidLayout layout,
    int pidMax,
    Duration askTimeout,
    int maxBatch,
    int replayWindow,
    Persistence persistence,
    String journalPluginId,
    String snapshotPluginId,
    int snapshotEvery,
    Duration passivateAfter,
    Duration restartBackoffMin,
    Duration restartBackoffMax,
    int maxRestarts,
    int maxQueue,
    Duration listTimeout,
    boolean groupCommit,
    int reservation,
    int idempotencyMaxKeys,
    Duration idempotencyWindow) {

  /** {@code pidspace.persistence}: where spaces and the registry keep their events. */
  public enum Persistence {
    /** A journal through akka-persistence-jdbc: H2 or PostgreSQL. Survives crashes. */
    JDBC,
    /** No journal: state lives in memory only, for simulation and single-node embedding. */
    NONE
  }

  public PidspaceSettings {
    layout.checkPidMax(pidMax);
    if (reservation < 0) {
      throw new IllegalArgumentException("pidspace.reservation must be 0 (off) or positive");
    }
    if (idempotencyMaxKeys < 1 || idempotencyWindow.toMillis() < 1) {
      throw new IllegalArgumentException("pidspace.idempotency.max-keys and pidspace.idempotency.window must be positive");
    }
    if (maxBatch < 1 || replayWindow < 1 || snapshotEvery < 1 || maxRestarts < 1 || maxQueue < 1) {
      throw new IllegalArgumentException("pidspace.max-batch, pidspace.replay.window, pidspace.snapshot-every, "
          + "pidspace.restart-backoff.max-restarts and pidspace.max-queue must be positive");
    }
  }

  public static PidspaceSettings from(Config config) {
    Config c = config.getConfig("pidspace");
    Persistence persistence = persistence(c.getString("persistence"));
    boolean durable = persistence == Persistence.JDBC;
    return new PidspaceSettings(
        new PidLayout(c.getInt("shift")),
        c.getInt("pid-max"),
        c.getDuration("ask-timeout"),
        c.getInt("max-batch"),
        c.getInt("replay.window"),
        persistence,
        durable ? c.getString("journal-plugin") : "pidspace.volatile.journal",
        durable ? c.getString("snapshot-plugin") : "pidspace.volatile.snapshot-store",
        c.getInt("snapshot-every"),
        c.getDuration("passivate-after"),
        c.getDuration("restart-backoff.min"),
        c.getDuration("restart-backoff.max"),
        c.getInt("restart-backoff.max-restarts"),
        c.getInt("max-queue"),
        c.getDuration("list-timeout"),
        c.getBoolean("group-commit"),
        c.getInt("reservation"),
        c.getInt("idempotency.max-keys"),
        c.getDuration("idempotency.window"));
  }

  /** A space's empty table of idempotency keys, as these settings bound it. */
  AllocKeys allocKeys() {
    return new AllocKeys(idempotencyMaxKeys, idempotencyWindow.toMillis());
  }

  public boolean durable() {
    return persistence == Persistence.JDBC;
  }

  private static Persistence persistence(String word) {
    return switch (word) {
      case "jdbc" -> Persistence.JDBC;
      case "none" -> Persistence.NONE;
      default -> throw new IllegalArgumentException("pidspace.persistence is '" + word + "'; it must be jdbc or none");
    };
  }

  /**
   * Durable spaces and the registry: a snapshot every {@code snapshot-every} events, the two
   * newest kept, and the events under the older one deleted, so a journal's size levels off
   * (about three times {@code snapshot-every} rows a persistence id, four while Akka skips a
   * deletion that overlaps the one before) and a space whose
   * newest snapshot is unreadable can still recover from the older one and the events since
   * (docs/operations.md). The fence against a stale copy does not need the deleted rows
   * ({@link JournalFence}).
   */
  RetentionCriteria retention() {
    return durable()
        ? RetentionCriteria.snapshotEvery(snapshotEvery, 2).withDeleteEventsOnSnapshot()
        : RetentionCriteria.disabled();
  }
}
