package io.pidspace.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RetryAfter;
import io.pidspace.core.PidspaceException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ApiErrorTest {

  @Test
  void response_every503SaysWhenToRetry() {
    for (HttpResponse response : new HttpResponse[] {
        ApiError.of(PidspaceException.unavailable("a space between homes")).response(),
        ApiError.of(new PidspaceException(PidspaceException.Code.OVERLOADED, "a full queue")).response(),
        new ApiError(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", "a request timeout").response()}) {
      assertEquals(503, response.status().intValue());
      Optional<RetryAfter> retryAfter = response.getHeader(RetryAfter.class);
      assertTrue(retryAfter.isPresent(), "no Retry-After on " + response);
      assertEquals(Optional.of(1L), retryAfter.get().getDelaySeconds());
    }
  }

  @Test
  void response_otherRefusalsHaveNoRetryAfter() {
    HttpResponse conflict = ApiError.of(new PidspaceException(PidspaceException.Code.CONFLICT, "busy")).response();
    assertEquals(409, conflict.status().intValue());
    assertTrue(conflict.getHeader(RetryAfter.class).isEmpty());
  }
}
