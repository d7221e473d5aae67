package io.pidspace.http;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Location;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.util.ByteString;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.Handles;
import io.pidspace.metrics.NodeMetrics;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@code /v1} routes over a {@link PidAuthority} (docs/http.md): each matches its request, has
 * the codec ({@link ApiJson}) read it, asks the authority and has the codec write the answer.
 * Every request is answered from the authority's CompletionStage, never by blocking; every
 * failure, a route that does not exist included, answers with a JSON
 * {@code {"error": code, "message": …}} body that names the rule the request broke, never a value
 * it sent.
 */
final class PidspaceRoutes extends AllDirectives {

  /** {@code {id}:reconcile}: the id is group 1, checked as any space id. */
  private static final java.util.regex.Pattern RECONCILE = java.util.regex.Pattern.compile("(.*):reconcile");

  private final PidAuthority authority;
  private final HttpSettings settings;
  private final ApiJson codec;
  private final RequestMetrics metrics;
  private final BearerAuth auth;
  private final DashboardRoutes dashboard;

  PidspaceRoutes(PidAuthority authority, HttpSettings settings) {
    this.authority = authority;
    this.settings = settings;
    this.codec = new ApiJson(authority.layout(), authority.settings().maxBatch());
    NodeMetrics node = NodeMetrics.get(authority.system());
    this.metrics = new RequestMetrics(node);
    this.auth = new BearerAuth(settings, metrics);
    this.dashboard = new DashboardRoutes(authority, node);
  }

  RequestMetrics metrics() {
    return metrics;
  }

  BearerAuth auth() {
    return auth;
  }

  Route route() {
    return handleExceptions(exceptionHandler(), () -> handleRejections(rejectionHandler(), () ->
        concat(
            // before the size limit of every other route: a whole space is larger than a batch
            path(PathMatchers.separateOnSlashes(ApiServer.IMPORT_PATH.substring(1)), () -> post(() -> auth.mutating(() ->
                withSizeLimit(HttpSettings.MAX_IMPORT_BODY,
                    () -> withBody(Endpoint.IMPORT, HttpSettings.MAX_IMPORT_BODY, this::importSpace))))),
            withSizeLimit(settings.maxBody(), () -> concat(
                pathPrefix("v1", () -> concat(spaceRoutes(), pidRoutes())),
                dashboard.route())))));
  }

  /** {@link #route()} on akka-http's own server, whose request-timeout answers as the API does. */
  Route routeForAkkaHttp() {
    return withRequestTimeoutResponse(request -> ServerRefusals.REQUEST_TIMEOUT.response(), this::route);
  }

  private Route spaceRoutes() {
    return pathPrefix("spaces", () -> concat(
        pathEnd(() -> concat(
            get(() -> answer(Endpoint.LIST, this::listSpaces)),
            post(() -> auth.mutating(() -> withBody(Endpoint.CREATE, this::createSpace))))),
        path(PathMatchers.segment(RECONCILE), id -> post(() -> auth.mutating(() ->
            withBody(Endpoint.RECONCILE, body -> reconcile(id, body))))),
        pathPrefix(PathMatchers.segment(), id -> concat(
            pathEnd(() -> concat(
                get(() -> answer(Endpoint.STATS, () -> spaceStats(id))),
                patch(() -> auth.mutating(() -> withBody(Endpoint.SET, body -> setSpace(id, body)))),
                delete(() -> auth.mutating(() -> answer(Endpoint.DESTROY, () -> destroySpace(id)))))),
            path("pids", () -> post(() -> auth.mutating(() ->
                optionalHeaderValueByName(IDEMPOTENCY_KEY, key -> parameterOptional("count", count -> count.isPresent()
                    ? answer(Endpoint.ALLOC, () -> alloc(id, count, key.orElse(null)))
                    : extractRequestEntity(entity -> entity.isKnownEmpty()
                        ? answer(Endpoint.ALLOC, () -> alloc(id, Optional.empty(), key.orElse(null)))
                        : withBody(Endpoint.ALLOC, body -> body.isEmpty()
                            ? alloc(id, Optional.empty(), key.orElse(null)) : allocAt(id, body)))))))),
            path("holds", () -> post(() -> auth.mutating(() -> withBody(Endpoint.HOLD, body -> hold(id, body))))),
            path(PathMatchers.segment("holds").slash(PathMatchers.segment()), hold ->
                delete(() -> auth.mutating(() -> answer(Endpoint.RELEASE, () -> release(id, hold))))),
            path("export", () -> get(() -> answer(Endpoint.EXPORT, () -> export(id))))))));
  }

