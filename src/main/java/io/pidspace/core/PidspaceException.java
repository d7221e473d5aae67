package io.pidspace.core;

/**
 * Every refusal pidspace makes, as the facade fails with it: a {@link Refusal} (a stable
 * {@link Code}, the same word the HTTP API and {@code replay} print, and a message).
 *
 * <p>One rule for a message, which the HTTP answer shows as it is: it names the rule a request
 * broke and the server's own facts it met, by number (a limit such as pid_max or
 * pidspace.max-batch, a space, vpid or hold the server has or has not), and never quotes a request's
 * text. The core only ever sees numbers that were parsed and range-checked where the request
 * entered, so hostile input never comes back.
 */
public final class PidspaceException extends RuntimeException {

  /** Why a request was refused. {@link #wire()} is stable: clients may match on it. */
  public enum Code {
    UNKNOWN_SPACE("unknown-space"),
    SPACE_EXHAUSTED("space-exhausted"),
    /** An exact vpid asked for (alloc-at, a hold) is allocated already. */
    PID_IN_USE("pid-in-use"),
    /** An exact vpid asked for is held for someone else (a restore in flight). */
    PID_HELD("pid-held"),
    UNKNOWN_HOLD("unknown-hold"),
    NOT_ALLOCATED("not-allocated"),
    /** A free named a generation of the pid other than its holder's: it was freed and allocated again since. */
    STALE_HANDLE("stale-handle"),
    OUT_OF_RANGE("out-of-range"),
    RESERVED_PID("reserved-pid"),
    NO_SPACE_IDS_LEFT("no-space-ids-left"),
    SPACE_ID_IN_USE("space-id-in-use"),
    DEFAULT_SPACE("default-space"),
    BAD_REQUEST("bad-request"),
    /** A create or destroy met a space whose own record disagrees with the registry's. */
    CONFLICT("conflict"),
    /** Too many requests wait for one space on this node: answered at once, nothing stored. */
    OVERLOADED("overloaded"),
    UNAVAILABLE("unavailable"),
    /**
     * The space's stored state cannot be read (its snapshot or an event): it answers nothing else
     * until an operator repairs it (docs/operations.md). Retrying does not help.
     */
    SPACE_UNRECOVERABLE("space-unrecoverable"),
    /** An alloc named an idempotency key that an alloc of another count used: nothing changed. */
    IDEMPOTENCY_KEY_REUSED("idempotency-key-reused");

    private final String wire;

    Code(String wire) {
      this.wire = wire;
    }

    public String wire() {
      return wire;
    }

    /** The code whose {@link #wire()} word is {@code wire}; null for none. */
    public static Code ofWire(String wire) {
      for (Code c : values()) {
        if (c.wire.equals(wire)) {
          return c;
        }
      }
      return null;
    }
  }

  private final Refusal refusal;

  public PidspaceException(Code code, String message) {
    this(new Refusal(code, message));
  }

  public PidspaceException(Refusal refusal) {
    super(refusal.message(), null, false, false); // a refusal is an answer, not a bug: no stack trace to fill
    this.refusal = refusal;
  }

  public Code code() {
    return refusal.code();
  }

  /** The refusal as a value, to send in a reply. */
  public Refusal refusal() {
    return refusal;
  }

  /**
   * The one way to turn a failure into a refusal: a refusal stays itself (also inside a
   * {@link java.util.concurrent.CompletionException}), a timeout or anything else is
   * {@link Code#UNAVAILABLE}.
   */
  public static PidspaceException from(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof PidspaceException refusal) {
      return refusal;
    }
    if (cause instanceof java.util.concurrent.TimeoutException) {
      return unavailable("no answer in time");
    }
    return unavailable("the request failed: " + cause.getClass().getSimpleName());
  }

  public static PidspaceException unknownSpace(int space) {
    return new PidspaceException(Code.UNKNOWN_SPACE, "space " + space + " does not exist");
  }

  public static PidspaceException exhausted(int space, int pidMax) {
    return new PidspaceException(
        Code.SPACE_EXHAUSTED, "space " + space + " has no free pid below pid_max " + pidMax);
  }

  public static PidspaceException badRequest(String message) {
    return new PidspaceException(Code.BAD_REQUEST, message);
  }

  public static PidspaceException unavailable(String message) {
    return new PidspaceException(Code.UNAVAILABLE, message);
  }

  public static PidspaceException unrecoverable(String message) {
    return new PidspaceException(Code.SPACE_UNRECOVERABLE, message);
  }

  public static PidspaceException unknownHold(int space, int hold) {
    return new PidspaceException(Code.UNKNOWN_HOLD, "space " + space + " has no hold " + hold + " (released, claimed or expired)");
  }

  public static PidspaceException staleHandle(String pid) {
    return new PidspaceException(Code.STALE_HANDLE, pid + " is held by a later allocation than the generation named: "
        + "it was freed and allocated again since, nothing freed");
  }

  public static PidspaceException outOfRange(String message) {
    return new PidspaceException(Code.OUT_OF_RANGE, message);
  }
}
