-- The akka-persistence-jdbc 5.x tables pidspace uses, made idempotent: run at every start.
CREATE TABLE IF NOT EXISTS event_journal (
    ordering BIGSERIAL,
    persistence_id VARCHAR(255) NOT NULL,
    sequence_number BIGINT NOT NULL,
    deleted BOOLEAN DEFAULT FALSE NOT NULL,
    writer VARCHAR(255) NOT NULL,
    write_timestamp BIGINT,
    adapter_manifest VARCHAR(255),
    event_ser_id INTEGER NOT NULL,
    event_ser_manifest VARCHAR(255) NOT NULL,
    event_payload BYTEA NOT NULL,
    meta_ser_id INTEGER,
    meta_ser_manifest VARCHAR(255),
    meta_payload BYTEA,
    PRIMARY KEY(persistence_id, sequence_number)
);
CREATE UNIQUE INDEX IF NOT EXISTS event_journal_ordering_idx ON event_journal(ordering);
CREATE TABLE IF NOT EXISTS event_tag (
    event_id BIGINT,
    tag VARCHAR(256),
    PRIMARY KEY(event_id, tag),
    CONSTRAINT fk_event_journal FOREIGN KEY(event_id) REFERENCES event_journal(ordering) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS snapshot (
    persistence_id VARCHAR(255) NOT NULL,
    sequence_number BIGINT NOT NULL,
    created BIGINT NOT NULL,
    snapshot_ser_id INTEGER NOT NULL,
    snapshot_ser_manifest VARCHAR(255) NOT NULL,
    snapshot_payload BYTEA NOT NULL,
    meta_ser_id INTEGER,
    meta_ser_manifest VARCHAR(255),
    meta_payload BYTEA,
    PRIMARY KEY(persistence_id, sequence_number)
);
-- The journal's identity (io.pidspace.space.JournalIdentity): a random UUID, written once by the
-- first node that uses the journal and read by every node before it joins a cluster, whose join
-- check refuses a node on another journal. One row; never changed.
CREATE TABLE IF NOT EXISTS journal_identity (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    identity VARCHAR(36) NOT NULL
);
-- The fence: an insert at or below the highest sequence number its persistence id ever stored is
-- refused, as the key refuses the same number, so events under a snapshot can be deleted and a
-- stale copy of a space still cannot write into the gap (akka-persistence-jdbc keeps the highest
-- row of a deletion). search_path is fixed at creation: the schema this journal lives in.
CREATE OR REPLACE FUNCTION event_journal_fence() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM event_journal
             WHERE persistence_id = NEW.persistence_id AND sequence_number >= NEW.sequence_number) THEN
    RAISE EXCEPTION USING ERRCODE = 'unique_violation',
      MESSAGE = 'journal fence: ' || NEW.persistence_id || ' already stored sequence number '
                || NEW.sequence_number || ' or a later one';
  END IF;
  RETURN NEW;
END
$$;
-- Created once, never dropped and made again: a node starting beside running ones must not leave
-- the journal unfenced for a moment.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                 WHERE tgname = 'event_journal_fence' AND tgrelid = 'event_journal'::regclass) THEN
    CREATE TRIGGER event_journal_fence BEFORE INSERT ON event_journal
        FOR EACH ROW EXECUTE FUNCTION event_journal_fence();
  END IF;
END
$$;
