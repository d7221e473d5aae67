package io.pidspace.http;

import akka.event.LoggingAdapter;
import akka.http.ParsingErrorHandler;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Allow;
import akka.http.javadsl.settings.ParserSettings;
import akka.http.scaladsl.model.ErrorInfo;
import akka.http.scaladsl.model.StatusCode;
import akka.http.scaladsl.settings.ServerSettings;

/**
 * Akka HTTP's answer to a request it cannot parse, before any route sees it (a garbage request
 * line, an unknown method, a header or URI past its limit), in the API's JSON shape. Named by
 * {@code pidspace.http.server.parsing.error-handler}; Akka makes one per connection.
 *
 * <p>Such a request is always the client's fault, so the answer is a 4xx: Akka's 501 for an
 * unknown method becomes our 405 and any other 5xx (505 for an unknown HTTP version) a 400, which keeps
 * hostile traffic out of a node's 5xx (server fault) counts. The parser's own description quotes
 * the request, so neither the answer nor the log carries it.
 */
final class JsonParsingErrorHandler extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    ParserSettings limits = settings.getParserSettings();
    log.debug("refused a request the HTTP parser could not read (parser status {})", status.intValue());
    return switch (status.intValue()) {
      case 501 -> new ApiError(StatusCodes.METHOD_NOT_ALLOWED, "method-not-allowed",
          "unknown HTTP method; this API takes GET, POST, PATCH and DELETE").response()
          .addHeader(Allow.create(HttpMethods.GET, HttpMethods.POST, HttpMethods.DELETE));
      case 413 -> ApiError.bodyTooLarge(limits.getMaxContentLength()).response();
      case 414 -> new ApiError(StatusCodes.URI_TOO_LONG, "uri-too-long",
          "the request target is longer than " + limits.getMaxUriLength() + " characters").response();
      case 431 -> new ApiError(StatusCodes.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers-too-large",
          "a request may have at most " + limits.getMaxHeaderCount() + " headers of at most "
              + limits.getMaxHeaderValueLength() + " characters").response();
      default -> new ApiError(status.intValue() < 500 ? status : StatusCodes.BAD_REQUEST, "bad-request",
          "the request is not valid HTTP/1.1 or breaks a limit of pidspace.http.server.parsing").response();
    };
  }
}
