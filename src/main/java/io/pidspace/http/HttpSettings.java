package io.pidspace.http;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code pidspace.http { … }} block of the config, read once.
 *
 * @param token the bearer token every mutating request must carry; empty: no token needed
 * @param maxBody the largest request body accepted, in bytes
 * @param terminationDeadline how long open requests may finish when the node shuts down
 * @param bodyTimeout how long a request body may take to arrive whole
 */
public record HttpSettings(
    String interfaceName, int port, String token, long maxBody, Duration terminationDeadline, Duration bodyTimeout) {

  /** The {@code body-timeout} of reference.conf. */
  public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(5);

  /**
   * The largest body of {@code POST /v1/spaces:import}, whatever {@code max-body} says: a
   * document of a whole 4,194,304-vpid space takes at most about 700 KB of base64 bitmap, the rest
   * is its holds.
   */
  static final long MAX_IMPORT_BODY = 8L << 20;

  public HttpSettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("pidspace.http.port " + port + " is outside 0..65535");
    }
    if (maxBody < 1) {
      throw new IllegalArgumentException("pidspace.http.max-body must be positive, not " + maxBody);
    }
    if (bodyTimeout.isNegative() || bodyTimeout.isZero()) {
      throw new IllegalArgumentException("pidspace.http.body-timeout must be positive, not " + bodyTimeout);
    }
  }

  /** Settings with the default body timeout. */
  public HttpSettings(String interfaceName, int port, String token, long maxBody, Duration terminationDeadline) {
    this(interfaceName, port, token, maxBody, terminationDeadline, DEFAULT_BODY_TIMEOUT);
  }

  public static HttpSettings from(Config config) {
    Config c = config.getConfig("pidspace.http");
    return new HttpSettings(
        c.getString("interface"),
        c.getInt("port"),
        c.getString("token"),
        c.getBytes("max-body"),
        c.getDuration("termination-deadline"),
        c.getDuration("body-timeout"));
  }

  public boolean tokenRequired() {
    return !token.isEmpty();
  }

  /** The same settings on another port: 0 lets the system pick a free one. */
  public HttpSettings withPort(int newPort) {
    return new HttpSettings(interfaceName, newPort, token, maxBody, terminationDeadline, bodyTimeout);
  }

  public HttpSettings withToken(String newToken) {
    return new HttpSettings(interfaceName, port, newToken, maxBody, terminationDeadline, bodyTimeout);
  }

  @Override
  public String toString() {
    // never print the token itself
    return "HttpSettings[interface=" + interfaceName + ", port=" + port + ", token=" + (tokenRequired() ? "set" : "none")
        + ", maxBody=" + maxBody + ", terminationDeadline=" + terminationDeadline + ", bodyTimeout=" + bodyTimeout + "]";
  }
}
