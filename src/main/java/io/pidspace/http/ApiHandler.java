package io.pidspace.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.Query;
import akka.stream.Materializer;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The API as {@link ApiServer}'s handler: an alloc without a body ({@code POST
 * /v1/spaces/{id}/pids}, the one hot path) is answered here on the server's event loop, everything
 * else by {@link PidspaceRoutes#route()} on the dispatcher (a large body's parsing holds no other
 * connection), with the same answers. The route's directives and the futures it composes per
 * request cost a third of a node's alloc rate (docs/benchmarks.md).
 */
final class ApiHandler implements Function<ApiServer.Request, CompletionStage<FullHttpResponse>> {

  private static final String ALLOC_PREFIX = "/v1/spaces/";
  private static final String ALLOC_SUFFIX = "/pids";

  private final PidspaceRoutes routes;
  private final akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> routed;
  private final Materializer materializer;
  private final Executor dispatcher;
  private final Duration requestTimeout;

  ApiHandler(PidspaceRoutes routes, ActorSystem<?> system, Duration requestTimeout) {
    this.routes = routes;
    this.routed = routes.route().handler(system);
    this.materializer = Materializer.matFromSystem(system);
    this.dispatcher = system.executionContext();
    this.requestTimeout = requestTimeout;
  }

  @Override
  public CompletionStage<FullHttpResponse> apply(ApiServer.Request request) {
    String space = allocWithoutBody(request);
    Optional<String> count = space == null ? null : countParameter(request.head().uri());
    if (count == null) {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return routed.apply(HttpBridge.toAkka(request.head(), request.body()));
        } catch (ApiError refused) {
          return CompletableFuture.completedFuture(routes.metrics().error(refused));
        } catch (Exception failed) {
          return CompletableFuture.<HttpResponse>failedFuture(failed);
        }
      }, dispatcher).thenCompose(response -> response)
          .thenCompose(response -> HttpBridge.toNetty(response, materializer, requestTimeout));
    }
    HttpResponse refusal = routes.auth().refusal(request.head());
    return refusal != null
        ? CompletableFuture.completedFuture(HttpBridge.toNetty(refusal))
        : routes.metrics().answered(Endpoint.ALLOC, () -> routes.allocated(space, count,
            request.head().headers().get(PidspaceRoutes.IDEMPOTENCY_KEY)).thenApply(ApiJson::pids),
            HttpBridge::toNetty);
  }

  /**
   * The {id} of {@code POST /v1/spaces/{id}/pids} without a body, as the route would match it; else
   * null. A target with an escape goes to the route, which decodes it.
   */
  private static String allocWithoutBody(ApiServer.Request request) {
    if (!request.head().method().equals(HttpMethod.POST) || request.body().length != 0) {
      return null;
    }
    String uri = request.head().uri();
    int query = uri.indexOf('?');
    String path = query < 0 ? uri : uri.substring(0, query);
    if (!path.startsWith(ALLOC_PREFIX) || !path.endsWith(ALLOC_SUFFIX)
        || path.length() <= ALLOC_PREFIX.length() + ALLOC_SUFFIX.length() || uri.indexOf('%') >= 0
        || uri.indexOf('#') >= 0) {
      return null;
    }
    String space = path.substring(ALLOC_PREFIX.length(), path.length() - ALLOC_SUFFIX.length());
    return space.indexOf('/') < 0 ? space : null;
  }

  /** The {@code count} parameter as the route reads it; null for a query only the route may judge. */
  private static Optional<String> countParameter(String uri) {
    int query = uri.indexOf('?');
    if (query < 0) {
      return Optional.empty();
    }
    try {
      return Query.create(uri.substring(query + 1)).get("count");
    } catch (RuntimeException unparsable) {
      return null;
    }
  }
}
