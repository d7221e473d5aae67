package io.pidspace.http;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Authorization;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.model.headers.Location;
import akka.http.javadsl.model.headers.WWWAuthenticate;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.util.ByteString;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.http.RequestReader.Field;
import io.pidspace.metrics.NodeMetrics;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.EnumMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code /v1} routes over a {@link PidAuthority} (docs/http.md). Every request is answered
 * from the authority's CompletionStage, never by blocking; every failure, a route that does not
 * exist included, answers with a JSON {@code {"error": code, "message": …}} body that names the
 * rule the request broke, never a value it sent.
 */
final class PidspaceRoutes extends AllDirectives {

  private static final Logger log = LoggerFactory.getLogger(PidspaceRoutes.class);
  /** Akka's answer when a route takes longer than {@code request-timeout}. */
  private static final HttpResponse REQUEST_TIMEOUT = new ApiError(StatusCodes.SERVICE_UNAVAILABLE, "unavailable",
      "the node did not answer within pidspace.http.server.request-timeout").response();

  private final PidAuthority authority;
  private final HttpSettings settings;
  private final PidLayout layout;
  private final int maxBatch;
  private final byte[] token;
  private final NodeMetrics metrics;
  private final EnumMap<Api, DistributionDataPoint> latencies = new EnumMap<>(Api.class);
  private final DashboardRoutes dashboard;

  /** The routes, each with its latency histogram: the label values are these templates, never a request's path. */
  private enum Api {
    LIST("GET", "/v1/spaces"),
    CREATE("POST", "/v1/spaces"),
    STATS("GET", "/v1/spaces/{id}"),
    DESTROY("DELETE", "/v1/spaces/{id}"),
    ALLOC("POST", "/v1/spaces/{id}/pids"),
    LOOKUP("GET", "/v1/pids/{pid}"),
    FREE("DELETE", "/v1/pids/{pid}"),
    FREE_BATCH("POST", "/v1/pids:free");

    final String method;
    final String template;

    Api(String method, String template) {
      this.method = method;
      this.template = template;
    }
  }

  PidspaceRoutes(PidAuthority authority, HttpSettings settings) {
    this.authority = authority;
    this.settings = settings;
    this.layout = authority.layout();
    this.maxBatch = authority.settings().maxBatch();
    this.token = settings.token().getBytes(StandardCharsets.UTF_8);
    this.metrics = NodeMetrics.get(authority.system());
    for (Api api : Api.values()) {
      latencies.put(api, metrics.requestLatency(api.method, api.template));
    }
    this.dashboard = new DashboardRoutes(authority, metrics);
  }

  Route route() {
    return withRequestTimeoutResponse(request -> REQUEST_TIMEOUT, () ->
        handleExceptions(exceptionHandler(), () -> handleRejections(rejectionHandler(), () ->
            withSizeLimit(settings.maxBody(), () -> concat(
                pathPrefix("v1", () -> concat(spaceRoutes(), pidRoutes())),
                dashboard.route())))));
  }

  private Route spaceRoutes() {
    return pathPrefix("spaces", () -> concat(
        pathEnd(() -> concat(
            get(() -> answer(Api.LIST, this::listSpaces)),
            post(() -> mutating(() -> withBody(Api.CREATE, this::createSpace))))),
        pathPrefix(PathMatchers.segment(), id -> concat(
            pathEnd(() -> concat(
                get(() -> answer(Api.STATS, () -> spaceStats(id))),
                delete(() -> mutating(() -> answer(Api.DESTROY, () -> destroySpace(id)))))),
            path("pids", () -> post(() -> mutating(() ->
                parameterOptional("count", count -> answer(Api.ALLOC, () -> alloc(id, count))))))))));
  }

  private Route pidRoutes() {
    return concat(
        path("pids:free", () -> post(() -> mutating(() -> withBody(Api.FREE_BATCH, this::freeBatch)))),
        path(PathMatchers.segment("pids").slash(PathMatchers.segment()), pid -> concat(
            get(() -> answer(Api.LOOKUP, () -> lookup(pid))),
            delete(() -> mutating(() -> answer(Api.FREE, () -> free(pid)))))));
  }

