package io.pidspace.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.Query;
import akka.http.javadsl.model.HttpRequest;
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
import akka.stream.Materializer;
import akka.util.ByteString;
import io.netty.handler.codec.http.FullHttpResponse;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.Hold;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceImage;
import io.pidspace.http.RequestReader.Field;
import io.pidspace.metrics.NodeMetrics;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
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
  /** The answer when a request takes longer than {@code request-timeout}. */
  static final HttpResponse REQUEST_TIMEOUT = new ApiError(StatusCodes.SERVICE_UNAVAILABLE, "unavailable",
      "the node did not answer within pidspace.http.server.request-timeout").response();

  /**
   * The largest import body: a document of a whole 4,194,304-vpid space takes at most about
   * 700 KB of base64 bitmap, the rest is its holds.
   */
  static final long MAX_IMPORT_BODY = 8L << 20;
  /** Most holds one document may carry. */
  static final int MAX_HOLDS = 1024;
  /** {@code {id}:reconcile}: the id is group 1, checked as any space id. */
  private static final java.util.regex.Pattern RECONCILE = java.util.regex.Pattern.compile("(.*):reconcile");

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
    FREE_BATCH("POST", "/v1/pids:free"),
    SET("PATCH", "/v1/spaces/{id}"),
    RECONCILE("POST", "/v1/spaces/{id}:reconcile"),
    HOLD("POST", "/v1/spaces/{id}/holds"),
    RELEASE("DELETE", "/v1/spaces/{id}/holds/{hold}"),
    EXPORT("GET", "/v1/spaces/{id}/export"),
    IMPORT("POST", "/v1/spaces:import");

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

  /**
   * The API as {@link ApiServer}'s handler: an alloc without a body ({@code POST
   * /v1/spaces/{id}/pids}, the one hot path) is answered here on the server's event loop, everything
   * else by {@link #route()} on the dispatcher (a large body's parsing holds no other connection),
   * with the same answers. The route's directives and the futures it composes per request cost a
   * third of a node's alloc rate (docs/benchmarks.md).
   */
  Function<ApiServer.Request, CompletionStage<FullHttpResponse>> handler(ActorSystem<?> system, Duration requestTimeout) {
    akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> routed = route().handler(system);
    Materializer materializer = Materializer.matFromSystem(system);
    Executor dispatcher = system.executionContext();
    return request -> {
      String space = allocWithoutBody(request);
      Optional<String> count = space == null ? null : countParameter(request.head().uri());
      if (count == null) {
        return CompletableFuture.supplyAsync(() -> {
          try {
            return routed.apply(HttpBridge.toAkka(request));
          } catch (ApiError refused) {
            return CompletableFuture.completedFuture(error(refused));
          } catch (Exception failed) {
            return CompletableFuture.<HttpResponse>failedFuture(failed);
          }
        }, dispatcher).thenCompose(response -> response)
            .thenCompose(response -> HttpBridge.toNetty(response, materializer, requestTimeout));
      }
      HttpResponse refusal = settings.tokenRequired() ? unauthorized(authorization(request)) : null;
      return refusal != null
          ? CompletableFuture.completedFuture(HttpBridge.toNetty(refusal))
          : answered(Api.ALLOC, () -> allocated(space, count).thenApply(HttpBridge::pids), HttpBridge::toNetty);
    };
  }

  private static final String ALLOC_PREFIX = "/v1/spaces/";
  private static final String ALLOC_SUFFIX = "/pids";

  /**
   * The {id} of {@code POST /v1/spaces/{id}/pids} without a body, as the route would match it; else
   * null. A target with an escape goes to the route, which decodes it.
   */
  private static String allocWithoutBody(ApiServer.Request request) {
    if (!request.head().method().equals(io.netty.handler.codec.http.HttpMethod.POST) || request.body().length != 0) {
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

  /** The request's {@code Authorization} header as akka-http models it, if it has one that parses. */
  private static Optional<Authorization> authorization(ApiServer.Request request) {
    String value = request.head().headers().get(io.netty.handler.codec.http.HttpHeaderNames.AUTHORIZATION);
    return value != null && HttpBridge.parsed("Authorization", value) instanceof Authorization header
        ? Optional.of(header) : Optional.empty();
  }

  Route route() {
    return handleExceptions(exceptionHandler(), () -> handleRejections(rejectionHandler(), () ->
        concat(
            // before the size limit of every other route: a whole space is larger than a batch
            path(PathMatchers.segment("v1").slash("spaces:import"), () -> post(() -> mutating(() ->
                withSizeLimit(MAX_IMPORT_BODY, () -> withBody(Api.IMPORT, MAX_IMPORT_BODY, this::importSpace))))),
            withSizeLimit(settings.maxBody(), () -> concat(
                pathPrefix("v1", () -> concat(spaceRoutes(), pidRoutes())),
                dashboard.route())))));
  }

  /** {@link #route()} on akka-http's own server, whose request-timeout answers as the API does. */
  Route routeForAkkaHttp() {
    return withRequestTimeoutResponse(request -> REQUEST_TIMEOUT, this::route);
  }

  private Route spaceRoutes() {
    return pathPrefix("spaces", () -> concat(
        pathEnd(() -> concat(
            get(() -> answer(Api.LIST, this::listSpaces)),
            post(() -> mutating(() -> withBody(Api.CREATE, this::createSpace))))),
        path(PathMatchers.segment(RECONCILE), id -> post(() -> mutating(() ->
            withBody(Api.RECONCILE, body -> reconcile(id, body))))),
        pathPrefix(PathMatchers.segment(), id -> concat(
            pathEnd(() -> concat(
                get(() -> answer(Api.STATS, () -> spaceStats(id))),
                patch(() -> mutating(() -> withBody(Api.SET, body -> setPidMax(id, body)))),
                delete(() -> mutating(() -> answer(Api.DESTROY, () -> destroySpace(id)))))),
            path("pids", () -> post(() -> mutating(() ->
                parameterOptional("count", count -> count.isPresent()
                    ? answer(Api.ALLOC, () -> alloc(id, count))
                    : extractRequestEntity(entity -> entity.isKnownEmpty()
                        ? answer(Api.ALLOC, () -> alloc(id, Optional.empty()))
                        : withBody(Api.ALLOC, body -> body.isEmpty() ? alloc(id, Optional.empty()) : allocAt(id, body))))))),
            path("holds", () -> post(() -> mutating(() -> withBody(Api.HOLD, body -> hold(id, body))))),
            path(PathMatchers.segment("holds").slash(PathMatchers.segment()), hold ->
                delete(() -> mutating(() -> answer(Api.RELEASE, () -> release(id, hold))))),
            path("export", () -> get(() -> answer(Api.EXPORT, () -> export(id))))))));
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
    return allocated(id, countParameter).thenApply(pids -> json(StatusCodes.OK, new ApiJson.Pids(pids)));
  }

  private CompletionStage<int[]> allocated(String id, Optional<String> countParameter) {
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
      return allocated;
    });
  }

  /** {@code {"vpids": [..], "hold": "<id>"?}}: exactly those vpids, answered in the order asked. */
  private CompletionStage<HttpResponse> allocAt(String id, ByteString body) {
    int space = spaceId(id);
    RequestReader.Body request = RequestReader.object(body, List.of(Field.numbers("vpids", maxBatch), Field.text("hold", 10)));
    long[] given = request.numbers("vpids");
    if (given == null || given.length == 0) {
      throw PidspaceException.badRequest("the body must be {\"vpids\": [vpids], \"hold\": \"<id>\"} with at least one vpid");
    }
    int hold = request.text("hold") == null ? 0 : holdId(request.text("hold"));
    return authority.allocAt(space, vpids(given), hold).thenApply(pids -> {
      metrics.allocated(pids.length);
      return json(StatusCodes.OK, new ApiJson.Pids(pids));
    });
  }

  /** {@code {"vpids": [..], "ttl": "30s"}}: holds them; answers {@code {"hold": "<id>"}}. */
  private CompletionStage<HttpResponse> hold(String id, ByteString body) {
    int space = spaceId(id);
    RequestReader.Body request = RequestReader.object(body, List.of(Field.numbers("vpids", maxBatch), Field.text("ttl", 20)));
    long[] given = request.numbers("vpids");
    if (given == null || given.length == 0 || request.text("ttl") == null) {
      throw PidspaceException.badRequest("the body must be {\"vpids\": [vpids], \"ttl\": \"30s\"} with at least one vpid");
    }
    Duration ttl = duration(request.text("ttl"), "ttl");
    return authority.hold(space, vpids(given), ttl).thenApply(hold ->
        json(StatusCodes.CREATED, new ApiJson.HoldId(Integer.toString(hold)))
            .addHeader(Location.create("/v1/spaces/" + space + "/holds/" + hold)));
  }

  private CompletionStage<HttpResponse> release(String id, String hold) {
    return authority.release(spaceId(id), holdId(hold)).thenApply(done -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT));
  }

  /**
   * {@code {"pidMax": M}}: the space's new pid_max; {@code {"reuseDelay": "30s"}}: its reuse delay
   * ("0s" for off); both in one body are two changes, pid_max first. Answers its stats.
   */
  private CompletionStage<HttpResponse> setPidMax(String id, ByteString body) {
    int space = spaceId(id);
    RequestReader.Body request = RequestReader.object(body, List.of(Field.number("pidMax"), Field.text("reuseDelay", 20)));
    Long pidMax = request.number("pidMax");
    String reuseDelay = request.text("reuseDelay");
    if (pidMax == null && reuseDelay == null) {
      throw PidspaceException.badRequest("the body must be {\"pidMax\": M} or {\"reuseDelay\": \"30s\"} or both");
    }
    Integer max = pidMax == null ? null : pidMax(pidMax);
    Duration delay = reuseDelay == null ? null : duration(reuseDelay, "reuseDelay");
    CompletionStage<?> first = max == null ? CompletableFuture.completedFuture(null) : authority.setPidMax(space, max);
    return first.thenCompose(done -> delay == null ? authority.stats(space) : authority.setReuseDelay(space, delay))
        .thenApply(stats -> json(StatusCodes.OK, ApiJson.Space.of(stats)));
  }

  /** {@code {"alive": [vpids], "apply": false}}: leaked and unknown vpids; with apply, the freed ones. */
  private CompletionStage<HttpResponse> reconcile(String id, ByteString body) {
    int space = spaceId(id);
    RequestReader.Body request = RequestReader.object(body, List.of(Field.numbers("alive", maxBatch), Field.bool("apply")));
    long[] alive = request.numbers("alive");
    if (alive == null) {
      throw PidspaceException.badRequest("the body must be {\"alive\": [vpids], \"apply\": false}");
    }
    return authority.reconcile(space, vpids(alive, "alive"), request.flag("apply"))
        .thenApply(report -> json(StatusCodes.OK, new ApiJson.Report(report.leaked(), report.unknown(), report.freed())));
  }

  private CompletionStage<HttpResponse> export(String id) {
    return authority.exportSpace(spaceId(id)).thenApply(image -> json(StatusCodes.OK, ApiJson.Document.of(image)));
  }

  private static final List<Field> DOCUMENT = List.of(
      Field.number("format"), Field.number("shift"), Field.number("pidMax"), Field.number("lastPid"),
      Field.text("allocated", (int) MAX_IMPORT_BODY), Field.number("lastHold"), Field.number("reuseDelay"),
      Field.object("cooling", List.of(Field.numbers("vpids", Integer.MAX_VALUE), Field.numbers("until", Integer.MAX_VALUE))),
      Field.objects("holds", MAX_HOLDS, List.of(Field.text("id", 10), Field.numbers("vpids", Integer.MAX_VALUE),
          Field.number("expiresAt"))));

  /** {@code {"id": N?, "document": {...}}}: the document as export gives it, checked whole before anything is stored. */
  private CompletionStage<HttpResponse> importSpace(ByteString body) {
    RequestReader.Body request = RequestReader.object(body, List.of(Field.number("id"), Field.object("document", DOCUMENT)));
    int space = request.number("id") == null ? PidAuthority.ANY_ID : spaceId(request.number("id"), "id");
    RequestReader.Body document = request.object("document");
    if (document == null) {
      throw PidspaceException.badRequest("the body must be {\"id\": N, \"document\": {...}} with a document as export gives it");
    }
    return authority.importSpace(space, image(document)).thenApply(stats ->
        json(StatusCodes.CREATED, ApiJson.Space.of(stats)).addHeader(Location.create("/v1/spaces/" + stats.space())));
  }

  /** The document's fields, each present and an int; their meaning is checked by the core. */
  private static SpaceImage image(RequestReader.Body document) {
    String allocated = document.text("allocated");
    List<RequestReader.Body> holds = document.objects("holds");
    if (allocated == null || holds == null) {
      throw PidspaceException.badRequest("document.allocated and document.holds are required");
    }
    byte[] bits;
    try {
      bits = Base64.getDecoder().decode(allocated);
    } catch (IllegalArgumentException notBase64) {
      throw PidspaceException.badRequest("document.allocated must be base64");
    }
    List<Hold> parsed = new ArrayList<>();
    for (int i = 0; i < holds.size(); i++) {
      RequestReader.Body hold = holds.get(i);
      String name = "document.holds[" + i + "]";
      if (hold.text("id") == null || hold.numbers("vpids") == null || hold.number("expiresAt") == null) {
        throw PidspaceException.badRequest(name + " needs id, vpids and expiresAt");
      }
      int[] vpids = new int[hold.numbers("vpids").length];
      for (int j = 0; j < vpids.length; j++) {
        vpids[j] = intField(hold.numbers("vpids")[j], name + ".vpids[" + j + "]");
      }
      parsed.add(new Hold(holdId(hold.text("id")), vpids, hold.number("expiresAt")));
    }
    RequestReader.Body cooling = document.object("cooling");
    long[] coolingVpids = cooling == null || cooling.numbers("vpids") == null ? new long[0] : cooling.numbers("vpids");
    long[] coolingUntil = cooling == null || cooling.numbers("until") == null ? new long[0] : cooling.numbers("until");
    int[] vpids = new int[coolingVpids.length];
    for (int i = 0; i < vpids.length; i++) {
      vpids[i] = intField(coolingVpids[i], "document.cooling.vpids[" + i + "]");
    }
    Long reuseDelay = document.number("reuseDelay");
    return new SpaceImage(intField(document.number("format"), "document.format"),
        intField(document.number("shift"), "document.shift"), intField(document.number("pidMax"), "document.pidMax"),
        intField(document.number("lastPid"), "document.lastPid"), bits, parsed,
        intField(document.number("lastHold"), "document.lastHold"), reuseDelay == null ? 0 : reuseDelay, vpids,
        coolingUntil);
  }

  private static int intField(Long value, String name) {
    if (value == null) {
      throw PidspaceException.badRequest(name + " is required");
    }
    if (value != value.intValue()) {
      throw PidspaceException.outOfRange(name + " must fit in 32 bits");
    }
    return value.intValue();
  }

  private int[] vpids(long[] given) {
    return vpids(given, "vpids");
  }

  /** Vpids as given; each beyond the layout is out of range here, the rest are the space's to check. */
  private int[] vpids(long[] given, String name) {
    int[] vpids = new int[given.length];
    for (int i = 0; i < given.length; i++) {
      if (given[i] < 0 || given[i] >= layout.pidMaxLimit()) {
        throw PidspaceException.outOfRange(name + "[" + i + "] must be within 1..pid_max-1 of the space");
      }
      vpids[i] = (int) given[i];
    }
    return vpids;
  }

  /** A hold id: the decimal digits {@code POST .../holds} answered. */
  private static int holdId(String text) {
    if (text.isEmpty() || text.length() > 9 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw PidspaceException.badRequest("a hold id is the decimal string that POST /v1/spaces/{id}/holds answered");
    }
    return Integer.parseInt(text);
  }

  /** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}: digits and a unit, nothing else. */
  private static Duration duration(String text, String name) {
    int digits = 0;
    while (digits < text.length() && text.charAt(digits) >= '0' && text.charAt(digits) <= '9') {
      digits++;
    }
    String unit = text.substring(digits);
    if (digits == 0 || digits > 9 || !List.of("ms", "s", "m", "h").contains(unit)) {
      throw PidspaceException.badRequest(name + " must be a whole number with a unit: ms, s, m or h (\"30s\")");
    }
    long n = Long.parseLong(text.substring(0, digits));
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
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
    return completeWithFuture(answered(api, work, refusal -> refusal));
  }

  /** {@code work}'s answer, or its JSON error made an answer by {@code asError}. */
  private <T> CompletionStage<T> answered(Api api, Supplier<CompletionStage<T>> work, Function<HttpResponse, T> asError) {
    long start = System.nanoTime();
    DistributionDataPoint latency = latencies.get(api);
    CompletionStage<T> response;
    try {
      response = work.get();
    } catch (RuntimeException | StackOverflowError refusal) {
      // No request can recurse deeply any more (RequestReader), but an Error that escapes a route
      // is fatal to the whole JVM (akka.jvm-exit-on-fatal-error); its stack has unwound by here.
      response = CompletableFuture.failedStage(refusal);
    }
    return response.handle((answered, failure) -> {
      latency.observe((System.nanoTime() - start) / 1e9);
      return failure == null ? answered : asError.apply(error(failure));
    });
  }

  /** The body, read whole within {@code body-timeout}: a half-sent body holds no connection longer. */
  private Route withBody(Api api, Function<ByteString, CompletionStage<HttpResponse>> handler) {
    return withBody(api, settings.maxBody(), handler);
  }

  private Route withBody(Api api, long maxBody, Function<ByteString, CompletionStage<HttpResponse>> handler) {
    return extractRequestEntity(entity -> extractMaterializer(materializer -> answer(api, () -> {
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

  /** With a token set, a request that changes state must carry it; reads stay open. */
  private Route mutating(Supplier<Route> inner) {
    if (!settings.tokenRequired()) {
      return inner.get();
    }
    return optionalHeaderValueByType(Authorization.class, header -> {
      HttpResponse refusal = unauthorized(header);
      return refusal == null ? inner.get() : complete(refusal);
    });
  }

  /** With a token set, the 401 for a change that does not carry it; null when it may go on. */
  private HttpResponse unauthorized(Optional<Authorization> header) {
    if (!settings.tokenRequired()) {
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
    return json(StatusCodes.UNAUTHORIZED, new ApiJson.Error("unauthorized", refusal))
        .addHeader(WWWAuthenticate.create(HttpChallenge.createOAuth2("pidspace")));
  }

  /** The JSON error of {@code failure}, counted by its code. */
  private HttpResponse error(Throwable failure) {
    ApiError error = ApiError.of(failure);
    metrics.refused(error.code());
    if (error.code().equals("internal")) { // a bug; space-unrecoverable, a 500 too, its space logs
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
