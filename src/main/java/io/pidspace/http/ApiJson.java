package io.pidspace.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RetryAfter;
import akka.util.ByteString;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.pidspace.api.PidAuthority;
import io.pidspace.api.SpaceListing;
import io.pidspace.core.Durations;
import io.pidspace.core.FreeResult;
import io.pidspace.core.Handles;
import io.pidspace.core.Hold;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import io.pidspace.http.RequestReader.Field;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The API's codec (docs/http.md): what each request's path, query and body say, read by
 * {@link RequestReader} into values of the right range, and the JSON shapes it answers with
 * (Jackson writes records field by field). A refusal names the field and its rule, never a value
 * the request sent.
 *
 * <p>Over 400 lines: one codec for every route, each reader beside the shape it answers, so a
 * field's limit and its check stay in one place.
 */
final class ApiJson {

  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * Every 503 (a space between homes after a failover, a registry moving, an overloaded queue)
   * says when to come back: a failover takes a few seconds (README "Failover, measured"), and a
   * caller that retries after a second is answered soon after the space is back.
   */
  static final long RETRY_AFTER_SECONDS = 1;
  /** Most holds one document may carry. */
  static final int MAX_HOLDS = 1024;

  private static final List<Field> CREATE = List.of(Field.number("id"), Field.number("pidMax"));
  private static final List<Field> SET = List.of(Field.number("pidMax"), Field.text("reuseDelay", 20));
  private static final List<Field> DOCUMENT = List.of(
      Field.number("format"), Field.number("shift"), Field.number("pidMax"), Field.number("lastPid"),
      Field.text("allocated", (int) HttpSettings.MAX_IMPORT_BODY),
      Field.text("generations", (int) HttpSettings.MAX_IMPORT_BODY), Field.number("lastHold"), Field.number("reuseDelay"),
      Field.object("cooling", List.of(Field.numbers("vpids", Integer.MAX_VALUE), Field.numbers("until", Integer.MAX_VALUE))),
      Field.objects("holds", MAX_HOLDS, List.of(Field.text("id", 10), Field.numbers("vpids", Integer.MAX_VALUE),
          Field.number("expiresAt"))));
  private static final List<Field> IMPORT = List.of(Field.number("id"), Field.object("document", DOCUMENT));

  private final PidLayout layout;
  private final int maxBatch;
  private final List<Field> allocAt;
  private final List<Field> hold;
  private final List<Field> reconcile;
  private final List<Field> free;

  ApiJson(PidLayout layout, int maxBatch) {
    this.layout = layout;
    this.maxBatch = maxBatch;
    this.allocAt = List.of(Field.numbers("vpids", maxBatch), Field.text("hold", 10));
    this.hold = List.of(Field.numbers("vpids", maxBatch), Field.text("ttl", 20));
    this.reconcile = List.of(Field.numbers("alive", maxBatch), Field.bool("apply"));
    this.free = List.of(Field.numbers("pids", maxBatch), Field.numbers("generations", maxBatch));
  }

  // ---- what requests say

  /** {@code POST /v1/spaces}: the id or {@link PidAuthority#ANY_ID}, the pid_max or 0 for the default. */
  record NewSpace(int id, int pidMax) {}

  /** {@code POST /v1/spaces/{id}/pids} with a body: exactly these vpids, of hold {@code hold} or 0. */
  record AllocAt(int[] vpids, int hold) {}

  /** {@code POST /v1/spaces/{id}/holds}. */
  record NewHold(int[] vpids, Duration ttl) {}

  /** {@code PATCH /v1/spaces/{id}}: one change or both, pid_max first. */
  record SpaceChange(OptionalInt pidMax, Optional<Duration> reuseDelay) {}

  /** {@code POST /v1/spaces/{id}:reconcile}. */
  record Alive(int[] vpids, boolean apply) {}

  /** {@code POST /v1/spaces:import}: the id or {@link PidAuthority#ANY_ID}, and the document. */
  record Import(int id, SpaceImage image) {}

