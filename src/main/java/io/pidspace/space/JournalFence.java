package io.pidspace.space;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import org.h2.api.Trigger;

/**
 * The journal's fence on H2, a trigger before every insert into {@code event_journal}: an event
 * at or below the highest sequence number its persistence id has ever stored is refused. The
 * journal's key only refuses a number that still has a row; once events under a snapshot are
 * deleted, a stale copy of a space (a paused node, a split brain) would write into the gap.
 * akka-persistence-jdbc keeps the highest row of a deletion (marked deleted), so the highest
 * number stored is always still there. PostgreSQL runs the same check as a PL/pgSQL trigger
 * (schema/postgres.sql).
 *
 * <p>Public with a public constructor because H2 loads it by name, in whichever JVM opens the
 * database: an H2 TCP server must run from pidspace's jar.
 */
public final class JournalFence implements Trigger {

  /** SQLSTATE of a unique violation: what the journal's key answers to the same write. */
  static final String REFUSED = "23505";

  private String query;
  private int persistenceIdColumn = -1;
  private int sequenceNumberColumn = -1;

  @Override
  public void init(Connection connection, String schema, String trigger, String table, boolean before, int type)
      throws SQLException {
    // Journals made before keep their own column order: find both columns by name.
    try (Statement s = connection.createStatement();
        ResultSet none = s.executeQuery("SELECT * FROM \"" + schema + "\".\"" + table + "\" WHERE 1 = 0")) {
      ResultSetMetaData columns = none.getMetaData();
      for (int i = 1; i <= columns.getColumnCount(); i++) {
        String name = columns.getColumnName(i);
        if (name.equalsIgnoreCase("persistence_id")) {
          persistenceIdColumn = i - 1;
        } else if (name.equalsIgnoreCase("sequence_number")) {
          sequenceNumberColumn = i - 1;
        }
      }
    }
    if (persistenceIdColumn < 0 || sequenceNumberColumn < 0) {
      throw new SQLException("table " + table + " has no persistence_id and sequence_number columns");
    }
    query = "SELECT 1 FROM \"" + schema + "\".\"" + table + "\" WHERE \"persistence_id\" = ? AND \"sequence_number\" >= ? LIMIT 1";
  }

  @Override
  public void fire(Connection connection, Object[] oldRow, Object[] newRow) throws SQLException {
    String persistenceId = (String) newRow[persistenceIdColumn];
    long sequenceNumber = ((Number) newRow[sequenceNumberColumn]).longValue();
    try (PreparedStatement q = connection.prepareStatement(query)) {
      q.setString(1, persistenceId);
      q.setLong(2, sequenceNumber);
      try (ResultSet rows = q.executeQuery()) {
        if (rows.next()) {
          throw new SQLException("journal fence: " + persistenceId + " already stored sequence number "
              + sequenceNumber + " or a later one", REFUSED);
        }
      }
    }
  }
}
