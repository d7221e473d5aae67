package io.pidspace.faults;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every request a fault-suite client sent, as the client saw it: when it was sent, when its
 * answer came (or the client gave up), and what the answer says. Thread-safe: each client thread
 * records its own requests.
 */
public final class History {

  public enum Kind { ALLOC, FREE }

  /**
   * OK: acknowledged (2xx). FAILED: a definite refusal that changed nothing (4xx). UNKNOWN: the
   * request may or may not have taken effect (a timeout, a reset connection, a 5xx).
   */
  public enum Outcome { OK, FAILED, UNKNOWN }

  /**
   * One request. {@code pids}: for an alloc the global pids answered (empty unless OK); for a
   * free the pid it names. {@code error}: the answer's error code, or null.
   */
  public record Op(int client, Kind kind, int[] pids, long invoked, long completed, Outcome outcome,
      String error, String detail) {

    public String show(long t0) {
      return String.format("client %d %s %s sent %+.3f s, answered %+.3f s: %s%s", client, kind,
          pids.length > 8 ? pids.length + " pids" : Arrays.toString(pids), (invoked - t0) / 1e9,
          (completed - t0) / 1e9, outcome, detail == null ? "" : " " + detail);
    }
  }

  private final List<Op> ops = new ArrayList<>();
  /** The time 0 of {@link Op#show}: when the history began. */
  public final long t0;

  public History(long t0) {
    this.t0 = t0;
  }

  public synchronized void add(Op op) {
    ops.add(op);
  }

  public synchronized List<Op> ops() {
    return List.copyOf(ops);
  }

  public synchronized int size() {
    return ops.size();
  }
}
