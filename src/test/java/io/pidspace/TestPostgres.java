package io.pidspace;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;

/**
 * The PostgreSQL that CI provides ({@code PIDSPACE_TEST_PG_URL}, {@code _USER}, {@code _PASSWORD};
 * see .ci/run), as pidspace settings for a fresh schema of its own, so tests never share a journal.
 */
public final class TestPostgres {

  private TestPostgres() {}

  /** Settings of a new, empty schema; empty when no PostgreSQL is provided. */
  public static Optional<Map<String, String>> freshSchema(String prefix) throws SQLException {
    String url = System.getenv("PIDSPACE_TEST_PG_URL");
    if (url == null || url.isBlank()) {
      return Optional.empty();
    }
    String user = System.getenv().getOrDefault("PIDSPACE_TEST_PG_USER", "pidspace");
    String password = System.getenv().getOrDefault("PIDSPACE_TEST_PG_PASSWORD", "pidspace");
    String schema = prefix + "_" + System.nanoTime();
    try (Connection c = DriverManager.getConnection(url, user, password); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    return Optional.of(Map.of(
        "pidspace.jdbc.url", url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema,
        "pidspace.jdbc.user", user,
        "pidspace.jdbc.password", password,
        "pidspace.jdbc.driver", "org.postgresql.Driver",
        "pidspace.jdbc.profile", "slick.jdbc.PostgresProfile$"));
  }
}
