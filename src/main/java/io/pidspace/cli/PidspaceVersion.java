package io.pidspace.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of this build: Maven writes it into {@code io/pidspace/version.properties} (the one
 * filtered resource), so the jar, {@code --version}, Akka's {@code app-version} and the storm
 * report all say the same.
 */
public final class PidspaceVersion {

  private static final String VERSION = read();

  private PidspaceVersion() {}

  /** e.g. {@code 0.1.0-SNAPSHOT}; {@code development build} when the classes were not built by Maven. */
  public static String get() {
    return VERSION;
  }

  private static String read() {
    Properties p = new Properties();
    try (InputStream in = PidspaceVersion.class.getResourceAsStream("/io/pidspace/version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String v = p.getProperty("version", "");
    return v.isEmpty() || v.startsWith("$") ? "development build" : v;
  }
}