  NewSpace newSpace(ByteString body) {
    RequestReader.Body request = RequestReader.object(body, CREATE);
    Long id = request.number("id");
    Long pidMax = request.number("pidMax");
    return new NewSpace(id == null ? PidAuthority.ANY_ID : spaceId(id, "id"), pidMax == null ? 0 : pidMax(pidMax));
  }

  /** The {@code count} query parameter of an alloc: 1 when absent. */
  int count(Optional<String> parameter) {
    long count = parameter.map(text -> RequestReader.integer(text, "count")).orElse(1L);
    if (count < 1) {
      throw PidspaceException.badRequest("count must be at least 1");
    }
    if (count > maxBatch) {
      throw ApiError.tooManyPids(maxBatch);
    }
    return (int) count;
  }

  /** The longest {@code Idempotency-Key} a request may send (the facade checks its characters). */
  static final int MAX_KEY = 64;

  /** Refuses a {@code Idempotency-Key} header (null: none) too long to be a key, never quoting it. */
  void idempotencyKey(String key) {
    if (key != null && (key.isEmpty() || key.length() > MAX_KEY)) {
      throw PidspaceException.badRequest("the Idempotency-Key header must be 1.." + MAX_KEY + " characters");
    }
  }

  /** {@code {"vpids": [..], "hold": "<id>"?}}: exactly those vpids, answered in the order asked. */
  AllocAt allocAt(ByteString body) {
    RequestReader.Body request = RequestReader.object(body, allocAt);
    long[] given = request.numbers("vpids");
    if (given == null || given.length == 0) {
      throw PidspaceException.badRequest("the body must be {\"vpids\": [vpids], \"hold\": \"<id>\"} with at least one vpid");
    }
    int hold = request.text("hold") == null ? 0 : holdId(request.text("hold"));
    return new AllocAt(vpids(given, "vpids"), hold);
  }

  /** {@code {"vpids": [..], "ttl": "30s"}}. */
  NewHold hold(ByteString body) {
    RequestReader.Body request = RequestReader.object(body, hold);
    long[] given = request.numbers("vpids");
    if (given == null || given.length == 0 || request.text("ttl") == null) {
      throw PidspaceException.badRequest("the body must be {\"vpids\": [vpids], \"ttl\": \"30s\"} with at least one vpid");
    }
    Duration ttl = duration(request.text("ttl"), "ttl");
    return new NewHold(vpids(given, "vpids"), ttl);
  }

  /** {@code {"pidMax": M}}, {@code {"reuseDelay": "30s"}} ("0s" for off), or both. */
  SpaceChange spaceChange(ByteString body) {
    RequestReader.Body request = RequestReader.object(body, SET);
    Long pidMax = request.number("pidMax");
    String reuseDelay = request.text("reuseDelay");
    if (pidMax == null && reuseDelay == null) {
      throw PidspaceException.badRequest("the body must be {\"pidMax\": M} or {\"reuseDelay\": \"30s\"} or both");
    }
    OptionalInt max = pidMax == null ? OptionalInt.empty() : OptionalInt.of(pidMax(pidMax));
    return new SpaceChange(max, reuseDelay == null ? Optional.empty() : Optional.of(duration(reuseDelay, "reuseDelay")));
  }

  /** {@code {"alive": [vpids], "apply": false}}. */
  Alive alive(ByteString body) {
    RequestReader.Body request = RequestReader.object(body, reconcile);
    long[] alive = request.numbers("alive");
    if (alive == null) {
      throw PidspaceException.badRequest("the body must be {\"alive\": [vpids], \"apply\": false}");
    }
    return new Alive(vpids(alive, "alive"), request.flag("apply"));
  }

  /** {@code POST /v1/pids:free}: the pids and, when given, their generations ({@code generations[i]} is {@code pids[i]}'s). */
  record FreeBatch(int[] pids, int[] generations) {}

