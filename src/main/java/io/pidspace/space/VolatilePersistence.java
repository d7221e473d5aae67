package io.pidspace.space;

import akka.persistence.AtomicWrite;
import akka.persistence.PersistentRepr;
import akka.persistence.SelectedSnapshot;
import akka.persistence.SnapshotMetadata;
import akka.persistence.SnapshotSelectionCriteria;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import scala.concurrent.Future;

/**
 * The journal of {@code pidspace.persistence = none}: it stores nothing and replays nothing, so
 * the same event-sourced {@link PidSpace} and {@link SpaceRegistry} run with their state in
 * memory only. A restarted or moved actor therefore starts empty: never passivate, never
 * rebalance in this mode.
 */
public final class VolatilePersistence {

  private VolatilePersistence() {}

  /** Accepts every write at once and remembers none. */
  public static final class Journal extends akka.persistence.journal.japi.AsyncWriteJournal {
    private static final Future<Iterable<Optional<Exception>>> ALL_WRITTEN = Future.successful(List.of());

    @Override
    public Future<Iterable<Optional<Exception>>> doAsyncWriteMessages(Iterable<AtomicWrite> messages) {
      return ALL_WRITTEN;
    }

    @Override
    public Future<Void> doAsyncDeleteMessagesTo(String persistenceId, long toSequenceNr) {
      return Future.successful(null);
    }

    @Override
    public Future<Void> doAsyncReplayMessages(
        String persistenceId, long fromSequenceNr, long toSequenceNr, long max, Consumer<PersistentRepr> replay) {
      return Future.successful(null);
    }

    @Override
    public Future<Long> doAsyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
      return Future.successful(0L);
    }
  }

  /** Has no snapshot and keeps none. */
  public static final class SnapshotStore extends akka.persistence.snapshot.japi.SnapshotStore {
    @Override
    public Future<Optional<SelectedSnapshot>> doLoadAsync(String persistenceId, SnapshotSelectionCriteria criteria) {
      return Future.successful(Optional.empty());
    }

    @Override
    public Future<Void> doSaveAsync(SnapshotMetadata metadata, Object snapshot) {
      return Future.successful(null);
    }

    @Override
    public Future<Void> doDeleteAsync(SnapshotMetadata metadata) {
      return Future.successful(null);
    }

    @Override
    public Future<Void> doDeleteAsync(String persistenceId, SnapshotSelectionCriteria criteria) {
      return Future.successful(null);
    }
  }
}
