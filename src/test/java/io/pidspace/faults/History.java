package io.pidspace.faults;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every request a fault-suite client sent, each attempt as the client saw it: when it was sent,
 * when its answer came (or the client gave up on it), and what the answer says. Thread-safe: each client thread
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
   * One attempt of a request. {@code request}: what groups the attempts of one request (an
   * alloc's {@code Idempotency-Key}; for a free, an id the client gives it): a client retries a
   * request of unknown outcome as the same request, and {@link Checker} reads its attempts as
   * one. {@code pids}: for an alloc the global pids answered (empty unless OK); for a free the
   * pid it names. {@code generations}: parallel to {@code pids}, as answered, or the one the free
   * names. {@code error}: the answer's error code, or null (also when no node was reached).
   */
  public record Op(int client, Kind kind, String request, int[] pids, int[] generations, long invoked,
      long completed, Outcome outcome, String error, String detail) {

    /** An attempt that never reached a node (connection refused or not made): it changed nothing. */
    public boolean unsent() {
      return outcome == Outcome.FAILED && error == null;
    }

    public String show(long t0) {
      return String.format("client %d %s %s %s gen %s sent %+.3f s, answered %+.3f s: %s%s", client, kind, request,
          pids.length > 8 ? pids.length + " pids" : Arrays.toString(pids),
          generations.length > 8 ? "…" : Arrays.toString(generations), (invoked - t0) / 1e9,
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