  /**
   * {@code {"pids": [global pids], "generations": [..]?}}: one that is not a global pid at all, or
   * a generation that is not one, makes the whole request bad.
   */
  FreeBatch freeBatch(ByteString body) {
    RequestReader.Body request = RequestReader.object(body, free);
    long[] given = request.numbers("pids");
    if (given == null) {
      throw PidspaceException.badRequest("the body must be {\"pids\": [global pids], \"generations\": [..]?}");
    }
    int[] pids = new int[given.length];
    for (int i = 0; i < pids.length; i++) {
      pids[i] = pid(given[i], "pids[" + i + "]");
    }
    long[] named = request.numbers("generations");
    if (named == null) {
      return new FreeBatch(pids, null);
    }
    if (named.length != pids.length) {
      throw PidspaceException.badRequest("generations must name one generation for each pid, in the same order");
    }
    int[] generations = new int[named.length];
    for (int i = 0; i < named.length; i++) {
      generations[i] = generation(named[i], "generations[" + i + "]");
    }
    return new FreeBatch(pids, generations);
  }

  /** The {@code generation} query parameter of a free: 0 (none named) when absent. */
  static int generation(Optional<String> parameter) {
    return parameter.map(text -> generation(RequestReader.integer(text, "generation"), "generation")).orElse(0);
  }

  private static int generation(long given, String name) {
    if (given < 0 || given > Integer.MAX_VALUE) {
      throw PidspaceException.badRequest(name + " must be within 0.." + Integer.MAX_VALUE + " (0: none)");
    }
    return (int) given;
  }

  /** {@code {"id": N?, "document": {...}}}: the document as export gives it, checked whole before anything is stored. */
  Import importSpace(ByteString body) {
    RequestReader.Body request = RequestReader.object(body, IMPORT);
    int space = request.number("id") == null ? PidAuthority.ANY_ID : spaceId(request.number("id"), "id");
    RequestReader.Body document = request.object("document");
    if (document == null) {
      throw PidspaceException.badRequest("the body must be {\"id\": N, \"document\": {...}} with a document as export gives it");
    }
    return new Import(space, image(document));
  }

