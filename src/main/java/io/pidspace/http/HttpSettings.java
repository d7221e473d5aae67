package io.pidspace.http;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code pidspace.http { … }} block of the config, read once.
 *
 * @param token the bearer token every mutating request must carry; empty: no token needed
 * @param maxBody the largest request body accepted, in bytes
 * @param terminationDeadline how long open requests may finish when the node shuts down
 */
public record HttpSettings(String interfaceName, int port, String token, long maxBody, Duration terminationDeadline) {

  public HttpSettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("pidspace.http.port " + port + " is outside 0..65535");
    }
    if (maxBody < 1) {
      throw new IllegalArgumentException("pidspace.http.max-body must be positive, not " + maxBody);
    }
  }

  public static HttpSettings from(Config config) {
    Config c = config.getConfig("pidspace.http");
    return new HttpSettings(
        c.getString("interface"),
        c.getInt("port"),
        c.getString("token"),
        c.getBytes("max-body"),
        c.getDuration("termination-deadline"));
  }

  public boolean tokenRequired() {
    return !token.isEmpty();
  }

  /** The same settings on another port: 0 lets the system pick a free one. */
  public HttpSettings withPort(int newPort) {
    return new HttpSettings(interfaceName, newPort, token, maxBody, terminationDeadline);
  }

  public HttpSettings withToken(String newToken) {
    return new HttpSettings(interfaceName, port, newToken, maxBody, terminationDeadline);
  }

  @Override
  public String toString() {
    // never print the token itself
    return "HttpSettings[interface=" + interfaceName + ", port=" + port + ", token=" + (tokenRequired() ? "set" : "none")
        + ", maxBody=" + maxBody + ", terminationDeadline=" + terminationDeadline + "]";
  }
}
