package io.pidspace.core;

import java.time.Duration;
import java.util.Optional;

/**
 * The one way a person writes a duration to pidspace, in the HTTP API ({@code "ttl": "30s"}) and
 * on the command line ({@code --duration 10m}): {@code 0}, or one to nine ASCII digits and a unit,
 * {@code ms}, {@code s}, {@code m} or {@code h} ({@code 500ms}, {@code 30s}, {@code 5m},
 * {@code 2h}). Nothing else: no sign, space, fraction or other unit. Ranges are the caller's.
 */
public final class Durations {

  /** What {@link #parse} takes, for a caller's refusal; names no value. */
  public static final String GRAMMAR = "a whole number with a unit: ms, s, m or h (\"30s\")";

  /** Nine digits and the longest unit: a longer text is refused before it is scanned. */
  private static final int MAX_LENGTH = 11;

  private Durations() {}

  /** The duration {@code text} writes, or empty when it is not one. */
  public static Optional<Duration> parse(String text) {
    if (text.equals("0")) {
      return Optional.of(Duration.ZERO);
    }
    if (text.length() > MAX_LENGTH) {
      return Optional.empty();
    }
    int digits = 0;
    while (digits < text.length() && text.charAt(digits) >= '0' && text.charAt(digits) <= '9') {
      digits++;
    }
    if (digits == 0 || digits > 9) {
      return Optional.empty();
    }
    long n = Long.parseLong(text, 0, digits, 10);
    return switch (text.substring(digits)) {
      case "ms" -> Optional.of(Duration.ofMillis(n));
      case "s" -> Optional.of(Duration.ofSeconds(n));
      case "m" -> Optional.of(Duration.ofMinutes(n));
      case "h" -> Optional.of(Duration.ofHours(n));
      default -> Optional.empty();
    };
  }
}
