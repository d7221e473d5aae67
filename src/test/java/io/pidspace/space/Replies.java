package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.TestProbe;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceStats;
import java.util.List;

/** Reads the {@link Result} a probe received: the value of a success, the code of a refusal. */
final class Replies {

  private Replies() {}

  /** The stats of a create's or an import's answer. */
  static SpaceStats stats(TestProbe<Result> probe) {
    Result reply = probe.receiveMessage();
    assertTrue(reply instanceof Result.Stats, () -> "expected stats, got " + reply);
    return ((Result.Stats) reply).stats();
  }

  /** A destroy's answer: done. */
  static void done(TestProbe<Result> probe) {
    Result reply = probe.receiveMessage();
    assertTrue(reply instanceof Result.Done, () -> "expected done, got " + reply);
  }

  static PidspaceException.Code refusal(TestProbe<Result> probe) {
    Result reply = probe.receiveMessage();
    assertTrue(reply instanceof Result.Refused, () -> "expected a refusal, got " + reply);
    return ((Result.Refused) reply).refusal().code();
  }

  /** Each refusal of a batch free as {@code "pid code"}, in the order given. */
  static List<String> refusals(FreeResult result) {
    return result.refused().stream().map(r -> r.pid() + " " + r.code()).toList();
  }
}