  private Route pidRoutes() {
    return concat(
        path("pids:free", () -> post(() -> auth.mutating(() -> withBody(Endpoint.FREE_BATCH, this::freeBatch)))),
        path(PathMatchers.segment("pids").slash(PathMatchers.segment()), pid -> concat(
            get(() -> answer(Endpoint.LOOKUP, () -> lookup(pid))),
            delete(() -> auth.mutating(() -> parameterOptional("generation", generation ->
                answer(Endpoint.FREE, () -> free(pid, generation))))))));
  }

  private CompletionStage<HttpResponse> listSpaces() {
    return authority.spaces().thenApply(all ->
        json(StatusCodes.OK, new ApiJson.Spaces(all.stream().map(ApiJson.Listed::of).toList())));
  }

  private CompletionStage<HttpResponse> createSpace(ByteString body) {
    ApiJson.NewSpace request = codec.newSpace(body);
    return authority.createSpace(request.id(), request.pidMax()).thenApply(stats ->
        json(StatusCodes.CREATED, ApiJson.Space.of(stats)).addHeader(Location.create("/v1/spaces/" + stats.space())));
  }

  private CompletionStage<HttpResponse> spaceStats(String id) {
    return authority.stats(codec.spaceId(id)).thenApply(stats -> json(StatusCodes.OK, ApiJson.Space.of(stats)));
  }

