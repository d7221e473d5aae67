package io.pidspace.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.http.javadsl.Http;
import akka.http.javadsl.settings.ServerSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The API on a real server (127.0.0.1, a free port) over a real in-memory authority: every route,
 * every kind of bad input (a 4xx with a JSON error, and the state unchanged), the token.
 */
class HttpApiTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SHIFT = 22;
  private static final int MAX_BATCH = 50;
  private static final String TOKEN = "s3cret";
  /** A space the bad-input cases aim at: pid_max 1000, with {@link #FIXTURE_PID} allocated. */
  private static final int FIXTURE = 100;
  private static final int FIXTURE_PID = (FIXTURE << SHIFT) | 2;

  private static PidAuthority authority;
  private static String open;
  private static String guarded;
  /** The same API through {@link PidspaceHttp#route} alone, as an application with its own server binds it. */
  private static String routed;
  private static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    authority = PidAuthority.start(ConfigFactory.parseMap(Map.of(
        "pidspace.max-batch", MAX_BATCH,
        "pidspace.http.max-body", "4k")));
    HttpSettings settings = HttpSettings.from(authority.system().settings().config()).withPort(0);
    open = baseUrl(PidspaceHttp.bind(authority.system(), authority, settings).toCompletableFuture().get().getPort());
    HttpSettings withToken = new HttpSettings(settings.interfaceName(), 0, TOKEN, settings.maxBody(), settings.terminationDeadline());
    guarded = baseUrl(PidspaceHttp.bind(authority.system(), authority, withToken).toCompletableFuture().get().getPort());
    routed = baseUrl(Http.get(authority.system()).newServerAt("127.0.0.1", 0)
        .bind(PidspaceHttp.route(authority, settings)).toCompletableFuture().get().localAddress().getPort());
    assertEquals(201, send("POST", "/v1/spaces", "{\"id\": " + FIXTURE + ", \"pidMax\": 1000}").statusCode());
    assertEquals(List.of(FIXTURE_PID), pids(send("POST", "/v1/spaces/" + FIXTURE + "/pids", "")));
  }

  @AfterAll
  static void stop() {
    authority.close();
  }

  private static String baseUrl(int port) {
    return "http://127.0.0.1:" + port;
  }

  @Test
  void createSpace_answers201WithTheSpaceAndItsLocation() throws Exception {
    HttpResponse<String> created = send("POST", "/v1/spaces", "{}");
    assertEquals(201, created.statusCode());
    assertEquals("application/json", created.headers().firstValue("Content-Type").orElseThrow());
    JsonNode space = JSON.readTree(created.body());
    int id = space.get("id").asInt();
    assertTrue(id >= 1);
    assertEquals(32768, space.get("pidMax").asInt());
    assertEquals(0, space.get("allocated").asInt());
    assertEquals(1, space.get("lastPid").asInt());
    assertEquals("/v1/spaces/" + id, created.headers().firstValue("Location").orElseThrow());
    assertEquals(space, json(send("GET", "/v1/spaces/" + id, null)));
  }

  @Test
  void createSpace_takesAnEmptyBodyAndAGivenIdAndPidMax() throws Exception {
    assertEquals(201, send("POST", "/v1/spaces", "").statusCode());
    HttpResponse<String> created = send("POST", "/v1/spaces", "{\"id\": 200, \"pidMax\": 500}");
    assertEquals(201, created.statusCode());
    assertEquals(200, JSON.readTree(created.body()).get("id").asInt());
    assertEquals(500, JSON.readTree(created.body()).get("pidMax").asInt());
    assertError(send("POST", "/v1/spaces", "{\"id\": 200}"), 409, "space-id-in-use");
  }

  @Test
  void listSpaces_holdsEverySpaceWithItsStats() throws Exception {
    int id = createSpace();
    send("POST", "/v1/spaces/" + id + "/pids?count=3", "");
    JsonNode spaces = json(send("GET", "/v1/spaces", null)).get("spaces");
    List<Integer> ids = new ArrayList<>();
    spaces.forEach(s -> ids.add(s.get("id").asInt()));
    assertTrue(ids.containsAll(List.of(0, FIXTURE, id)), ids.toString());
    for (JsonNode s : spaces) {
      if (s.get("id").asInt() == id) {
        assertEquals(3, s.get("allocated").asInt());
        assertEquals(4, s.get("lastPid").asInt());
        assertEquals(1, s.get("pagesInUse").asInt());
      }
    }
  }

  @Test
  void destroySpace_answers204AndTheSpaceIsGone() throws Exception {
    int id = createSpace();
    int pid = pids(send("POST", "/v1/spaces/" + id + "/pids", "")).get(0);
    assertEquals(204, send("DELETE", "/v1/spaces/" + id, null).statusCode());
    assertError(send("GET", "/v1/spaces/" + id, null), 404, "unknown-space");
    assertError(send("DELETE", "/v1/spaces/" + id, null), 404, "unknown-space");
    assertError(send("POST", "/v1/spaces/" + id + "/pids", ""), 404, "unknown-space");
    assertError(send("DELETE", "/v1/pids/" + pid, null), 404, "unknown-space");
  }

  @Test
  void alloc_answersGlobalPidsInNextFitOrder() throws Exception {
    int id = createSpace();
    int first = (id << SHIFT) | 2;
    assertEquals(List.of(first), pids(send("POST", "/v1/spaces/" + id + "/pids", "")));
    assertEquals(List.of(first + 1, first + 2, first + 3), pids(send("POST", "/v1/spaces/" + id + "/pids?count=3", "")));
    assertEquals(List.of(first + 4), pids(send("POST", "/v1/spaces/" + id + "/pids?count=1", "")));
  }

  @Test
  void alloc_answers409WhenTheSpaceIsExhausted() throws Exception {
    int id = createSpace("{\"pidMax\": 301}");
    int handedOut = 0;
    for (int i = 0; i < 6; i++) {
      handedOut += pids(send("POST", "/v1/spaces/" + id + "/pids?count=" + MAX_BATCH, "")).size();
    }
    assertEquals(300, handedOut); // vpids 1..300
    assertError(send("POST", "/v1/spaces/" + id + "/pids", ""), 409, "space-exhausted");
    assertError(send("POST", "/v1/spaces/" + id + "/pids?count=5", ""), 409, "space-exhausted");
  }

  @Test
  void lookup_decodesAGlobalPid() throws Exception {
    int id = createSpace();
    int pid = pids(send("POST", "/v1/spaces/" + id + "/pids", "")).get(0);
    JsonNode info = json(send("GET", "/v1/pids/" + pid, null));
    assertEquals(pid, info.get("pid").asInt());
    assertEquals(id, info.get("space").asInt());
    assertEquals(2, info.get("vpid").asInt());
    assertTrue(info.get("allocated").asBoolean());
    assertFalse(json(send("GET", "/v1/pids/" + (pid + 1), null)).get("allocated").asBoolean());
  }

  @Test
  void free_answers204ThenNotAllocated() throws Exception {
    int id = createSpace();
    int pid = pids(send("POST", "/v1/spaces/" + id + "/pids", "")).get(0);
    assertEquals(204, send("DELETE", "/v1/pids/" + pid, null).statusCode());
    assertFalse(json(send("GET", "/v1/pids/" + pid, null)).get("allocated").asBoolean());
    assertError(send("DELETE", "/v1/pids/" + pid, null), 404, "not-allocated");
  }

  @Test
  void freeBatch_freesWhatItCanAndGivesAReasonForTheRest() throws Exception {
    int id = createSpace();
    List<Integer> pids = pids(send("POST", "/v1/spaces/" + id + "/pids?count=2", ""));
    int neverAllocated = pids.get(1) + 10;
    int beyondPidMax = (id << SHIFT) | 40_000;
    int unknownSpace = (300 << SHIFT) | 5;
    HttpResponse<String> answer = send("POST", "/v1/pids:free",
        "{\"pids\": [" + pids.get(0) + ", " + pids.get(1) + ", " + neverAllocated + ", " + beyondPidMax + ", "
            + unknownSpace + ", 0]}");
    assertEquals(200, answer.statusCode());
    JsonNode result = JSON.readTree(answer.body());
    List<Integer> freed = new ArrayList<>();
    result.get("freed").forEach(p -> freed.add(p.asInt()));
    assertEquals(pids, freed.stream().sorted().toList());
    Map<Integer, String> refused = new java.util.HashMap<>();
    result.get("refused").forEach(r -> {
      refused.put(r.get("pid").asInt(), r.get("error").asText());
      assertFalse(r.get("message").asText().isEmpty());
    });
    assertEquals(Map.of(
        neverAllocated, "not-allocated",
        beyondPidMax, "out-of-range",
        unknownSpace, "unknown-space",
        0, "reserved-pid"), refused);
    assertEquals(0, json(send("GET", "/v1/spaces/" + id, null)).get("allocated").asInt());
  }

  /** Allocs answer each pid's generation (the node's fast path and the route alike); a free naming a stale one is 409. */
  @Test
  void generations_areAnswered_andAFreeNamingAStaleOneIsRefused() throws Exception {
    int id = createSpace("{\"pidMax\": 1000}");
    int base = id << SHIFT;
    JsonNode fast = json(send("POST", "/v1/spaces/" + id + "/pids?count=2", ""));
    assertEquals("[" + (base | 2) + "," + (base | 3) + "]", fast.get("pids").toString());
    assertEquals("[1,1]", fast.get("generations").toString());
    JsonNode routedAnswer = json(sendTo(routed, "POST", "/v1/spaces/" + id + "/pids", "", null));
    assertEquals("[1]", routedAnswer.get("generations").toString());
    assertEquals(204, send("DELETE", "/v1/pids/" + (base | 2) + "?generation=1", null).statusCode());
    JsonNode again = json(send("POST", "/v1/spaces/" + id + "/pids", "{\"vpids\": [2]}")); // the ABA
    assertEquals("[2]", again.get("generations").toString());

    assertError(send("DELETE", "/v1/pids/" + (base | 2) + "?generation=1", null), 409, "stale-handle");
    assertError(send("DELETE", "/v1/pids/" + (base | 2) + "?generation=-1", null), 400, "bad-request");
    assertError(send("DELETE", "/v1/pids/" + (base | 2) + "?generation=x", null), 400, "bad-request");
    HttpResponse<String> batch = send("POST", "/v1/pids:free",
        "{\"pids\": [" + (base | 2) + ", " + (base | 3) + "], \"generations\": [1, 1]}");
    assertEquals(200, batch.statusCode(), batch.body());
    JsonNode result = JSON.readTree(batch.body());
    assertEquals("[" + (base | 3) + "]", result.get("freed").toString());
    assertEquals("stale-handle", result.get("refused").get(0).get("error").asText());
    assertTrue(json(send("GET", "/v1/pids/" + (base | 2), null)).get("allocated").asBoolean(), "a stale free changes nothing");
    assertError(send("POST", "/v1/pids:free", "{\"pids\": [" + (base | 2) + "], \"generations\": [1, 2]}"), 400,
        "bad-request");
    assertEquals(204, send("DELETE", "/v1/pids/" + (base | 2) + "?generation=2", null).statusCode());

    JsonNode document = json(send("GET", "/v1/spaces/" + id + "/export", null));
    assertTrue(document.get("generations").isTextual(), document.toString());
  }

  @Test
  void malformedJson_saysWhereWithoutEchoingTheBody() throws Exception {
    HttpResponse<String> answer = send("POST", "/v1/spaces", "{\"id\": 5, \"secret\"");
    assertError(answer, 400, "bad-request");
    String message = JSON.readTree(answer.body()).get("message").asText();
    assertTrue(message.startsWith("malformed JSON at line 1, column "), message);
    assertFalse(message.contains("secret"), message);
  }

  /** A document as export gives it: pid_max 1000, vpid 2 allocated, no holds. */
  private static String document(String change) {
    org.roaringbitmap.RoaringBitmap bits = org.roaringbitmap.RoaringBitmap.bitmapOf(2);
    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(bits.serializedSizeInBytes());
    bits.serialize(buffer);
    String allocated = java.util.Base64.getEncoder().encodeToString(buffer.array());
    String doc = "{\"format\": 1, \"shift\": 22, \"pidMax\": 1000, \"lastPid\": 2, \"allocated\": \"" + allocated
        + "\", \"holds\": [], \"lastHold\": 0}";
    return change.isEmpty() ? doc : doc.replaceFirst("\\}$", ", " + change + "}");
  }

  @Test
  void allocAtHoldsPidMaxExportImport_asDocsHttpShowsThem() throws Exception {
    int id = createSpace("{\"pidMax\": 1000}");
    int base = id << SHIFT;
    assertEquals(List.of(base | 700, base | 5), pids(send("POST", "/v1/spaces/" + id + "/pids", "{\"vpids\": [700, 5]}")));
    HttpResponse<String> inUse = send("POST", "/v1/spaces/" + id + "/pids", "{\"vpids\": [6, 700, 5]}");
    assertError(inUse, 409, "pid-in-use");
    assertEquals("vpids 700, 5 of space " + id + " are in use", JSON.readTree(inUse.body()).get("message").asText());

    HttpResponse<String> held = send("POST", "/v1/spaces/" + id + "/holds", "{\"vpids\": [2, 3], \"ttl\": \"30s\"}");
    assertEquals(201, held.statusCode(), held.body());
    String hold = JSON.readTree(held.body()).get("hold").asText();
    assertEquals("/v1/spaces/" + id + "/holds/" + hold, held.headers().firstValue("Location").orElseThrow());
    assertEquals(List.of(base | 4), pids(send("POST", "/v1/spaces/" + id + "/pids", ""))); // next-fit skips 2 and 3
    assertError(send("POST", "/v1/spaces/" + id + "/pids", "{\"vpids\": [2]}"), 409, "pid-held");
    assertEquals(List.of(base | 2), pids(send("POST", "/v1/spaces/" + id + "/pids", "{\"vpids\": [2], \"hold\": \"" + hold + "\"}")));
    assertEquals(204, send("DELETE", "/v1/spaces/" + id + "/holds/" + hold, null).statusCode());
    assertError(send("DELETE", "/v1/spaces/" + id + "/holds/" + hold, null), 404, "unknown-hold");

    HttpResponse<String> lower = send("PATCH", "/v1/spaces/" + id, "{\"pidMax\": 600}");
    assertError(lower, 409, "pid-in-use");
    assertTrue(JSON.readTree(lower.body()).get("message").asText().contains("vpid 700"), lower.body());
    assertEquals(5000, json(send("PATCH", "/v1/spaces/" + id, "{\"pidMax\": 5000}")).get("pidMax").asInt());
    assertEquals(5000, json(send("PATCH", "/v1/spaces/" + id, "{\"reuseDelay\": \"1h\"}")).get("pidMax").asInt());
    assertEquals(204, send("DELETE", "/v1/pids/" + (base | 4), null).statusCode());

    send("POST", "/v1/spaces/" + id + "/holds", "{\"vpids\": [9], \"ttl\": \"1h\"}");
    JsonNode document = json(send("GET", "/v1/spaces/" + id + "/export", null));
    assertEquals(1, document.get("format").asInt());
    assertEquals(5000, document.get("pidMax").asInt());
    assertEquals(9, document.get("holds").get(0).get("vpids").get(0).asInt());
    assertEquals(3_600_000, document.get("reuseDelay").asLong());
    assertEquals(4, document.get("cooling").get("vpids").get(0).asInt());
    HttpResponse<String> imported = send("POST", "/v1/spaces:import", "{\"document\": " + document + "}");
    assertEquals(201, imported.statusCode(), imported.body());
    int copy = JSON.readTree(imported.body()).get("id").asInt();
    for (int i = 0; i < 3; i++) {
      int a = pids(send("POST", "/v1/spaces/" + id + "/pids", "")).get(0) & ((1 << SHIFT) - 1);
      int b = pids(send("POST", "/v1/spaces/" + copy + "/pids", "")).get(0) & ((1 << SHIFT) - 1);
      assertEquals(a, b);
    }
    assertError(send("POST", "/v1/spaces/" + copy + "/pids", "{\"vpids\": [9]}"), 409, "pid-held");
    assertError(send("POST", "/v1/spaces:import", "{\"id\": " + copy + ", \"document\": " + document + "}"), 409,
        "space-id-in-use");
  }

  @Test
  void reconcile_reportsAndFreesALeakAfterThreeReports() throws Exception {
    int id = createSpace("{\"pidMax\": 1000}");
    int base = id << SHIFT;
    pids(send("POST", "/v1/spaces/" + id + "/pids?count=3", "")); // vpids 2, 3, 4
    String body = "{\"alive\": [2, 3, 77], \"apply\": true}";
    for (int i = 0; i < 3; i++) {
      JsonNode report = json(send("POST", "/v1/spaces/" + id + ":reconcile", body));
      assertEquals("[4]", report.get("leaked").toString());
      assertEquals("[77]", report.get("unknown").toString());
      assertEquals("[]", report.get("freed").toString());
    }
    assertEquals("[4]", json(send("POST", "/v1/spaces/" + id + ":reconcile", body)).get("freed").toString());
    assertFalse(json(send("GET", "/v1/pids/" + (base | 4), null)).get("allocated").asBoolean());
  }

  static List<String[]> badRequests() {
    int f = FIXTURE;
    int p = FIXTURE_PID;
    String tooManyVpids = IntStream.range(0, MAX_BATCH + 1).mapToObj(i -> String.valueOf(i + 3))
        .collect(Collectors.joining(",", "{\"vpids\": [", "]}"));
    String tooManyHolds = IntStream.range(0, 1025).mapToObj(i -> "{}").collect(Collectors.joining(",", "\"holds\": [", "]"));
    String tooManyPids = IntStream.range(0, MAX_BATCH + 1).mapToObj(i -> String.valueOf(p))
        .collect(Collectors.joining(",", "{\"pids\": [", "]}"));
    String oversized = "{\"pids\": [" + p + "]" + " ".repeat(5000) + "}";
    return List.of(
        // method, path, body, status, error code
        new String[] {"POST", "/v1/spaces", "{", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces", "[]", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces", "{} {}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces", "{\"id\": \"7\"}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces", "{\"id\": 7.5}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces", "{\"id\": true}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces", "{\"id\": 7, \"id\": 8}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces", "{\"pid_max\": 1000}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces", "{\"id\": -1}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces", "{\"id\": 512}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces", "{\"id\": 99999999999999999999999}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces", "{\"pidMax\": 300}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces", "{\"pidMax\": 0}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces", "{\"pidMax\": 4194305}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces", "{\"id\": " + f + "}", "409", "space-id-in-use"},
        new String[] {"POST", "/v1/spaces", oversized, "413", "body-too-large"},
        new String[] {"GET", "/v1/spaces/abc", null, "400", "bad-request"},
        new String[] {"GET", "/v1/spaces/-3", null, "400", "out-of-range"},
        new String[] {"GET", "/v1/spaces/300", null, "404", "unknown-space"},
        new String[] {"DELETE", "/v1/spaces/0", null, "409", "default-space"},
        new String[] {"DELETE", "/v1/spaces/300", null, "404", "unknown-space"},
        new String[] {"DELETE", "/v1/spaces/-3", null, "400", "out-of-range"},
        new String[] {"DELETE", "/v1/spaces/1e3", null, "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/abc/pids", "", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/-1/pids", "", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/4294967296/pids", "", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/300/pids", "", "404", "unknown-space"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids?count=0", "", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids?count=-5", "", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids?count=x", "", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids?count=1.5", "", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids?count=", "", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids?count=99999999999999999999", "", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids?count=" + (MAX_BATCH + 1), "", "413", "too-many-pids"},
        new String[] {"GET", "/v1/pids/-1", null, "400", "out-of-range"},
        new String[] {"GET", "/v1/pids/abc", null, "400", "bad-request"},
        new String[] {"GET", "/v1/pids/2147483648", null, "400", "out-of-range"},
        new String[] {"DELETE", "/v1/pids/-1", null, "400", "out-of-range"},
        new String[] {"DELETE", "/v1/pids/0", null, "400", "reserved-pid"},
        new String[] {"DELETE", "/v1/pids/" + (p + 1), null, "404", "not-allocated"},
        new String[] {"DELETE", "/v1/pids/" + ((f << SHIFT) | 40_000), null, "400", "out-of-range"},
        new String[] {"DELETE", "/v1/pids/" + ((300 << SHIFT) | 5), null, "404", "unknown-space"},
        new String[] {"POST", "/v1/pids:free", "", "400", "bad-request"},
        new String[] {"POST", "/v1/pids:free", "{}", "400", "bad-request"},
        new String[] {"POST", "/v1/pids:free", "{\"pids\": " + p + "}", "400", "bad-request"},
        new String[] {"POST", "/v1/pids:free", "{\"pids\": [" + p + ", \"5\"]}", "400", "bad-request"},
        new String[] {"POST", "/v1/pids:free", "{\"pids\": [" + p + ", -1]}", "400", "out-of-range"},
        new String[] {"POST", "/v1/pids:free", "{\"pids\": [" + p + ", 2147483648]}", "400", "out-of-range"},
        new String[] {"POST", "/v1/pids:free", "{\"pids\": [" + p + "], \"force\": true}", "400", "bad-request"},
        new String[] {"POST", "/v1/pids:free", tooManyPids, "413", "too-many-pids"},
        new String[] {"POST", "/v1/pids:free", oversized, "413", "body-too-large"},
        new String[] {"GET", "/v1/pids:free", null, "405", "method-not-allowed"},
        new String[] {"PUT", "/v1/spaces", "{}", "405", "method-not-allowed"},
        new String[] {"PATCH", "/v1/pids/" + p, "{}", "405", "method-not-allowed"},
        new String[] {"GET", "/v1/spaces/" + f + "/pids", null, "405", "method-not-allowed"},
        new String[] {"GET", "/", null, "404", "not-found"},
        new String[] {"GET", "/v1/nothing", null, "404", "not-found"},
        new String[] {"BREW", "/v1/spaces", null, "405", "method-not-allowed"},
        new String[] {"POST", "/v1/spaces", "{\"id\": " + "[".repeat(2000) + "]".repeat(2000) + "}", "400", "bad-request"},
        new String[] {"POST", "/v1/pids:free", "{\"pids\": [[" + p + "]]}", "400", "bad-request"},
        new String[] {"GET", "/v1/spaces/" + "9".repeat(2000), null, "414", "uri-too-long"},
        new String[] {"GET", "/v2/spaces", null, "404", "not-found"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": []}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": [2, 3]}", "409", "pid-in-use"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": [3, 1000]}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": [0]}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": [-1]}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": [4194304]}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": [5, 5]}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": \"5\"}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": [5], \"hold\": 7}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": [5], \"hold\": \"x\"}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", "{\"vpids\": [5], \"hold\": \"77\"}", "404", "unknown-hold"},
        new String[] {"POST", "/v1/spaces/" + f + "/pids", tooManyVpids, "413", "too-many-pids"},
        new String[] {"POST", "/v1/spaces/300/pids", "{\"vpids\": [5]}", "404", "unknown-space"},
        new String[] {"POST", "/v1/spaces/" + f + "/holds", "{\"vpids\": [5]}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/holds", "{\"vpids\": [5], \"ttl\": \"30\"}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/holds", "{\"vpids\": [5], \"ttl\": \"2d\"}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/holds", "{\"vpids\": [5], \"ttl\": \"-3s\"}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + "/holds", "{\"vpids\": [5], \"ttl\": \"25h\"}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/" + f + "/holds", "{\"vpids\": [5], \"ttl\": \"0s\"}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/" + f + "/holds", "{\"vpids\": [2], \"ttl\": \"30s\"}", "409", "pid-in-use"},
        new String[] {"DELETE", "/v1/spaces/" + f + "/holds/abc", null, "400", "bad-request"},
        new String[] {"DELETE", "/v1/spaces/" + f + "/holds/77", null, "404", "unknown-hold"},
        new String[] {"PATCH", "/v1/spaces/" + f, "{}", "400", "bad-request"},
        new String[] {"PATCH", "/v1/spaces/" + f, "{\"pidMax\": 300}", "400", "out-of-range"},
        new String[] {"PATCH", "/v1/spaces/" + f, "{\"pidMax\": 4194305}", "400", "out-of-range"},
        new String[] {"PATCH", "/v1/spaces/" + f, "{\"pidMax\": \"2000\"}", "400", "bad-request"},
        new String[] {"PATCH", "/v1/spaces/300", "{\"pidMax\": 2000}", "404", "unknown-space"},
        new String[] {"PATCH", "/v1/spaces/" + f, "{\"reuseDelay\": 30}", "400", "bad-request"},
        new String[] {"PATCH", "/v1/spaces/" + f, "{\"reuseDelay\": \"25h\"}", "400", "out-of-range"},
        new String[] {"PATCH", "/v1/spaces/" + f, "{\"reuseDelay\": \"30 s\"}", "400", "bad-request"},
        new String[] {"GET", "/v1/spaces/300/export", null, "404", "unknown-space"},
        new String[] {"POST", "/v1/spaces:import", "{}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces:import", "{\"document\": {\"format\": 1}}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces:import", "{\"document\": " + document("\"extra\": 1") + "}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces:import", "{\"id\": " + f + ", \"document\": " + document("") + "}", "409", "space-id-in-use"},
        new String[] {"POST", "/v1/spaces:import", "{\"id\": 512, \"document\": " + document("") + "}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces:import", "{\"document\": " + document("").replace("\"shift\": 22", "\"shift\": 20") + "}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces:import", "{\"document\": " + document("").replace("\"pidMax\": 1000", "\"pidMax\": 2") + "}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces:import", "{\"document\": " + document("").replaceFirst("\"allocated\": \"[^\"]*\"", "\"allocated\": \"!!\"") + "}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces:import", "{\"document\": " + document("").replaceFirst("\"allocated\": \"[^\"]*\"", "\"allocated\": \"AAAA\"") + "}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces:import", "{\"document\": " + document("").replace("\"holds\": [], \"lastHold\": 0", "\"holds\": [{\"id\": \"1\", \"vpids\": [2], \"expiresAt\": 1}], \"lastHold\": 1") + "}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces:import", "{\"document\": " + document("").replace("\"holds\": [], ", tooManyHolds + ", ") + "}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces:import", "{\"document\": " + document("").replace("\"lastPid\": 2", "\"lastPid\": 2147483648") + "}", "400", "out-of-range"},
        new String[] {"GET", "/v1/spaces:import", null, "405", "method-not-allowed"},
        new String[] {"POST", "/v1/spaces/" + f + ":reconcile", "{}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + ":reconcile", "{\"alive\": [2], \"apply\": 1}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + ":reconcile", "{\"alive\": [2, 2]}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/" + f + ":reconcile", "{\"alive\": [1000]}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/" + f + ":reconcile", "{\"alive\": [-1]}", "400", "out-of-range"},
        new String[] {"POST", "/v1/spaces/" + f + ":reconcile", tooManyVpids.replace("vpids", "alive"), "413", "too-many-pids"},
        new String[] {"POST", "/v1/spaces/x:reconcile", "{\"alive\": []}", "400", "bad-request"},
        new String[] {"POST", "/v1/spaces/300:reconcile", "{\"alive\": []}", "404", "unknown-space"},
        new String[] {"GET", "/v1/spaces/" + f + ":reconcile", null, "400", "bad-request"},
        new String[] {"DELETE", "/v1/spaces/" + f + "/pids/" + p, null, "404", "not-found"});
  }

  @ParameterizedTest(name = "{0} {1} {2} -> {3} {4}")
  @MethodSource("badRequests")
  void badRequest_answers4xxWithAJsonErrorAndChangesNothing(
      String method, String path, String body, String status, String code) throws Exception {
    String before = state();
    assertError(send(method, path, body), Integer.parseInt(status), code);
    assertEquals(before, state());
  }

  @Test
  void token_guardsEveryMutatingRouteAndNoRead() throws Exception {
    String before = state();
    assertUnauthorized(sendTo(guarded, "POST", "/v1/spaces", "{}", null));
    assertUnauthorized(sendTo(guarded, "POST", "/v1/spaces", "{}", "Bearer wrong"));
    assertUnauthorized(sendTo(guarded, "POST", "/v1/spaces", "{}", "Basic " + TOKEN));
    assertUnauthorized(sendTo(guarded, "DELETE", "/v1/spaces/" + FIXTURE, null, null));
    assertUnauthorized(sendTo(guarded, "POST", "/v1/spaces/" + FIXTURE + "/pids", "", null));
    assertUnauthorized(sendTo(guarded, "DELETE", "/v1/pids/" + FIXTURE_PID, null, null));
    assertUnauthorized(sendTo(guarded, "POST", "/v1/pids:free", "{\"pids\": [" + FIXTURE_PID + "]}", "Bearer s3cre"));
    assertEquals(before, state());

    assertEquals(200, sendTo(guarded, "GET", "/v1/spaces", null, null).statusCode());
    assertEquals(200, sendTo(guarded, "GET", "/v1/spaces/" + FIXTURE, null, null).statusCode());
    assertEquals(200, sendTo(guarded, "GET", "/v1/pids/" + FIXTURE_PID, null, null).statusCode());
    HttpResponse<String> created = sendTo(guarded, "POST", "/v1/spaces", "{}", "Bearer " + TOKEN);
    assertEquals(201, created.statusCode());
    int id = JSON.readTree(created.body()).get("id").asInt();
    assertEquals(204, sendTo(guarded, "DELETE", "/v1/spaces/" + id, null, "bearer " + TOKEN).statusCode());
  }

  /**
   * A node answers an alloc without a body ahead of its route tree (ApiHandler): the
   * same requests, sent to it and to the route alone, get the same answers.
   */
  @Test
  void allocWithoutBody_answersAsTheRouteDoes() throws Exception {
    int id = createSpace("{\"pidMax\": 1000}");
    String encodedId = String.valueOf(id).chars().mapToObj(c -> "%3" + (char) c).collect(Collectors.joining());
    List<String> paths = List.of("/v1/spaces/" + id + "/pids", "/v1/spaces/" + id + "/pids?count=3",
        "/v1/spaces/" + id + "/pids?count=2&count=9", "/v1/spaces/" + id + "/pids?other=1", "/v1/spaces/" + encodedId + "/pids",
        "/v1/spaces/" + id + "/pids?count=0", "/v1/spaces/" + id + "/pids?count=", "/v1/spaces/" + id + "/pids?count=" + (MAX_BATCH + 1),
        "/v1/spaces/" + id + "/pids/", "//v1/spaces/" + id + "/pids", "/v1/spaces/" + id + "//pids", "/v1/spaces//pids",
        "/v1/spaces/abc/pids", "/v1/spaces/-1/pids", "/v1/spaces/4294967296/pids", "/v1/spaces/300/pids",
        "/v1/spaces/" + id + "/pids/x", "/v1/spaces/pids", "/v1/spaces/1%2F0/pids", "/v1/spaces/%20/pids");
    for (String path : paths) {
      HttpResponse<String> route = sendTo(routed, "POST", path, "", null);
      HttpResponse<String> node = send("POST", path, "");
      assertEquals(route.statusCode(), node.statusCode(), path);
      assertEquals(route.headers().firstValue("Content-Type"), node.headers().firstValue("Content-Type"), path);
      JsonNode expected = JSON.readTree(route.body());
      JsonNode actual = JSON.readTree(node.body());
      if (route.statusCode() == 200) { // the node's answer is the route's next pids
        List<Integer> last = pids(route);
        assertEquals(last.size(), pids(node).size(), path);
        assertEquals(last.get(last.size() - 1) + 1, pids(node).get(0), path);
      } else {
        assertEquals(expected, actual, path);
      }
    }
  }

  /**
   * An alloc with an {@code Idempotency-Key}, on the node's fast path and on the route alone: a
   * retry answers the same pids (also through the other path) and allocates nothing, another
   * count is 422, a bad key 400 without quoting it; nothing changes.
   */
  @Test
  void alloc_withAnIdempotencyKey_answersTheSamePidsToARetry_onBothPaths() throws Exception {
    int id = createSpace("{\"pidMax\": 1000}");
    String pids = "/v1/spaces/" + id + "/pids";
    for (String base : List.of(open, routed)) {
      String key = java.util.UUID.randomUUID().toString();
      List<Integer> first = pids(keyed(base, pids + "?count=3", key));
      assertEquals(first, pids(keyed(base, pids + "?count=3", key)));
      assertEquals(first, pids(keyed(base == open ? routed : open, pids + "?count=3", key)));
      assertError(keyed(base, pids + "?count=2", key), 422, "idempotency-key-reused");
      assertError(keyed(base, pids, key), 422, "idempotency-key-reused");
      String single = "single." + key;
      List<Integer> one = pids(keyed(base, pids, single));
      assertEquals(one, pids(keyed(base, pids, single)));
      assertEquals(first.get(2) + 1, one.get(0));
    }
    assertEquals(8, json(send("GET", "/v1/spaces/" + id, null)).get("allocated").asInt());
    for (String bad : List.of("k".repeat(65), "a b", "a/b", "<script>")) {
      for (String base : List.of(open, routed)) {
        HttpResponse<String> refused = keyed(base, pids + "?count=2", bad);
        assertError(refused, 400, "bad-request");
        assertFalse(refused.body().contains(bad), refused.body());
      }
    }
    assertEquals(8, json(send("GET", "/v1/spaces/" + id, null)).get("allocated").asInt());
  }

  private static HttpResponse<String> keyed(String base, String path, String key) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
        .header(PidspaceRoutes.IDEMPOTENCY_KEY, key).POST(BodyPublishers.noBody()).build(), BodyHandlers.ofString());
  }

  /**
   * Requests pipelined on one connection, the hot alloc and routed ones mixed, are answered in the
   * order they were sent, though the alloc is answered on the server's event loop and the rest on
   * the dispatcher.
   */
  @Test
  void pipelinedRequests_areAnsweredInTheOrderSent() throws Exception {
    int id = createSpace("{\"pidMax\": 1000}");
    String alloc = "POST /v1/spaces/" + id + "/pids HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    String stats = "GET /v1/spaces/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n";
    String last = "GET /v1/spaces/" + id + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    String answers;
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", java.net.URI.create(open).getPort())) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write((alloc + stats + alloc + alloc + stats + last)
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      answers = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
    }
    List<String> bodies = new ArrayList<>();
    for (String answer : answers.split("HTTP/1\\.1 ")) {
      if (!answer.isEmpty()) {
        assertTrue(answer.startsWith("200"), answer);
        bodies.add(answer.substring(answer.indexOf("\r\n\r\n") + 4));
      }
    }
    assertEquals(6, bodies.size(), answers);
    int first = JSON.readTree(bodies.get(0)).get("pids").get(0).asInt();
    assertEquals(1, JSON.readTree(bodies.get(1)).get("allocated").asInt());
    assertEquals(first + 1, JSON.readTree(bodies.get(2)).get("pids").get(0).asInt());
    assertEquals(first + 2, JSON.readTree(bodies.get(3)).get("pids").get(0).asInt());
    assertEquals(3, JSON.readTree(bodies.get(4)).get("allocated").asInt());
    assertEquals(3, JSON.readTree(bodies.get(5)).get("allocated").asInt());
  }

  @Test
  void serverLimits_arePidspaceHttpServersAndLeaveAkkaHttpServerAlone() {
    ApiServer.Limits api = ApiServer.Limits.from(ConfigFactory.load(), HttpSettings.from(ConfigFactory.load()));
    assertEquals(1024, api.maxConnections());
    assertEquals(Duration.ofSeconds(18), api.requestTimeout());
    assertEquals(Duration.ofSeconds(25), api.idleTimeout());
    assertEquals(1024, api.maxUriLength());
    assertEquals(1024 * 1024, api.maxBody());
    // akka.http.server, which Akka Management's server reads, keeps Akka's defaults
    assertEquals("60 seconds", ServerSettings.create(ConfigFactory.load()).getTimeouts().idleTimeout().toString());
  }

  private static void assertUnauthorized(HttpResponse<String> response) throws Exception {
    assertError(response, 401, "unauthorized");
    assertTrue(response.headers().firstValue("WWW-Authenticate").orElseThrow().startsWith("Bearer"));
  }

  /** Everything the API can say about the spaces and the fixture's pids: equal before and after a refusal. */
  private static String state() throws Exception {
    return send("GET", "/v1/spaces", null).body()
        + send("GET", "/v1/pids/" + FIXTURE_PID, null).body()
        + send("GET", "/v1/pids/" + (FIXTURE_PID + 1), null).body();
  }

  private static void assertError(HttpResponse<String> response, int status, String code) throws Exception {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
    JsonNode error = JSON.readTree(response.body());
    assertEquals(code, error.get("error").asText(), response.body());
    assertFalse(error.get("message").asText().isBlank(), response.body());
  }

  private static int createSpace() throws Exception {
    return createSpace("{}");
  }

  private static int createSpace(String body) throws Exception {
    HttpResponse<String> created = send("POST", "/v1/spaces", body);
    assertEquals(201, created.statusCode(), created.body());
    return JSON.readTree(created.body()).get("id").asInt();
  }

  private static List<Integer> pids(HttpResponse<String> response) throws Exception {
    assertEquals(200, response.statusCode(), response.body());
    List<Integer> pids = new ArrayList<>();
    JSON.readTree(response.body()).get("pids").forEach(p -> pids.add(p.asInt()));
    return pids;
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private static HttpResponse<String> send(String method, String path, String body) throws Exception {
    return sendTo(open, method, path, body, null);
  }

  private static HttpResponse<String> sendTo(String base, String method, String path, String body, String authorization)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(20))
        .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return client.send(request.build(), BodyHandlers.ofString());
  }
}
