package io.pidspace.space;

import com.typesafe.config.Config;
import io.pidspace.core.PidLayout;
import java.time.Duration;

/** The {@code pidspace { … }} block of the config, read once. */
public record PidspaceSettings(PidLayout layout, int pidMax, Duration askTimeout, int maxBatch, int replayWindow) {

  public PidspaceSettings {
    layout.checkPidMax(pidMax);
    if (maxBatch < 1 || replayWindow < 1) {
      throw new IllegalArgumentException("pidspace.max-batch and pidspace.replay.window must be positive");
    }
  }

  public static PidspaceSettings from(Config config) {
    Config c = config.getConfig("pidspace");
    return new PidspaceSettings(
        new PidLayout(c.getInt("shift")),
        c.getInt("pid-max"),
        c.getDuration("ask-timeout"),
        c.getInt("max-batch"),
        c.getInt("replay.window"));
  }
}