  private CompletionStage<HttpResponse> destroySpace(String id) {
    return authority.destroySpace(codec.spaceId(id)).thenApply(done -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT));
  }

  /**
   * The header of an alloc's idempotency key (the IETF httpapi draft's name): a retry with the
   * same key answers the same pids (docs/http.md).
   */
  static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  private CompletionStage<HttpResponse> alloc(String id, Optional<String> countParameter, String key) {
    return allocated(id, countParameter, key).thenApply(handles -> json(StatusCodes.OK, ApiJson.Pids.of(handles)));
  }

  /**
   * An alloc of {@code count} pids (1 when absent) from space {@code id}, counted; {@link ApiHandler}
   * answers it too. {@code key}: the {@link #IDEMPOTENCY_KEY} header as sent, or null.
   */
  CompletionStage<Handles> allocated(String id, Optional<String> countParameter, String key) {
    int space = codec.spaceId(id);
    int count = codec.count(countParameter);
    codec.idempotencyKey(key);
    return authority.allocHandles(space, count, key).thenApply(allocated -> {
      metrics.allocated(allocated.pids().length);
      return allocated;
    });
  }

  private CompletionStage<HttpResponse> allocAt(String id, ByteString body) {
    int space = codec.spaceId(id);
    ApiJson.AllocAt request = codec.allocAt(body);
    return authority.allocAtHandles(space, request.vpids(), request.hold()).thenApply(handles -> {
      metrics.allocated(handles.pids().length);
      return json(StatusCodes.OK, ApiJson.Pids.of(handles));
    });
  }

  /** Answers {@code {"hold": "<id>"}}. */
  private CompletionStage<HttpResponse> hold(String id, ByteString body) {
    int space = codec.spaceId(id);
    ApiJson.NewHold request = codec.hold(body);
    return authority.hold(space, request.vpids(), request.ttl()).thenApply(hold ->
        json(StatusCodes.CREATED, new ApiJson.HoldId(Integer.toString(hold)))
            .addHeader(Location.create("/v1/spaces/" + space + "/holds/" + hold)));
  }

  private CompletionStage<HttpResponse> release(String id, String hold) {
    return authority.release(codec.spaceId(id), ApiJson.holdId(hold))
        .thenApply(done -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT));
  }

  /** A new pid_max, a new reuse delay, or both, pid_max first; answers the space's stats. */
  private CompletionStage<HttpResponse> setSpace(String id, ByteString body) {
    int space = codec.spaceId(id);
    ApiJson.SpaceChange change = codec.spaceChange(body);
    CompletionStage<?> first = change.pidMax().isEmpty() ? CompletableFuture.completedFuture(null)
        : authority.setPidMax(space, change.pidMax().getAsInt());
    return first.thenCompose(done -> change.reuseDelay().isEmpty() ? authority.stats(space)
            : authority.setReuseDelay(space, change.reuseDelay().get()))
        .thenApply(stats -> json(StatusCodes.OK, ApiJson.Space.of(stats)));
  }

  /** Leaked and unknown vpids; with apply, the freed ones. */
  private CompletionStage<HttpResponse> reconcile(String id, ByteString body) {
    int space = codec.spaceId(id);
    ApiJson.Alive request = codec.alive(body);
    return authority.reconcile(space, request.vpids(), request.apply())
        .thenApply(report -> json(StatusCodes.OK, new ApiJson.Report(report.leaked(), report.unknown(), report.freed())));
  }

  private CompletionStage<HttpResponse> export(String id) {
    return authority.exportSpace(codec.spaceId(id)).thenApply(image -> json(StatusCodes.OK, ApiJson.Document.of(image)));
  }

  private CompletionStage<HttpResponse> importSpace(ByteString body) {
    ApiJson.Import request = codec.importSpace(body);
    return authority.importSpace(request.id(), request.image()).thenApply(stats ->
        json(StatusCodes.CREATED, ApiJson.Space.of(stats)).addHeader(Location.create("/v1/spaces/" + stats.space())));
  }

  private CompletionStage<HttpResponse> lookup(String pid) {
    return authority.lookup(codec.pid(pid)).thenApply(info -> json(StatusCodes.OK, info));
  }

  /**
   * {@code ?generation=N}: freed only if N is the holder's generation, else {@code 409 stale-handle};
   * {@link ApiHandler} answers it too.
   */
  CompletionStage<HttpResponse> free(String pid, Optional<String> generation) {
    return authority.free(codec.pid(pid), ApiJson.generation(generation)).thenApply(done -> {
      metrics.freed(1);
      return HttpResponse.create().withStatus(StatusCodes.NO_CONTENT);
    });
  }

  /**
   * Pids that are not global pids at all make the whole request bad; the rest are freed or refused
   * one by one. {@link ApiHandler} answers it too.
   */
  CompletionStage<HttpResponse> freeBatch(ByteString body) {
    ApiJson.FreeBatch request = codec.freeBatch(body);
    return authority.free(request.pids(), request.generations()).thenApply(result -> {
      metrics.freed(result.freed().length);
      return json(StatusCodes.OK, ApiJson.Freed.of(result));
    });
  }

  /**
   * Answers with what {@code work} completes with; a refusal, thrown or completed, becomes its JSON
   * error. The time to the answer goes to {@code endpoint}'s latency histogram.
   */
  private Route answer(Endpoint endpoint, Supplier<CompletionStage<HttpResponse>> work) {
    return completeWithFuture(metrics.answered(endpoint, work, refusal -> refusal));
  }

  /** The body, read whole within {@code body-timeout}: a half-sent body holds no connection longer. */
  private Route withBody(Endpoint endpoint, Function<ByteString, CompletionStage<HttpResponse>> handler) {
    return withBody(endpoint, settings.maxBody(), handler);
  }

  private Route withBody(Endpoint endpoint, long maxBody, Function<ByteString, CompletionStage<HttpResponse>> handler) {
    return extractRequestEntity(entity -> extractMaterializer(materializer -> answer(endpoint, () -> {
      if (entity.getContentLengthOption().orElse(0) > maxBody) {
        throw ApiError.bodyTooLarge(maxBody); // before a byte of it is read
      }
      // On the dispatcher: a dependent of toStrict's stage without an executor would start a thread
      // of its own on a machine with fewer than three cores, and one run in place would run inside
      // the body's stream (HttpFuzzTest then saw connections closed unanswered under load).
      CompletableFuture<ByteString> body = new CompletableFuture<>();
      entity.toStrict(settings.bodyTimeout().toMillis(), maxBody, materializer).whenCompleteAsync((strict, failure) -> {
        if (failure != null) {
          body.completeExceptionally(ApiError.ofBody(failure, settings));
        } else {
          body.complete(strict.getData());
        }
      }, authority.system().executionContext());
      return body.thenCompose(handler);
    })));
  }

  private static HttpResponse json(StatusCode status, Object body) {
    return ApiJson.response(status, body);
  }

  private ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder().matchAny(e -> complete(metrics.error(e))).build();
  }

  /**
   * Akka's own rejection handling (404 for no route, 405 for a wrong method, 413 for a body past
   * {@code max-body}, …) in the API's JSON shape, with codes of our own: Akka's reason phrases
   * change between versions, and some of its texts quote the request.
   */
  private RejectionHandler rejectionHandler() {
    return RejectionHandler.defaultHandler().mapRejectionResponse(response -> {
      StatusCode status = response.status();
      ApiError error = switch (status.intValue()) {
        case 404 -> new ApiError(status, "not-found", "there is no such route; docs/http.md lists them");
        // Akka's text names only the methods the route takes
        case 405 -> new ApiError(status, "method-not-allowed",
            response.entity() instanceof HttpEntity.Strict strict ? strict.getData().utf8String() : status.reason());
        case 413 -> ApiError.bodyTooLarge(settings.maxBody());
        default -> new ApiError(status, "bad-request", "the request was refused: " + status.reason());
      };
      return response.withEntity(error.response().entity());
    });
  }
}
