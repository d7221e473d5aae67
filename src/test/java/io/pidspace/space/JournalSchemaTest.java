package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalSchemaTest {

  /** Events up to 4 KiB stay in their rows, in a journal made now and after it is opened again. */
  @Test
  void h2Journal_keepsEventsUpTo4KiBInTheirRows(@TempDir Path dir) throws Exception {
    Config config = ConfigFactory.parseMap(Map.of("pidspace.jdbc.url", "jdbc:h2:file:" + dir + "/pidspace"))
        .withFallback(ConfigFactory.load());
    JournalSchema.ensure(config);
    assertEquals("4096", inPlaceLimit(config));
    JournalSchema.ensure(config); // idempotent: every start runs it
    assertEquals("4096", inPlaceLimit(config));
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
