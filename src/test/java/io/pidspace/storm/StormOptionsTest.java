package io.pidspace.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pidspace.cli.StormCommand;
import io.pidspace.core.PidspaceException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

class StormOptionsTest {

  @Test
  void defaults_makeAMeaningfulRealStorm() {
    StormOptions o = Args.options();
    assertEquals(StormOptions.Clock.REAL, o.clock());
    assertEquals(15, o.durationSeconds());
    assertEquals(5, o.warmupSeconds());
    assertEquals(32_768, o.pidMax());
    assertTrue(o.containers() > 1 && o.rate() > 0 && o.burst() > 0);
  }

  @Test
  void defaults_virtualClockSimulatesTenMinutes() {
    assertEquals(600, Args.options("--clock", "virtual").durationSeconds());
    assertEquals(0, Args.options("--clock", "virtual").warmupSeconds());
  }

  @Test
  void durations_readLikeConfig() {
    StormOptions o = Args.options("--duration", "1500ms", "--lifetime-mean", "2m", "--container-lifetime", "1h");
    assertEquals(1.5, o.durationSeconds());
    assertEquals(120, o.lifetimeMeanSeconds());
    assertEquals(3600, o.containerLifetimeSeconds());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "--rate -5                          | --rate -5.0 forks/s is outside",
    "--rate 0                           | --rate 0.0 forks/s is outside",
    "--pid-max 300                      | --pid-max 300 is outside 301..4194304",
    "--pid-max 4194305                  | --pid-max 4194305 is outside 301..4194304",
    "--containers 512                   | --containers 512 is outside 1..511",
    "--containers 0                     | --containers 0 is outside 1..511",
    "--forkers 0                        | --forkers 0 is outside",
    "--burst -1                         | --burst -1 is negative",
    "--duration 0s                      | --duration 0.0s must be positive",
    "--lifetime pareto --pareto-shape 1 | --pareto-shape 1.0 must be above 1",
    "--lifetime exponential --lifetime-mean 0s | --lifetime-mean 0.0s must be positive",
    "--clock virtual --loop closed      | --loop closed needs --clock real",
    "--clock virtual --compare          | --compare measures the speed of two allocators",
    "--duration banana                  | 'banana' is not a duration",
    "--warmup -1s                       | --warmup -1.0s is negative",
    "--clock virtual --warmup 1s        | --warmup needs --clock real",
  })
  void badOptions_areUsageErrorsThatNameTheValue(String args, String message) {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new StormCommand()).setCaseInsensitiveEnumValuesAllowed(true)
        .setErr(new PrintWriter(err)).setOut(new PrintWriter(new StringWriter()));
    int exit = cli.execute(args.trim().split("\\s+"));
    assertEquals(2, exit, err.toString());
    assertTrue(err.toString().contains(message), err.toString());
  }

  @Test
  void badOptions_areRefusedByTheRecordToo() {
    StormOptions o = Args.options();
    assertThrows(PidspaceException.class, () -> new StormOptions(o.clock(), o.containers(),
        o.forkers(), o.pidMax(), o.loop(), -1, o.burst(), o.burstEverySeconds(), o.lifetime(),
        o.lifetimeMeanSeconds(), o.paretoShape(), o.containerLifetimeSeconds(), o.durationSeconds(), o.warmupSeconds(), o.seed(),
        o.compare()));
  }
}
