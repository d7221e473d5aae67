package io.pidspace.core;

/**
 * Why a request was refused: a stable code and the text a client sees (the rule for it is on
 * {@link PidspaceException}). Travels in actor replies between nodes as itself; the facade fails
 * with it wrapped in a {@link PidspaceException}.
 */
public record Refusal(PidspaceException.Code code, String message) implements CborSerializable {

  public PidspaceException exception() {
    return new PidspaceException(this);
  }

  /** {@code "code: message"}, for logs and reports; never parsed back. */
  @Override
  public String toString() {
    return code.wire() + ": " + message;
  }
}
