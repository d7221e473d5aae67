package io.pidspace.http;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Authorization;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.model.headers.WWWAuthenticate;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.function.Supplier;

/** With {@code pidspace.http.token} set, a request that changes state must carry it as a bearer token; reads stay open. */
final class BearerAuth extends AllDirectives {

  private final boolean required;
  private final byte[] token;
  private final RequestMetrics metrics;

  BearerAuth(HttpSettings settings, RequestMetrics metrics) {
    this.required = settings.tokenRequired();
    this.token = settings.token().getBytes(StandardCharsets.UTF_8);
    this.metrics = metrics;
  }

  /** {@code inner}, for a request that may change state. */
  Route mutating(Supplier<Route> inner) {
    if (!required) {
      return inner.get();
    }
    return optionalHeaderValueByType(Authorization.class, header -> {
      HttpResponse refusal = refusal(header);
      return refusal == null ? inner.get() : complete(refusal);
    });
  }

  /** The 401 for a change in Netty's model that does not carry the token; null when it may go on. */
  HttpResponse refusal(HttpRequest head) {
    if (!required) {
      return null;
    }
    String value = head.headers().get(HttpHeaderNames.AUTHORIZATION);
    return refusal(value != null && HttpBridge.parsed("Authorization", value) instanceof Authorization header
        ? Optional.of(header) : Optional.empty());
  }

  /** The 401 for a change with this {@code Authorization} header; null when it may go on. */
  private HttpResponse refusal(Optional<Authorization> header) {
    if (!required) {
      return null;
    }
    String refusal;
    if (header.isEmpty() || !header.get().credentials().scheme().equalsIgnoreCase("bearer")) {
      refusal = "this node needs a bearer token for changes: Authorization: Bearer <token>";
    } else {
      byte[] given = header.get().credentials().token().getBytes(StandardCharsets.UTF_8);
      // constant time, so the answer's timing says nothing about the token
      if (MessageDigest.isEqual(given, token)) {
        return null;
      }
      refusal = "the bearer token is wrong";
    }
    metrics.refused("unauthorized");
    return ApiJson.response(StatusCodes.UNAUTHORIZED, new ApiJson.Error("unauthorized", refusal))
        .addHeader(WWWAuthenticate.create(HttpChallenge.createOAuth2("pidspace")));
  }
}
