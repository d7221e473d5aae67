package io.pidspace.space;

import static io.pidspace.space.DurableSpaceTest.allocWhenCaughtUp;
import static io.pidspace.space.DurableSpaceTest.await;
import static io.pidspace.space.DurableSpaceTest.stop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.ConfigFactory;
import io.pidspace.TestPostgres;
import io.pidspace.api.PidAuthority;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The journal stays bounded and its fence holds: events under the older of a space's two newest
 * snapshots are deleted, and a write at or below the highest sequence number a persistence id
 * ever stored is refused by the database (JournalFence on H2, a trigger on PostgreSQL), so a
 * stale copy of a space cannot write into the deleted range. On H2, and on PostgreSQL when CI
 * provides one.
 */
class JournalFenceTest {

  private static final AtomicInteger DATABASES = new AtomicInteger();

  /** A fresh journal's settings: H2 in memory always, PostgreSQL when CI provides one. */
  static List<String> journals() {
    List<String> journals = new ArrayList<>(List.of("h2"));
    if (System.getenv("PIDSPACE_TEST_PG_URL") != null) {
      journals.add("postgres");
    }
    return journals;
  }

  private static Map<String, Object> fresh(String journal) throws SQLException {
    Map<String, Object> settings = new HashMap<>();
    if (journal.equals("h2")) {
      settings.put("pidspace.jdbc.url", "jdbc:h2:mem:fence-" + DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1");
    } else {
      settings.putAll(TestPostgres.freshSchema("fence").orElseThrow());
    }
    return settings;
  }

  private static ActorSystem<Void> start(Map<String, Object> journal, Map<String, Object> extra) {
    Map<String, Object> settings = new HashMap<>(journal);
    settings.putAll(extra);
    return LocalSystems.start("fence", settings);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("journals")
  void staleCopy_writingBelowADeletedRange_isRefused(String journal) throws Exception {
    Map<String, Object> db = fresh(journal);
    Map<String, Object> settings = Map.of("pidspace.snapshot-every", 5);
    ActorSystem<Void> a = start(db, settings);
    ActorSystem<Void> b = start(db, settings);
    try {
      PidAuthority first = PidAuthority.get(a);
      PidAuthority second = PidAuthority.get(b);
      await(first.createSpace(1));
      Set<Integer> handedOut = new HashSet<>();
      assertTrue(handedOut.add(allocWhenCaughtUp(second))); // b's copy of space 1 is up to date now
      long staleNext = highest(db, "PidSpace|1") + 1; // where b's copy writes next
      for (int i = 0; i < 60; i++) {
        assertTrue(handedOut.add(allocWhenCaughtUp(first)));
      }
      awaitRowsGoneUpTo(db, "PidSpace|1", staleNext);
      int pid = allocWhenCaughtUp(second); // its write lands in the deleted range: refused, it restarts and catches up
      assertTrue(handedOut.add(pid), "the stale copy handed out pid " + pid + " again");
    } finally {
      stop(a);
      stop(b);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("journals")
  void insert_atOrBelowTheHighestEverStored_isRefusedAndAboveIsTaken(String journal) throws Exception {
    Map<String, Object> db = fresh(journal);
    JournalSchema.ensure(ConfigFactory.parseMap(db).withFallback(ConfigFactory.load()));
    try (Connection c = connect(db)) {
      insert(c, "PidSpace|9", 1);
      insert(c, "PidSpace|9", 2);
      insert(c, "PidSpace|9", 3);
      // what akka-persistence-jdbc's deleteMessages(3) does: mark, then delete all but the highest
      try (Statement s = c.createStatement()) {
        s.executeUpdate("UPDATE \"event_journal\" SET \"deleted\" = TRUE WHERE \"persistence_id\" = 'PidSpace|9'");
        s.executeUpdate("DELETE FROM \"event_journal\" WHERE \"persistence_id\" = 'PidSpace|9' AND \"sequence_number\" <= 2");
      }
      for (long stale : new long[] {1, 2, 3}) {
        SQLException refused = assertThrows(SQLException.class, () -> insert(c, "PidSpace|9", stale));
        assertEquals(JournalFence.REFUSED, refused.getSQLState(), refused.getMessage());
      }
      insert(c, "PidSpace|9", 4);
      insert(c, "PidSpace|10", 1); // another persistence id is fenced on its own
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("journals")
  void journalMadeWithoutTheFence_getsItAtStartAndRecovers(String journal) throws Exception {
    Map<String, Object> db = fresh(journal);
    String ddl = new String(JournalSchema.class.getResourceAsStream(
        "/pidspace/schema/" + (journal.equals("h2") ? "h2" : "postgres") + ".sql").readAllBytes());
    try (Connection c = connect(db); Statement s = c.createStatement()) {
      for (String statement : JournalSchema.statements(ddl)) {
        if (!statement.contains("fence")) { // today's release's tables
          s.execute(statement);
        }
      }
    }
    ActorSystem<Void> old = start(db, Map.of("pidspace.jdbc.create-schema", "off"));
    PidAuthority before = PidAuthority.get(old);
    await(before.createSpace(1, 4_096));
    int[] pids = await(before.alloc(1, 30));
    stop(old);

    ActorSystem<Void> upgraded = start(db, Map.of());
    try {
      PidAuthority after = PidAuthority.get(upgraded);
      assertEquals(30, await(after.stats(1)).allocated());
      await(after.free(pids[0]));
      try (Connection c = connect(db)) {
        SQLException refused = assertThrows(SQLException.class, () -> insert(c, "PidSpace|1", 1));
        assertEquals(JournalFence.REFUSED, refused.getSQLState());
      }
    } finally {
      stop(upgraded);
    }
  }

  /** Waits until the journal has deleted every row of {@code persistenceId} up to {@code upTo}. */
  private static void awaitRowsGoneUpTo(Map<String, Object> db, String persistenceId, long upTo) throws Exception {
    for (int attempt = 0; lowest(db, persistenceId) <= upTo; attempt++) {
      assertTrue(attempt < 300, "the rows of " + persistenceId + " up to " + upTo + " were never deleted");
      Thread.sleep(100);
    }
  }

  private static long lowest(Map<String, Object> db, String persistenceId) throws SQLException {
    return sequenceNumber(db, "MIN", persistenceId);
  }

  private static long highest(Map<String, Object> db, String persistenceId) throws SQLException {
    return sequenceNumber(db, "MAX", persistenceId);
  }

  private static long sequenceNumber(Map<String, Object> db, String aggregate, String persistenceId) throws SQLException {
    // PostgreSQL's tables have unquoted (lower-case) names: quoted lower case names them there too
    try (Connection c = connect(db); PreparedStatement q = c.prepareStatement("SELECT " + aggregate
        + "(\"sequence_number\") FROM \"event_journal\" WHERE \"persistence_id\" = ?")) {
      q.setString(1, persistenceId);
      try (ResultSet rows = q.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }

  private static Connection connect(Map<String, Object> db) throws SQLException {
    return DriverManager.getConnection((String) db.get("pidspace.jdbc.url"),
        (String) db.getOrDefault("pidspace.jdbc.user", "sa"), (String) db.getOrDefault("pidspace.jdbc.password", ""));
  }

  private static void insert(Connection c, String persistenceId, long sequenceNumber) throws SQLException {
    try (PreparedStatement insert = c.prepareStatement("INSERT INTO \"event_journal\" (\"persistence_id\", "
        + "\"sequence_number\", \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_payload\", "
        + "\"event_ser_id\", \"event_ser_manifest\") VALUES (?, ?, 'test', 0, '', ?, 0, '')")) {
      insert.setString(1, persistenceId);
      insert.setLong(2, sequenceNumber);
      insert.setBytes(3, new byte[] {1});
      insert.executeUpdate();
    }
  }
}
