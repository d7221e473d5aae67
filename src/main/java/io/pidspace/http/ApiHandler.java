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
 * The API as {@link ApiServer}'s handler. The hot paths skip akka-http's route, with the same
 * answers: an alloc without a body ({@code POST /v1/spaces/{id}/pids}) and a free ({@code DELETE
 * /v1/pids/{pid}}) are answered on the server's event loop, a batch free ({@code POST
 * /v1/pids:free}) is parsed on the dispatcher (a large body's parsing holds no other connection).
 * Everything else goes to {@link PidspaceRoutes#route()} on the dispatcher. The route's directives
 * and the futures it composes per request cost a third of a node's alloc rate, and its frees a
 * tenth of a storm's node CPU (docs/benchmarks.md).
 */
final class ApiHandler implements Function<ApiServer.Request, CompletionStage<FullHttpResponse>> {

  private static final String ALLOC_PREFIX = "/v1/spaces/";
  private static final String ALLOC_SUFFIX = "/pids";
  private static final String FREE_PREFIX = "/v1/pids/";
  private static final String FREE_BATCH = "/v1/pids:free";

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
    Optional<String> count = space == null ? null : parameter(request.head().uri(), "count");
    if (count != null) {
      return answered(request, Endpoint.ALLOC, () -> routes.allocated(space, count,
          request.head().headers().get(PidspaceRoutes.IDEMPOTENCY_KEY)).thenApply(ApiJson::pids));
    }
    String pid = free(request);
    Optional<String> generation = pid == null ? null : parameter(request.head().uri(), "generation");
    if (generation != null) {
      return answered(request, Endpoint.FREE, () -> routes.free(pid, generation).thenApply(HttpBridge::toNetty));
    }
    if (request.head().method().equals(HttpMethod.POST) && request.head().uri().equals(FREE_BATCH)) {
      akka.util.ByteString body = akka.util.ByteString.fromArrayUnsafe(request.body());
      return answered(request, Endpoint.FREE_BATCH, () -> CompletableFuture.supplyAsync(() -> routes.freeBatch(body), dispatcher)
          .thenCompose(response -> response).thenApply(HttpBridge::toNetty));
    }
    return routed(request);
  }

  /** {@code work}'s answer, unless the request needs a token it lacks; timed and counted as the route does. */
  private CompletionStage<FullHttpResponse> answered(ApiServer.Request request, Endpoint endpoint,
      java.util.function.Supplier<CompletionStage<FullHttpResponse>> work) {
    HttpResponse refusal = routes.auth().refusal(request.head());
    return refusal != null
        ? CompletableFuture.completedFuture(HttpBridge.toNetty(refusal))
        : routes.metrics().answered(endpoint, work, HttpBridge::toNetty);
  }

  private CompletionStage<FullHttpResponse> routed(ApiServer.Request request) {
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

  /** The {pid} of {@code DELETE /v1/pids/{pid}}, as the route would match it; else null. */
  private static String free(ApiServer.Request request) {
    if (!request.head().method().equals(HttpMethod.DELETE)) {
      return null;
    }
    String uri = request.head().uri();
    int query = uri.indexOf('?');
    String path = query < 0 ? uri : uri.substring(0, query);
    if (!path.startsWith(FREE_PREFIX) || path.length() == FREE_PREFIX.length() || uri.indexOf('%') >= 0
        || uri.indexOf('#') >= 0) {
      return null;
    }
    String pid = path.substring(FREE_PREFIX.length());
    return pid.indexOf('/') < 0 ? pid : null;
  }

  /** The {@code name} parameter as the route reads it; null for a query only the route may judge. */
  private static Optional<String> parameter(String uri, String name) {
    int query = uri.indexOf('?');
    if (query < 0) {
      return Optional.empty();
    }
    try {
      return Query.create(uri.substring(query + 1)).get(name);
    } catch (RuntimeException unparsable) {
      return null;
    }
  }
}