  private CompletionStage<HttpResponse> listSpaces() {
    return authority.spaces().thenApply(all ->
        json(StatusCodes.OK, new ApiJson.Spaces(all.stream().map(ApiJson.Listed::of).toList())));
  }

  private CompletionStage<HttpResponse> createSpace(ByteString body) {
    RequestReader.Body request = RequestReader.object(body, List.of(Field.number("id"), Field.number("pidMax")));
    Long id = request.number("id");
    Long pidMax = request.number("pidMax");
    int space = id == null ? PidAuthority.ANY_ID : spaceId(id, "id");
    int max = pidMax == null ? 0 : pidMax(pidMax);
    return authority.createSpace(space, max).thenApply(stats ->
        json(StatusCodes.CREATED, ApiJson.Space.of(stats)).addHeader(Location.create("/v1/spaces/" + stats.space())));
  }

  private CompletionStage<HttpResponse> spaceStats(String id) {
    return authority.stats(spaceId(id)).thenApply(stats -> json(StatusCodes.OK, ApiJson.Space.of(stats)));
  }

  private CompletionStage<HttpResponse> destroySpace(String id) {
    return authority.destroySpace(spaceId(id)).thenApply(done -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT));
  }

  private CompletionStage<HttpResponse> alloc(String id, Optional<String> countParameter) {
    int space = spaceId(id);
    long count = countParameter.map(text -> RequestReader.integer(text, "count")).orElse(1L);
    if (count < 1) {
      throw PidspaceException.badRequest("count must be at least 1");
    }
    if (count > maxBatch) {
      throw ApiError.tooManyPids(maxBatch);
    }
    // a single alloc goes through the group commit of the space when the node is durable
    CompletionStage<int[]> pids = count == 1
        ? authority.alloc(space).thenApply(pid -> new int[] {pid})
        : authority.alloc(space, (int) count);
    return pids.thenApply(allocated -> {
      metrics.allocated(allocated.length);
      return json(StatusCodes.OK, new ApiJson.Pids(allocated));
    });
  }

  private CompletionStage<HttpResponse> lookup(String pid) {
    return authority.lookup(pid(pid)).thenApply(info -> json(StatusCodes.OK, info));
  }

  private CompletionStage<HttpResponse> free(String pid) {
    return authority.free(pid(pid)).thenApply(done -> {
      metrics.freed(1);
      return HttpResponse.create().withStatus(StatusCodes.NO_CONTENT);
    });
  }

  /** Pids that are not global pids at all make the whole request bad; the rest are freed or refused one by one. */
  private CompletionStage<HttpResponse> freeBatch(ByteString body) {
    long[] given = RequestReader.object(body, List.of(Field.numbers("pids", maxBatch))).numbers("pids");
    if (given == null) {
      throw PidspaceException.badRequest("the body must be {\"pids\": [global pids]}");
    }
    int[] pids = new int[given.length];
    for (int i = 0; i < pids.length; i++) {
      pids[i] = pid(given[i], "pids[" + i + "]");
    }
    return authority.free(pids).thenApply(result -> {
      metrics.freed(result.freed().length);
      return json(StatusCodes.OK, ApiJson.Freed.of(result));
    });
  }

  private int spaceId(String text) {
    return spaceId(RequestReader.integer(text, "space id"), "space id");
  }

  // The range checks are PidLayout's; these only name the field and its range instead of the value.

  private int spaceId(long id, String name) {
    if (id != (int) id || !layout.isValidSpace((int) id)) {
      throw PidspaceException.outOfRange(name + " must be within 0.." + (layout.maxSpaces() - 1));
    }
    return (int) id;
  }

  private int pidMax(long pidMax) {
    try {
      return layout.checkPidMax(pidMax);
    } catch (PidspaceException outside) {
      throw PidspaceException.outOfRange("pidMax must be within " + PidLayout.PID_MAX_MIN + ".." + layout.pidMaxLimit());
    }
  }

  private int pid(String text) {
    return pid(RequestReader.integer(text, "pid"), "pid");
  }

  private int pid(long pid, String name) {
    try {
      return layout.checkPid(pid);
    } catch (PidspaceException outside) {
      long last = ((long) layout.maxSpaces() << layout.shift()) - 1;
      throw PidspaceException.outOfRange(name + " must be a global pid within 0.." + last);
    }
  }

  /**
   * Answers with what {@code work} completes with; a refusal, thrown or completed, becomes its JSON
   * error. The time to the answer goes to {@code api}'s latency histogram.
   */
  private Route answer(Api api, Supplier<CompletionStage<HttpResponse>> work) {
    long start = System.nanoTime();
    DistributionDataPoint latency = latencies.get(api);
    CompletionStage<HttpResponse> response;
    try {
      response = work.get();
    } catch (RuntimeException | StackOverflowError refusal) {
      // No request can recurse deeply any more (RequestReader), but an Error that escapes a route
      // is fatal to the whole JVM (akka.jvm-exit-on-fatal-error); its stack has unwound by here.
      response = CompletableFuture.failedStage(refusal);
    }
    return completeWithFuture(response.handle((answered, failure) -> {
      latency.observe((System.nanoTime() - start) / 1e9);
      return failure == null ? answered : error(failure);
    }));
  }

  /** The body, read whole within {@code body-timeout}: a half-sent body holds no connection longer. */
  private Route withBody(Api api, Function<ByteString, CompletionStage<HttpResponse>> handler) {
    return extractRequestEntity(entity -> extractMaterializer(materializer -> answer(api, () -> {
      if (entity.getContentLengthOption().orElse(0) > settings.maxBody()) {
        throw ApiError.bodyTooLarge(settings.maxBody()); // before a byte of it is read
      }
      return entity.toStrict(settings.bodyTimeout().toMillis(), settings.maxBody(), materializer)
          .handle((strict, failure) -> {
            if (failure != null) {
              throw ApiError.ofBody(failure, settings);
            }
            return strict.getData();
          })
          .thenCompose(handler);
    })));
  }

  /** With a token set, a request that changes state must carry it; reads stay open. */
  private Route mutating(Supplier<Route> inner) {
    if (!settings.tokenRequired()) {
      return inner.get();
    }
    return optionalHeaderValueByType(Authorization.class, header -> {
      if (header.isEmpty() || !header.get().credentials().scheme().equalsIgnoreCase("bearer")) {
        return unauthorized("this node needs a bearer token for changes: Authorization: Bearer <token>");
      }
      byte[] given = header.get().credentials().token().getBytes(StandardCharsets.UTF_8);
      // constant time, so the answer's timing says nothing about the token
      return MessageDigest.isEqual(given, token) ? inner.get() : unauthorized("the bearer token is wrong");
    });
  }

  private Route unauthorized(String message) {
    metrics.refused("unauthorized");
    return complete(json(StatusCodes.UNAUTHORIZED, new ApiJson.Error("unauthorized", message))
        .addHeader(WWWAuthenticate.create(HttpChallenge.createOAuth2("pidspace"))));
  }

  /** The JSON error of {@code failure}, counted by its code. */
  private HttpResponse error(Throwable failure) {
    ApiError error = ApiError.of(failure);
    metrics.refused(error.code());
    if (error.status().intValue() == StatusCodes.INTERNAL_SERVER_ERROR.intValue()) {
      log.error("request failed unexpectedly", withoutMessage(ApiError.cause(failure)));
    }
    return error.response();
  }

  /** The failure's type and where it happened, not its message: that may quote the request. */
  private static Throwable withoutMessage(Throwable failure) {
    Throwable bare = new Throwable(failure.getClass().getName());
    bare.setStackTrace(failure.getStackTrace());
    return bare;
  }

  private static HttpResponse json(StatusCode status, Object body) {
    return ApiJson.response(status, body);
  }

  private ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder().matchAny(e -> complete(error(e))).build();
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
