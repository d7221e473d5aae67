package io.pidspace.http;

import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Allow;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.Map;

/**
 * What {@link ApiServer} answers on its own, before or instead of its handler: a head that breaks
 * the transport's rules ({@code pidspace.http.server}), an expectation it does not meet, a client
 * too far ahead of its answers, a node shutting down, an answer later than {@code request-timeout}.
 */
final class ServerRefusals {

  /** The longest header name: akka-http's limit, longer than any header HTTP defines. */
  private static final int MAX_HEADER_NAME = 64;

  /** The answer when a request takes longer than {@code request-timeout}. */
  static final ApiError REQUEST_TIMEOUT = new ApiError(StatusCodes.SERVICE_UNAVAILABLE, "unavailable",
      "the node did not answer within pidspace.http.server.request-timeout");

  static final ApiError SHUTTING_DOWN = new ApiError(StatusCodes.SERVICE_UNAVAILABLE, "unavailable",
      "the node is shutting down; ask another node");

  static final ApiError EXPECTATION_FAILED = new ApiError(StatusCodes.EXPECTATION_FAILED, "expectation-failed",
      "the only expectation this API meets is Expect: 100-continue");

  private ServerRefusals() {}

  /**
   * The answer that refuses a head before its body is read, or null.
   *
   * @param maxBody the connection's body limit, for a frame too long
   */
  static HttpResponse ofHead(HttpRequest request, ApiServer.Limits limits, long maxBody) {
    if (request.decoderResult().isFailure()) {
      return ofParse(request.decoderResult().cause(), limits, maxBody).response();
    }
    HttpVersion version = request.protocolVersion();
    if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
      return badHttp().response();
    }
    if (HttpMethods.lookup(request.method().name()).isEmpty()) {
      return new ApiError(StatusCodes.METHOD_NOT_ALLOWED, "method-not-allowed",
          "unknown HTTP method; this API takes GET, POST, PATCH and DELETE").response()
          .addHeader(Allow.create(HttpMethods.GET, HttpMethods.POST, HttpMethods.DELETE));
    }
    if (request.uri().length() > limits.maxUriLength()) {
      return uriTooLong(limits).response();
    }
    if (request.headers().size() > limits.maxHeaderCount()) {
      return headersTooLarge(limits).response();
    }
    for (Map.Entry<String, String> header : request.headers()) {
      if (header.getKey().length() > MAX_HEADER_NAME || header.getValue().length() > limits.maxHeaderValueLength()) {
        return headersTooLarge(limits).response();
      }
    }
    return null;
  }

  /** Why Netty could not parse a request's head or body. */
  static ApiError ofParse(Throwable cause, ApiServer.Limits limits, long maxBody) {
    if (cause instanceof TooLongHttpLineException) {
      return uriTooLong(limits);
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return headersTooLarge(limits);
    }
    if (cause instanceof TooLongFrameException) {
      return ApiError.bodyTooLarge(maxBody);
    }
    return badHttp();
  }

  static ApiError tooManyWaiting(int maxWaiting) {
    return new ApiError(StatusCodes.BAD_REQUEST, "bad-request",
        "a connection may have at most " + maxWaiting + " requests waiting for their answers");
  }

  private static ApiError uriTooLong(ApiServer.Limits limits) {
    return new ApiError(StatusCodes.URI_TOO_LONG, "uri-too-long",
        "the request target is longer than " + limits.maxUriLength() + " characters");
  }

  private static ApiError headersTooLarge(ApiServer.Limits limits) {
    return new ApiError(StatusCodes.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers-too-large",
        "a request may have at most " + limits.maxHeaderCount() + " headers of at most "
            + limits.maxHeaderValueLength() + " characters");
  }

  private static ApiError badHttp() {
    return new ApiError(StatusCodes.BAD_REQUEST, "bad-request",
        "the request is not valid HTTP/1.1 or breaks a limit of pidspace.http.server.parsing");
  }
}
