package io.pidspace.space;

import akka.serialization.Serialization;
import com.typesafe.config.Config;
import io.pidspace.core.PidspaceException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Creates the journal tables when they are missing, with plain JDBC before any actor needs them,
 * and fails fast with a message that names the database when it cannot: a locked H2 file, a
 * PostgreSQL server that is down, a wrong password.
 */
final class JournalSchema {

  private JournalSchema() {}

  /**
   * Runs the idempotent DDL for {@code pidspace.jdbc.url}. Blocks: call it at start, outside
   * actors. Nodes that start together on an empty journal race on it ("if not exists" is not
   * atomic in H2): one that loses tries once more and then finds everything there.
   */
  static void ensure(Config config) {
    try {
      run(config);
    } catch (PidspaceException lostTheRace) {
      run(config);
    }
  }

  /** PostgreSQL's advisory lock key that serializes the DDL of nodes starting at once. */
  private static final long DDL_LOCK = 0x7069647370616365L; // "pidspace"

  private static void run(Config config) {
    Config jdbc = config.getConfig("pidspace.jdbc");
    String url = jdbc.getString("url");
    String ddl = ddlFor(url);
    DriverManager.setLoginTimeout(10);
    try (Connection connection = DriverManager.getConnection(url, jdbc.getString("user"), jdbc.getString("password"));
        Statement statement = connection.createStatement()) {
      if (url.startsWith("jdbc:postgresql:")) {
        // one node at a time: PostgreSQL's "if not exists" races with itself (a duplicate type);
        // the lock ends with the connection
        statement.execute("SELECT pg_advisory_lock(" + DDL_LOCK + ")");
      }
      for (String sql : statements(ddl)) {
        statement.execute(sql);
      }
    } catch (SQLException e) {
      throw new PidspaceException(
          PidspaceException.Code.UNAVAILABLE, "cannot open the journal at " + url + ": " + e.getMessage());
    }
  }

  /**
   * The statements of a DDL script: split at semicolons outside {@code $$} quoting (PostgreSQL's
   * function bodies), lines that are {@code --} comments left out.
   */
  static List<String> statements(String ddl) {
    String text = ddl.lines().filter(line -> !line.strip().startsWith("--")).collect(Collectors.joining("\n"));
    List<String> statements = new ArrayList<>();
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      if (text.startsWith("$$", i)) {
        quoted = !quoted;
        i++;
      } else if (text.charAt(i) == ';' && !quoted) {
        statements.add(text.substring(start, i).strip());
        start = i + 1;
      }
    }
    statements.add(text.substring(start).strip());
    statements.removeIf(String::isEmpty);
    return statements;
  }

  /**
   * The persistence ids in the journal that start with {@code prefix}, with plain JDBC. Blocks:
   * run it on a blocking dispatcher. (Akka's read journal would do it too, but it starts an actor
   * that polls the journal every second for as long as the system runs.)
   */
  static List<String> persistenceIds(Config config, String prefix) {
    Config jdbc = config.getConfig("pidspace.jdbc");
    String url = jdbc.getString("url");
    try (Connection connection = DriverManager.getConnection(url, jdbc.getString("user"), jdbc.getString("password"));
        PreparedStatement query = connection.prepareStatement(
            "SELECT DISTINCT \"persistence_id\" FROM \"event_journal\" WHERE \"persistence_id\" LIKE ?")) {
      query.setString(1, prefix + "%");
      List<String> ids = new ArrayList<>();
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          ids.add(rows.getString(1));
        }
      }
      return ids;
    } catch (SQLException e) {
      throw PidspaceException.unavailable("cannot read the journal at " + url + ": " + e.getMessage());
    }
  }

  /**
   * The sequence number of the first event of {@code persistenceId} after {@code after} whose
   * payload {@code serialization} cannot read, among the next {@code limit}; 0 when all of those
   * read. With plain JDBC: blocks, run it on a blocking dispatcher. (A failed replay tells only
   * where the batch it read began, not which event of it failed: the journal reads events in
   * batches and fails a batch whole when its last event is the bad one.)
   */
  static long firstUnreadableEvent(Config config, Serialization serialization, String persistenceId, long after,
      int limit) {
    Config jdbc = config.getConfig("pidspace.jdbc");
    String url = jdbc.getString("url");
    try (Connection connection = DriverManager.getConnection(url, jdbc.getString("user"), jdbc.getString("password"));
        PreparedStatement query = connection.prepareStatement(
            "SELECT \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\" FROM \"event_journal\""
                + " WHERE \"persistence_id\" = ? AND \"sequence_number\" > ? AND NOT \"deleted\""
                + " ORDER BY \"sequence_number\"")) {
      query.setString(1, persistenceId);
      query.setLong(2, after);
      query.setMaxRows(limit);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          if (serialization.deserialize(rows.getBytes(4), rows.getInt(2), rows.getString(3)).isFailure()) {
            return rows.getLong(1);
          }
        }
      }
      return 0;
    } catch (SQLException e) {
      throw PidspaceException.unavailable("cannot read the journal at " + url + ": " + e.getMessage());
    }
  }

  private static String ddlFor(String url) {
    String dialect;
    if (url.startsWith("jdbc:h2:")) {
      dialect = "h2";
    } else if (url.startsWith("jdbc:postgresql:")) {
      dialect = "postgres";
    } else {
      throw new PidspaceException(PidspaceException.Code.BAD_REQUEST,
          "pidspace.jdbc.url " + url + " is neither H2 (jdbc:h2:) nor PostgreSQL (jdbc:postgresql:)");
    }
    try (InputStream in = JournalSchema.class.getResourceAsStream("/pidspace/schema/" + dialect + ".sql")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
