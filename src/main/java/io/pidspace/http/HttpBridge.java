package io.pidspace.http;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpProtocols;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.RequestEntity;
import akka.http.javadsl.model.Uri;
import akka.http.javadsl.model.headers.RawHeader;
import akka.stream.Materializer;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Netty's requests as akka-http's model and akka-http's answers as Netty's, so the akka-http
 * routes serve the API on the Netty server as they do on akka-http's own.
 */
final class HttpBridge {

  /** The framing headers: Netty has read the body, and the model carries none of them as a header. */
  private static final Set<String> FRAMING = Set.of("content-length", "transfer-encoding", "content-type", "connection",
      "expect");

  private HttpBridge() {}

  /** The request in akka-http's model; a target that is not a valid URI is a bad request. */
  static akka.http.javadsl.model.HttpRequest toAkka(io.netty.handler.codec.http.HttpRequest head, byte[] body) {
    Uri uri;
    try {
      if (!head.uri().startsWith("/")) { // the API takes a path, not "*" or a whole URI
        throw new IllegalArgumentException();
      }
      uri = Uri.create("http://localhost" + head.uri()); // "//a/b" is a path here, not a host and a path
    } catch (RuntimeException notAUri) {
      throw new ApiError(akka.http.javadsl.model.StatusCodes.BAD_REQUEST, "bad-request",
          "the request target is not a valid URI");
    }
    List<HttpHeader> headers = new ArrayList<>(head.headers().size());
    for (Map.Entry<String, String> header : head.headers()) {
      if (!FRAMING.contains(header.getKey().toLowerCase(java.util.Locale.ROOT))) {
        headers.add(parsed(header.getKey(), header.getValue()));
      }
    }
    String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
    RequestEntity entity = type == null && body.length == 0 ? HttpEntities.EMPTY
        : HttpEntities.create(contentType(type), body);
    try {
      return akka.http.javadsl.model.HttpRequest.create()
          .withMethod(HttpMethods.lookup(head.method().name()).orElseThrow())
          .withUri(uri)
          .withProtocol(head.protocolVersion().minorVersion() == 0 ? HttpProtocols.HTTP_1_0 : HttpProtocols.HTTP_1_1)
          .addHeaders(headers)
          .withEntity(entity);
    } catch (IllegalArgumentException refused) { // the model's own rules, e.g. no body on a TRACE
      throw new ApiError(akka.http.javadsl.model.StatusCodes.BAD_REQUEST, "bad-request",
          "the request is not valid HTTP/1.1 or breaks a limit of pidspace.http.server.parsing");
    }
  }

  /** A modeled header where akka-http has one (the routes match {@code Authorization} by type), else a raw one. */
  static HttpHeader parsed(String name, String value) {
    try {
      return HttpHeader.parse(name, value);
    } catch (RuntimeException unparsable) {
      return RawHeader.create(name, value);
    }
  }

  private static ContentType contentType(String type) {
    if (type != null) {
      try {
        return ContentTypes.parse(type);
      } catch (RuntimeException unparsable) {
        // the routes read the body's bytes whatever it says it is
      }
    }
    return ContentTypes.APPLICATION_OCTET_STREAM;
  }

  /** The answer in Netty's model, its entity read whole first if it is a stream. */
  static CompletionStage<FullHttpResponse> toNetty(HttpResponse response, Materializer materializer, Duration within) {
    if (response.entity() instanceof HttpEntity.Strict) {
      return CompletableFuture.completedFuture(toNetty(response));
    }
    return response.entity().toStrict(within.toMillis(), materializer)
        .thenApply(strict -> toNetty(response.withEntity(strict)));
  }

  /** An answer with a strict entity in Netty's model. */
  static FullHttpResponse toNetty(HttpResponse response) {
    HttpEntity.Strict entity = (HttpEntity.Strict) response.entity();
    byte[] body = entity.getData().toArray();
    int status = response.status().intValue();
    FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(status, response.status().reason()), Unpooled.wrappedBuffer(body));
    for (HttpHeader header : response.getHeaders()) {
      out.headers().add(header.name(), header.value());
    }
    if (!entity.getContentType().equals(ContentTypes.NO_CONTENT_TYPE)) {
      out.headers().set(HttpHeaderNames.CONTENT_TYPE, entity.getContentType().toString());
    }
    if (status != 204 && status != 304 && status >= 200) {
      out.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    }
    return out;
  }
}
