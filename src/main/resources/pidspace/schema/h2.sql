-- The akka-persistence-jdbc 5.x tables pidspace uses, made idempotent: run at every start.
-- An event up to 64 KiB is stored in its row (H2: 256 bytes). A larger BLOB goes to a LOB store
-- of its own, three more B-trees every commit rewrites: a batch free of 64 pids (about 1.3 KB
-- with its allocs) made alloc(64) + free a fifth slower (docs/benchmarks.md). A pid change takes
-- about 5 bytes, so a run as large as pidspace.max-batch (10,000) still fits. Persistent.
SET MAX_LENGTH_INPLACE_LOB 65536;
-- "ordering" is the primary key: H2 keys each row by it, and an insert updates two B-trees, this
-- and the unique (persistence_id, sequence_number), where akka-persistence-jdbc's schema made four
-- (a hidden row id, its primary key, and two indexes on "ordering"): 16 spaces x 4 chains ran 15 %
-- faster. The unique pair is the journal's key: a second write at a sequence number is refused.
-- Journals made before keep their tables, and work as they did.
CREATE TABLE IF NOT EXISTS "event_journal" (
    "ordering" BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    "deleted" BOOLEAN DEFAULT false NOT NULL,
    "persistence_id" VARCHAR(255) NOT NULL,
    "sequence_number" BIGINT NOT NULL,
    "writer" VARCHAR NOT NULL,
    "write_timestamp" BIGINT NOT NULL,
    "adapter_manifest" VARCHAR NOT NULL,
    "event_payload" BLOB NOT NULL,
    "event_ser_id" INTEGER NOT NULL,
    "event_ser_manifest" VARCHAR NOT NULL,
    "meta_payload" BLOB,
    "meta_ser_id" INTEGER,
    "meta_ser_manifest" VARCHAR,
    UNIQUE("persistence_id","sequence_number")
);
CREATE TABLE IF NOT EXISTS "event_tag" (
    "event_id" BIGINT NOT NULL,
    "tag" VARCHAR NOT NULL,
    PRIMARY KEY("event_id", "tag"),
    CONSTRAINT fk_event_journal FOREIGN KEY("event_id") REFERENCES "event_journal"("ordering") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "snapshot" (
    "persistence_id" VARCHAR(255) NOT NULL,
    "sequence_number" BIGINT NOT NULL,
    "created" BIGINT NOT NULL,
    "snapshot_ser_id" INTEGER NOT NULL,
    "snapshot_ser_manifest" VARCHAR NOT NULL,
    "snapshot_payload" BLOB NOT NULL,
    "meta_ser_id" INTEGER,
    "meta_ser_manifest" VARCHAR,
    "meta_payload" BLOB,
    PRIMARY KEY("persistence_id","sequence_number")
);
-- The journal's identity (io.pidspace.space.JournalIdentity): a random UUID, written once by the
-- first node that uses the journal and read by every node before it joins a cluster, whose join
-- check refuses a node on another journal. One row; never changed.
CREATE TABLE IF NOT EXISTS "journal_identity" (
    "id" INTEGER NOT NULL PRIMARY KEY CHECK ("id" = 1),
    "identity" VARCHAR(36) NOT NULL
);
-- The fence (io.pidspace.space.JournalFence): an insert at or below the highest sequence number
-- its persistence id ever stored is refused, so events under a snapshot can be deleted and a stale
-- copy of a space still cannot write into the gap. Added to journals made before as they start.
CREATE TRIGGER IF NOT EXISTS "event_journal_fence" BEFORE INSERT ON "event_journal"
    FOR EACH ROW CALL 'io.pidspace.space.JournalFence';
