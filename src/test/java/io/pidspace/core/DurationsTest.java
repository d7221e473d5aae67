package io.pidspace.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @Test
  void parse_readsDigitsAndAUnit() {
    assertEquals(Optional.of(Duration.ofMillis(500)), Durations.parse("500ms"));
    assertEquals(Optional.of(Duration.ofSeconds(30)), Durations.parse("30s"));
    assertEquals(Optional.of(Duration.ofMinutes(5)), Durations.parse("5m"));
    assertEquals(Optional.of(Duration.ofHours(2)), Durations.parse("2h"));
    assertEquals(Optional.of(Duration.ZERO), Durations.parse("0s"));
    assertEquals(Optional.of(Duration.ZERO), Durations.parse("0"));
    assertEquals(Optional.of(Duration.ofHours(999_999_999)), Durations.parse("999999999h"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "30", "s", "2d", "-3s", "+3s", "30 s", " 30s", "1.5s", "30S", "30sec", "1e3ms",
      "1234567890s", "0x10s", "١s", "30ms ", "00000000000000000001s"})
  void parse_refusesAnythingElse(String text) {
    assertEquals(Optional.empty(), Durations.parse(text));
  }
}
