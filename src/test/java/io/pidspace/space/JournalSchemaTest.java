package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalSchemaTest {

  /** Events up to 64 KiB stay in their rows, in a journal made now and after it is opened again. */
  @Test
  void h2Journal_keepsEventsUpTo64KiBInTheirRows(@TempDir Path dir) throws Exception {
    Config config = ConfigFactory.parseMap(Map.of("pidspace.jdbc.url", "jdbc:h2:file:" + dir + "/pidspace"))
        .withFallback(ConfigFactory.load());
    JournalSchema.ensure(config);
    assertEquals("65536", inPlaceLimit(config));
    JournalSchema.ensure(config); // idempotent: every start runs it
    assertEquals("65536", inPlaceLimit(config));
  }

  /** What no duplicate rests on: one event per persistence id and sequence number. */
  @Test
  void h2Journal_refusesASecondEventAtTheSameSequenceNumber(@TempDir Path dir) throws Exception {
    Config config = ConfigFactory.parseMap(Map.of("pidspace.jdbc.url", "jdbc:h2:file:" + dir + "/pidspace"))
        .withFallback(ConfigFactory.load());
    JournalSchema.ensure(config);
    try (Connection connection = DriverManager.getConnection(config.getString("pidspace.jdbc.url"), "sa", "")) {
      String insert = "INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"writer\", \"write_timestamp\","
          + " \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\") VALUES (?, ?, 'w', 0, '', X'00', 1, '')";
      try (PreparedStatement statement = connection.prepareStatement(insert)) {
        statement.setString(1, "space-7");
        statement.setLong(2, 1);
        statement.executeUpdate();
        statement.setLong(2, 2);
        statement.executeUpdate();
        statement.setLong(2, 1);
        // refused by the journal's fence (which H2 asks first) or its key: both an integrity violation
        assertEquals("23505", assertThrows(SQLException.class, statement::executeUpdate).getSQLState());
      }
      try (ResultSet rows = connection.createStatement().executeQuery("SELECT \"ordering\" FROM \"event_journal\" ORDER BY 1")) {
        List<Long> ordering = new ArrayList<>();
        while (rows.next()) {
          ordering.add(rows.getLong(1));
        }
        assertEquals(List.of(1L, 2L), ordering);
      }
    }
  }

  private static String inPlaceLimit(Config config) throws Exception {
    try (Connection connection = DriverManager.getConnection(config.getString("pidspace.jdbc.url"), "sa", "");
        ResultSet row = connection.createStatement().executeQuery(
            "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'MAX_LENGTH_INPLACE_LOB'")) {
      row.next();
      return row.getString(1);
    }
  }
}
