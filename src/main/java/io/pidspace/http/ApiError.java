package io.pidspace.http;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.scaladsl.model.EntityStreamSizeException;
import io.pidspace.core.Failures;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.Refusal;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * A refusal of the HTTP layer, and how every failure becomes a status and an error code. Messages
 * name a field and its rule or limit, never a value the request sent.
 */
final class ApiError extends RuntimeException {

  private final StatusCode status;
  private final String code;

  ApiError(StatusCode status, String code, String message) {
    super(message, null, false, false); // a refusal, not a bug: no stack trace to fill
    this.status = status;
    this.code = code;
  }

  static ApiError tooManyPids(int maxBatch) {
    return new ApiError(StatusCodes.PAYLOAD_TOO_LARGE, "too-many-pids",
        "a request may name at most " + maxBatch + " pids (pidspace.max-batch)");
  }

  static ApiError bodyTooLarge(long maxBody) {
    return new ApiError(StatusCodes.PAYLOAD_TOO_LARGE, "body-too-large",
        "the body is larger than pidspace.http.max-body, " + maxBody + " bytes");
  }

  static ApiError bodyTimeout(Duration bodyTimeout) {
    return new ApiError(StatusCodes.REQUEST_TIMEOUT, "request-timeout",
        "the body did not arrive within pidspace.http.body-timeout, " + bodyTimeout.toMillis() + " ms");
  }

  /** Why reading a request body failed: it was too large, too slow, or it broke off. */
  static ApiError ofBody(Throwable failure, HttpSettings settings) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof EntityStreamSizeException) {
      return bodyTooLarge(settings.maxBody());
    }
    if (cause instanceof TimeoutException) {
      return bodyTimeout(settings.bodyTimeout());
    }
    return new ApiError(StatusCodes.BAD_REQUEST, "bad-request", "the body broke off before its end");
  }

  StatusCode status() {
    return status;
  }

  String code() {
    return code;
  }

  HttpResponse response() {
    return ApiJson.response(status, new ApiJson.Error(code, getMessage()));
  }

  /** The error a failed request answers with; anything but a known refusal is an internal error. */
  static ApiError of(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof ApiError error) {
      return error;
    }
    if (cause instanceof PidspaceException refused) {
      return of(refused.refusal());
    }
    if (cause instanceof EntityStreamSizeException tooLarge) {
      return bodyTooLarge(tooLarge.limit());
    }
    // the cause may quote the request: the node's log has it, the answer does not
    return new ApiError(StatusCodes.INTERNAL_SERVER_ERROR, "internal", "the node failed to answer; its log says why");
  }

  /** A refusal as the client sees it: its code's status and word, its message as it is (PidspaceException's rule). */
  static ApiError of(Refusal refusal) {
    return new ApiError(status(refusal.code()), refusal.code().wire(), refusal.message());
  }

  private static StatusCode status(PidspaceException.Code code) {
    return switch (code) {
      case UNKNOWN_SPACE, NOT_ALLOCATED, UNKNOWN_HOLD -> StatusCodes.NOT_FOUND;
      case OUT_OF_RANGE, BAD_REQUEST, RESERVED_PID -> StatusCodes.BAD_REQUEST;
      case SPACE_EXHAUSTED, STALE_HANDLE, PID_IN_USE, PID_HELD, SPACE_ID_IN_USE, DEFAULT_SPACE, NO_SPACE_IDS_LEFT, CONFLICT -> StatusCodes.CONFLICT;
      case UNAVAILABLE, OVERLOADED -> StatusCodes.SERVICE_UNAVAILABLE;
      // a fault of the node's own data, not a passing one: 500 carries no Retry-After
      case SPACE_UNRECOVERABLE -> StatusCodes.INTERNAL_SERVER_ERROR;
      // the IETF httpapi idempotency-key draft's answer to a key reused for another request
      case IDEMPOTENCY_KEY_REUSED -> StatusCodes.UNPROCESSABLE_ENTITY;
    };
  }
}
