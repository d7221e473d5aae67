package io.pidspace.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The outcome of a batch free: the global pids freed, and each refused one with its reason. */
public record FreeResult(int[] freed, List<Refusal> refused) implements CborSerializable {

  /** A pid that was not freed, and why. */
  public record Refusal(int pid, io.pidspace.core.Refusal reason) implements CborSerializable {
    public static Refusal of(int pid, PidspaceException reason) {
      return new Refusal(pid, reason.refusal());
    }

    /** The reason's {@link PidspaceException.Code#wire()} word. */
    public String code() {
      return reason.code().wire();
    }

    public String message() {
      return reason.message();
    }
  }

  public FreeResult {
    refused = List.copyOf(refused);
  }

  /** Both parts of {@code this} and {@code other}, in that order. */
  public FreeResult plus(FreeResult other) {
    int[] all = Arrays.copyOf(freed, freed.length + other.freed.length);
    System.arraycopy(other.freed, 0, all, freed.length, other.freed.length);
    List<Refusal> refusals = new ArrayList<>(refused);
    refusals.addAll(other.refused);
    return new FreeResult(all, refusals);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FreeResult r && Arrays.equals(freed, r.freed) && refused.equals(r.refused);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(freed) + refused.hashCode();
  }

  @Override
  public String toString() {
    return "FreeResult[freed=" + Arrays.toString(freed) + ", refused=" + refused + "]";
  }
}
