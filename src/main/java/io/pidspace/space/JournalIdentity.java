package io.pidspace.space;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.PidspaceException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.UUID;

/**
 * Which journal a node writes to: a random UUID the first node to use a journal stores in it
 * (table {@code journal_identity}, schema/*.sql), read with plain JDBC before the node's actor
 * system exists and put into its config as {@value #PATH}, which {@link JoinCheck} compares on
 * every join. Nodes of one cluster must share one journal: a node on a journal of its own (its
 * own H2 file) would take the spaces it hosts with it when it goes, and hand their pids out again
 * from an empty journal when they come back.
 */
public final class JournalIdentity {

  /** The config path of this node's journal identity; empty for a volatile node. */
  public static final String PATH = "pidspace.journal-identity";

  private JournalIdentity() {}

  /**
   * {@code config} with {@value #PATH} set to the identity of its journal ({@code pidspace.jdbc}),
   * which is made first when the journal has none, together with the journal's tables when
   * {@code pidspace.jdbc.create-schema} is on; a volatile config unchanged. Blocks: call it before
   * the actor system is created. Throws a {@link PidspaceException} that names the journal when it
   * cannot be opened.
   */
  public static Config configure(Config config) {
    if (!PidspaceSettings.from(config).durable()) {
      return config;
    }
    return ConfigFactory.parseMap(Map.of(PATH, of(config))).withFallback(config);
  }

  /**
   * The identity of the journal of {@code config}, made when it has none. Nodes that start at once
   * on a new journal each try to insert one; the key lets one win, and every node reads that one.
   */
  static String of(Config config) {
    if (config.getBoolean("pidspace.jdbc.create-schema")) {
      JournalSchema.ensure(config);
    }
    Config jdbc = config.getConfig("pidspace.jdbc");
    String url = jdbc.getString("url");
    DriverManager.setLoginTimeout(10);
    try (Connection connection = DriverManager.getConnection(url, jdbc.getString("user"), jdbc.getString("password"))) {
      String identity = read(connection);
      if (identity != null) {
        return identity;
      }
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO \"journal_identity\" (\"id\", \"identity\") VALUES (1, ?)")) {
        insert.setString(1, UUID.randomUUID().toString());
        insert.executeUpdate();
      } catch (SQLException e) {
        if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) { // 23xxx: another node's insert won
          throw e;
        }
      }
      identity = read(connection);
      if (identity == null) {
        throw new SQLException("no identity in table journal_identity after inserting one");
      }
      return identity;
    } catch (SQLException e) {
      throw PidspaceException.unavailable("cannot read the identity of the journal at " + url + ": " + e.getMessage());
    }
  }

  private static String read(Connection connection) throws SQLException {
    try (PreparedStatement query = connection.prepareStatement(
            "SELECT \"identity\" FROM \"journal_identity\" WHERE \"id\" = 1");
        ResultSet row = query.executeQuery()) {
      return row.next() ? row.getString(1) : null;
    }
  }
}