  /** The document's fields, each present and an int; their meaning is checked by the core. */
  private static SpaceImage image(RequestReader.Body document) {
    String allocated = document.text("allocated");
    List<RequestReader.Body> holds = document.objects("holds");
    if (allocated == null || holds == null) {
      throw PidspaceException.badRequest("document.allocated and document.holds are required");
    }
    byte[] bits = base64(allocated, "document.allocated");
    String named = document.text("generations"); // absent in documents of builds before generations
    byte[] generations = named == null ? null : base64(named, "document.generations");
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
        coolingUntil, generations);
  }

  private static byte[] base64(String text, String name) {
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException notBase64) {
      throw PidspaceException.badRequest(name + " must be base64");
    }
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
  static int holdId(String text) {
    if (text.isEmpty() || text.length() > 9 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw PidspaceException.badRequest("a hold id is the decimal string that POST /v1/spaces/{id}/holds answered");
    }
    return Integer.parseInt(text);
  }

  /** A duration as {@link Durations} writes it. */
  private static Duration duration(String text, String name) {
    return Durations.parse(text).orElseThrow(() -> PidspaceException.badRequest(name + " must be " + Durations.GRAMMAR));
  }

  // The range checks are PidLayout's; these only name the field and its range instead of the value.

  /** A space id in a path. */
  int spaceId(String text) {
    return spaceId(RequestReader.integer(text, "space id"), "space id");
  }

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

  /** A global pid in a path. */
  int pid(String text) {
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

  // ---- what the API answers

  /** An answer with {@code body} as JSON. */
  static HttpResponse response(StatusCode status, Object body) {
    try {
      HttpResponse response =
          HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body));
      return status.intValue() == StatusCodes.SERVICE_UNAVAILABLE.intValue()
          ? response.addHeader(RetryAfter.create(RETRY_AFTER_SECONDS))
          : response;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a " + body.getClass().getSimpleName() + " as JSON", e);
    }
  }

  /** Every answer that is not a success: {@code error} is a stable code clients may match on. */
  record Error(String error, String message) {}

  record Space(int id, int pidMax, int allocated, int lastPid, int pagesInUse) {
    static Space of(SpaceStats stats) {
      return new Space(stats.space(), stats.pidMax(), stats.allocated(), stats.lastPid(), stats.pagesInUse());
    }
  }

  /** A space of the listing: its stats, or the error that says why it has none now. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Listed(int id, Integer pidMax, Integer allocated, Integer lastPid, Integer pagesInUse, String error,
      String message) {
    static Listed of(SpaceListing listing) {
      SpaceStats s = listing.stats();
      return s != null
          ? new Listed(s.space(), s.pidMax(), s.allocated(), s.lastPid(), s.pagesInUse(), null, null)
          : new Listed(listing.id(), null, null, null, null, listing.error().code().wire(), listing.error().getMessage());
    }
  }

  record Spaces(List<Listed> spaces) {}

  /** Also written by hand on the hot path: {@link #pids(int[])}. */
  /** An alloc's answer: the pids and each one's generation, which a free may name. */
  record Pids(int[] pids, int[] generations) {
    static Pids of(Handles handles) {
      return new Pids(handles.pids(), handles.generations());
    }
  }

  /**
   * {@code {"pids": [..], "generations": [..]}}, 200: what {@link Pids} is as JSON, written
   * without a mapper for the alloc without a body.
   */
  static FullHttpResponse pids(Handles handles) {
    int[] pids = handles.pids();
    ByteBuf body = Unpooled.buffer(30 + pids.length * 14);
    body.writeBytes(PIDS_OPEN);
    numbers(body, pids);
    body.writeBytes(GENERATIONS);
    numbers(body, handles.generations());
    body.writeBytes(PIDS_CLOSE);
    FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
    out.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
    return out;
  }

  private static void numbers(ByteBuf body, int[] numbers) {
    for (int i = 0; i < numbers.length; i++) {
      if (i > 0) {
        body.writeByte(',');
      }
      body.writeCharSequence(Integer.toString(numbers[i]), StandardCharsets.US_ASCII);
    }
  }

  private static final byte[] GENERATIONS = "],\"generations\":[".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PIDS_OPEN = "{\"pids\":[".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PIDS_CLOSE = "]}".getBytes(StandardCharsets.US_ASCII);

  record HoldId(String hold) {}

  /** A reconciliation report: allocated but not alive, alive but not allocated, freed now. */
  record Report(int[] leaked, int[] unknown, int[] freed) {}

  /** A hold in a document: its id (a string, as the API hands it out), its vpids, and its end in epoch millis. */
  record HoldJson(String id, int[] vpids, long expiresAt) {}

  /**
   * A whole space as export gives it and import takes it; {@code allocated} is a portable RoaringBitmap in
   * base64, {@code generations} the allocated vpids' generations as {@link SpaceImage} packs them, in base64.
   */
  record Document(int format, int shift, int pidMax, int lastPid, String allocated, String generations,
      List<HoldJson> holds, int lastHold, long reuseDelay, Cooling cooling) {
    static Document of(SpaceImage image) {
      return new Document(image.format(), image.shift(), image.pidMax(), image.lastPid(),
          Base64.getEncoder().encodeToString(image.allocated()),
          image.generations() == null ? null : Base64.getEncoder().encodeToString(image.generations()),
          image.holds().stream().map(h -> new HoldJson(Integer.toString(h.id()), h.vpids(), h.expiresAt())).toList(),
          image.lastHold(), image.reuseDelay(), new Cooling(image.cooling(), image.coolingUntil()));
    }
  }

  /** Vpids still cooling down after a free (reuse delay), each with its end in epoch millis. */
  record Cooling(int[] vpids, long[] until) {}

  record Refusal(int pid, String error, String message) {}

  record Freed(int[] freed, List<Refusal> refused) {
    static Freed of(FreeResult result) {
      return new Freed(result.freed(), result.refused().stream()
          .map(r -> new Refusal(r.pid(), r.code(), r.message()))
          .toList());
    }
  }
}
