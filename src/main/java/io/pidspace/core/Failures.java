package io.pidspace.core;

import java.util.concurrent.CompletionException;

/** What failed, as every caller of a stage sees it. */
public final class Failures {

  private Failures() {}

  /** {@code failure} without the {@link CompletionException} a dependent stage wraps it in. */
  public static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
  }
}
