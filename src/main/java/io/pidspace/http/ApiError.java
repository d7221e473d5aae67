package io.pidspace.http;

import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import io.pidspace.core.PidspaceException;
import java.util.concurrent.CompletionException;

/** A refusal of the HTTP layer, and how every failure becomes a status and an error code. */
final class ApiError extends RuntimeException {

  private final StatusCode status;
  private final String code;

  ApiError(StatusCode status, String code, String message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  static ApiError tooManyPids(long count, int maxBatch) {
    return new ApiError(StatusCodes.PAYLOAD_TOO_LARGE, "too-many-pids",
        "a request may name at most " + maxBatch + " pids (pidspace.max-batch), not " + count);
  }

  StatusCode status() {
    return status;
  }

  String code() {
    return code;
  }

  /** The error a failed request answers with; anything but a known refusal is an internal error. */
  static ApiError of(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (cause instanceof ApiError error) {
      return error;
    }
    if (cause instanceof PidspaceException refusal) {
      return new ApiError(status(refusal.code()), refusal.code().wire(), refusal.getMessage());
    }
    return new ApiError(StatusCodes.INTERNAL_SERVER_ERROR, "internal", String.valueOf(cause));
  }

  private static StatusCode status(PidspaceException.Code code) {
    return switch (code) {
      case UNKNOWN_SPACE, NOT_ALLOCATED -> StatusCodes.NOT_FOUND;
      case OUT_OF_RANGE, BAD_REQUEST, RESERVED_PID -> StatusCodes.BAD_REQUEST;
      case SPACE_EXHAUSTED, SPACE_ID_IN_USE, DEFAULT_SPACE, NO_SPACE_IDS_LEFT, CONFLICT -> StatusCodes.CONFLICT;
      case UNAVAILABLE, OVERLOADED -> StatusCodes.SERVICE_UNAVAILABLE;
    };
  }
}
