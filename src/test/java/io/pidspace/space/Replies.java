package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.pattern.StatusReply;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidspaceException;
import java.util.List;

/** Reads the {@link StatusReply} a probe received: the value of a success, the code of a refusal. */
final class Replies {

  private Replies() {}

  static <T> T value(TestProbe<StatusReply<T>> probe) {
    StatusReply<T> reply = probe.receiveMessage();
    assertTrue(reply.isSuccess(), () -> "expected a success, got " + reply.getError().getMessage());
    return reply.getValue();
  }

  static PidspaceException.Code refusal(TestProbe<? extends StatusReply<?>> probe) {
    StatusReply<?> reply = probe.receiveMessage();
    assertTrue(reply.isError(), () -> "expected a refusal, got " + reply.getValue());
    return PidspaceException.fromWire(reply.getError().getMessage()).code();
  }

  /** Each refusal of a batch free as {@code "pid code"}, in the order given. */
  static List<String> refusals(FreeResult result) {
    return result.refused().stream().map(r -> r.pid() + " " + r.code()).toList();
  }
}
