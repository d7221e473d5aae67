package io.pidspace.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile requests, generated from a fixed seed, against a real server (127.0.0.1, a free port)
 * over a real authority: deep nesting, huge numbers and strings, many fields, wrong types, bad
 * counts, bad UTF-8, truncated JSON, garbage paths and methods, oversized bodies, garbage sent
 * over a plain socket, half-sent requests. Every answer is a 4xx with a JSON error (or, for raw
 * garbage, a closed connection), no answer repeats the marker its request carried, the node stays
 * up and nothing changes. No timing is asserted but generous upper bounds on closing.
 */
class HttpFuzzTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long SEED = 20261130L;
  private static final int PROBES = 1200;
  private static final int RAW_PROBES = 200;
  private static final int SHIFT = 22;
  private static final int MAX_BATCH = 50;
  private static final int MAX_BODY = 1 << 20;
  /** A smaller request is sent whole (into the server's receive window) before an early answer closes it. */
  private static final int EARLY_CLOSE_SIZE = 32 * 1024;
  private static final int FIXTURE = 100;
  private static final int FIXTURE_PID = (FIXTURE << SHIFT) | 2;

  private static PidAuthority authority;
  private static int port;
  private static String base;
  private static final HttpClient client = newClient();

  private static HttpClient newClient() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  /** A request of the HTTP client: {@code marker} is somewhere in it and must be in no answer. */
  private record Probe(String kind, String marker, String method, String path, Map<String, String> headers,
      byte[] body, boolean chunked) {}

  @BeforeAll
  static void start() throws Exception {
    authority = PidAuthority.start(ConfigFactory.parseMap(Map.of(
        "pidspace.max-batch", MAX_BATCH,
        "pidspace.http.max-body", MAX_BODY,
        "pidspace.http.body-timeout", "1s",
        // short enough for the half-sent cases, long enough for a busy machine
        "pidspace.http.server.request-timeout", "8s",
        "pidspace.http.server.idle-timeout", "10s")));
    HttpSettings settings = HttpSettings.from(authority.system().settings().config()).withPort(0);
    port = PidspaceHttp.bind(authority.system(), authority, settings).toCompletableFuture().get().getPort();
    base = "http://127.0.0.1:" + port;
    assertEquals(201, send(simple("POST", "/v1/spaces", "{\"id\": " + FIXTURE + ", \"pidMax\": 1000}")).statusCode());
    assertEquals(200, send(simple("POST", "/v1/spaces/" + FIXTURE + "/pids", "")).statusCode());
  }

  @AfterAll
  static void stop() {
    authority.close();
  }

  @Test
  void generatedHostileRequests_answer4xxInJsonWithoutEchoAndChangeNothing() throws Exception {
    String before = state();
    Random random = new Random(SEED);
    Map<String, Integer> kinds = new LinkedHashMap<>();
    int closedEarly = 0;
    for (int i = 0; i < PROBES; i++) {
      Probe probe = probe(random, "Zq" + i + "xMk");
      kinds.merge(probe.kind(), 1, Integer::sum);
      String what = "probe " + i + " (" + probe.kind() + ", " + probe.method() + " " + shorten(probe.path()) + ")";
      HttpResponse<String> answer;
      try {
        answer = send(probe, client);
      } catch (IOException closed) {
        // A large request refused by its head is answered and closed while the client still sends
        // it; the client then reports a broken pipe instead of the answer.
        if (size(probe) >= EARLY_CLOSE_SIZE) {
          closedEarly++;
          continue;
        }
        // The client may have put such a connection back in its pool before it saw the server
        // close it, and sent the next probe on it (3 of 7 busy CI runs lost a small probe so). On a
        // connection of its own, a small probe must be answered: nothing else may close.
        try {
          answer = send(probe, newClient());
        } catch (IOException again) {
          throw new AssertionError(what + " was closed, on a connection of its own too: " + again, closed);
        }
      }
      assertJsonError(answer.statusCode(), answer.headers().firstValue("Content-Type").orElse(""), answer.body(), what);
      assertFalse(answer.body().contains(probe.marker()), what + " echoed its marker: " + answer.body());
    }
    assertEquals(before, state(), "the hostile requests changed the state");
    assertStillServes();
    assertTrue(kinds.size() >= 12, "every kind of probe ran: " + kinds);
    assertTrue(closedEarly < PROBES / 4, closedEarly + " probes were closed before their answer was read");
  }

  @Test
  void rawGarbage_answers4xxInJsonOrClosesTheConnection() throws Exception {
    String before = state();
    Random random = new Random(SEED + 1);
    for (int i = 0; i < RAW_PROBES; i++) {
      String marker = "Zr" + i + "xMk";
      byte[] request = rawProbe(random, marker);
      String answer = raw(request, null);
      String what = "raw probe " + i + ": " + shorten(new String(request, StandardCharsets.ISO_8859_1));
      if (!answer.isEmpty()) {
        assertRawJsonError(answer, what);
      }
      assertFalse(answer.contains(marker), what + " echoed its marker: " + answer);
    }
    assertEquals(before, state(), "the raw garbage changed the state");
    assertStillServes();
  }

  @Test
  void deepNesting_isRefusedWithoutRecursing() throws Exception {
    // the tester's body: 50,000 levels of arrays, about 100 KB; it used to overflow the stack
    String body = "{\"id\": " + "[".repeat(50_000) + "]".repeat(50_000) + "}";
    assertError(send(simple("POST", "/v1/spaces", body)), 400, "bad-request", "id must be a whole number");
    assertError(send(simple("POST", "/v1/spaces", "[".repeat(50_000))), 400, "bad-request", "the body must be a JSON object");
    assertStillServes();
  }

  @Test
  void hugeNumber_isRefusedWithoutConverting() throws Exception {
    String digits = "9".repeat(900_000);
    assertError(send(simple("POST", "/v1/spaces", "{\"id\": " + digits + "}")), 400, "out-of-range",
        "id is too large for a 64-bit whole number");
    assertError(send(simple("POST", "/v1/pids:free", "{\"pids\": [" + FIXTURE_PID + ", -" + digits + "]}")), 400,
        "out-of-range", "pids[1] is too large for a 64-bit whole number");
    assertError(send(simple("POST", "/v1/spaces", "{\"pidMax\": 1." + digits + "}")), 400, "bad-request",
        "pidMax must be a whole number");
    assertStillServes();
  }

  @Test
  void messages_nameTheRuleNotTheValue() throws Exception {
    assertError(send(simple("POST", "/v1/spaces", "{\"id\": \"5\"}")), 400, "bad-request", "id must be a whole number");
    assertError(send(simple("POST", "/v1/spaces", "{\"pid_max\": 5000}")), 400, "bad-request",
        "unknown field; this request takes [id, pidMax]");
    assertError(send(simple("GET", "/v1/spaces/five", null)), 400, "bad-request", "space id must be a whole number");
    assertError(send(simple("POST", "/v1/spaces", "{\"id\": 777}")), 400, "out-of-range", "id must be within 0..511");
    assertError(send(simple("POST", "/v1/spaces", "{\"pidMax\": 5}")), 400, "out-of-range", "pidMax must be within 301..4194304");
    assertError(send(simple("POST", "/v1/spaces/" + FIXTURE + "/pids?count=77777")), 413, "too-many-pids",
        "a request may name at most " + MAX_BATCH + " pids (pidspace.max-batch)");
    assertError(send(simple("DELETE", "/v1/pids/-7", null)), 400, "out-of-range", "pid must be a global pid within 0..2147483647");
  }

  @Test
  void unknownMethod_answers405InJson() throws Exception {
    HttpResponse<String> brew = send(simple("BREW", "/v1/spaces", null));
    assertError(brew, 405, "method-not-allowed", "unknown HTTP method; this API takes GET, POST, PATCH and DELETE");
    assertEquals("GET, POST, DELETE", brew.headers().firstValue("Allow").orElseThrow());
  }

  @Test
  void oversizedBody_answers413InJson() throws Exception {
    // over a socket: the server answers before the body is all sent, which the HTTP client may not read
    String body = "{\"pids\": [" + FIXTURE_PID + "]}" + " ".repeat(MAX_BODY);
    String head = "POST /v1/pids:free HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    String fixed = raw((head + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII), null);
    String chunks = IntStream.range(0, body.length() / 65_536 + 1)
        .mapToObj(i -> body.substring(i * 65_536, Math.min(body.length(), (i + 1) * 65_536)))
        .map(chunk -> Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n")
        .collect(Collectors.joining());
    String chunked = raw((head + "Transfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n").getBytes(StandardCharsets.US_ASCII), null);
    for (String answer : List.of(fixed, chunked)) {
      assertTrue(answer.startsWith("HTTP/1.1 413"), shorten(answer));
      assertRawJsonError(answer, "an oversized body");
      JsonNode error = JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
      assertEquals("body-too-large", error.get("error").asText());
      assertEquals("the body is larger than pidspace.http.max-body, " + MAX_BODY + " bytes", error.get("message").asText());
    }
  }

  /** A body or request line sent in half is answered or closed well within idle-timeout's Akka default of 60 s. */
  @Test
  void halfSentRequests_areClosedWithinSeconds() throws Exception {
    String head = "POST /v1/spaces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"id\": ";
    String answer = raw(head.getBytes(StandardCharsets.US_ASCII), Duration.ofSeconds(30));
    assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
    assertRawJsonError(answer, "a half-sent body");
    assertEquals("request-timeout", JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4)).get("error").asText());
    // Nothing to answer: idle-timeout (10 s here) closes the connection.
    assertEquals("", raw("GET /v1/spa".getBytes(StandardCharsets.US_ASCII), Duration.ofSeconds(60)));
    assertEquals("", raw("GET /v1/spaces HTTP/1.1\r\nHost: 1".getBytes(StandardCharsets.US_ASCII), Duration.ofSeconds(60)));
    assertStillServes();
  }

  /**
   * Thousands of requests pipelined in one write: the server answers them in order up to a bound
   * on what may wait, then refuses in JSON and closes, instead of queueing without end.
   */
  @Test
  void endlessPipelining_isBoundedAndRefused() throws Exception {
    String one = "GET /v1/spaces/" + FIXTURE + " HTTP/1.1\r\nHost: x\r\n\r\n";
    String answers = raw(one.repeat(5_000).getBytes(StandardCharsets.US_ASCII), Duration.ofSeconds(60));
    String[] parts = answers.split("(?=HTTP/1\\.1 )");
    assertTrue(parts.length > 16 && parts.length < 5_000, parts.length + " answers");
    for (int i = 0; i < parts.length - 1; i++) {
      assertTrue(parts[i].startsWith("HTTP/1.1 200"), "answer " + i + ": " + shorten(parts[i]));
    }
    String last = parts[parts.length - 1];
    assertRawJsonError(last, "the answer past the bound");
    assertEquals("bad-request", JSON.readTree(last.substring(last.indexOf("\r\n\r\n") + 4)).get("error").asText());
    assertStillServes();
  }

  // --- the generators: every probe is refused whatever the dice say ------------------------

  private static Probe probe(Random r, String m) {
    Probe probe = switch (r.nextInt(12)) {
      case 0 -> deepNesting(r, m);
      case 1 -> hugeNumber(r, m);
      case 2 -> hugeString(r, m);
      case 3 -> manyFields(r, m);
      case 4 -> wrongType(r, m);
      case 5 -> badCount(r, m);
      case 6 -> badUtf8(r, m);
      case 7 -> truncated(r, m);
      case 8 -> garbagePath(r, m);
      case 9 -> unknownMethod(r, m);
      case 10 -> oversized(r, m);
      default -> badPathNumber(r, m);
    };
    // the marker rides in a header and the query too, and sometimes hostile headers come along
    Map<String, String> headers = new LinkedHashMap<>(probe.headers());
    headers.put("X-Probe", m);
    if (r.nextInt(8) == 0) {
      int count = 1 + r.nextInt(80);
      for (int i = 0; i < count; i++) {
        headers.put("X-" + m + "-" + i, m.repeat(1 + r.nextInt(r.nextInt(10) == 0 ? 1000 : 10)));
      }
    }
    if (r.nextInt(8) == 0) {
      headers.put("Content-Type", r.nextBoolean() ? "application/" + m : "text/plain; charset=" + m);
    }
    String path = probe.path() + (probe.path().contains("?") ? "&" : "?") + "probe=" + m;
    return new Probe(probe.kind(), m, probe.method(), path, headers, probe.body(), probe.chunked());
  }

  private static Probe deepNesting(Random r, String m) {
    int depth = r.nextInt(10) == 0 ? 20_000 + r.nextInt(40_000) : 1 + r.nextInt(300);
    String inner = "\"" + m + "\"";
    String body = switch (r.nextInt(5)) {
      case 0 -> "{\"id\": " + "[".repeat(depth) + inner + "]".repeat(depth) + "}";
      case 1 -> "[".repeat(depth) + inner + "]".repeat(depth);
      case 2 -> "{\"pids\": [" + "[".repeat(depth) + inner + "]".repeat(depth) + "]}";
      case 3 -> "{\"pidMax\": " + "{\"a\": ".repeat(depth) + inner + "}".repeat(depth) + "}";
      default -> "{\"" + m + "\": " + "[".repeat(depth);
    };
    return body("deep-nesting", r, body);
  }

  private static Probe hugeNumber(Random r, String m) {
    String digits = "1" + digits(r, r.nextInt(10) == 0 ? 100_000 + r.nextInt(800_000) : 20 + r.nextInt(2000));
    String body = switch (r.nextInt(8)) {
      case 0 -> "{\"id\": " + digits + "}";
      case 1 -> "{\"pidMax\": -" + digits + "}";
      case 2 -> "{\"pids\": [" + FIXTURE_PID + ", " + digits + "]}";
      case 3 -> "{\"id\": 1e" + digits + "}";
      case 4 -> "{\"pidMax\": 0." + digits + "}";
      case 5 -> "{\"id\": " + (512 + r.nextInt(Integer.MAX_VALUE - 512)) + "}";
      case 6 -> "{\"pidMax\": " + r.nextInt(301) + "}";
      default -> "{\"pids\": [" + FIXTURE_PID + ", " + (-1 - r.nextInt(Integer.MAX_VALUE)) + "]}";
    };
    return body("huge-number", r, body);
  }

  private static Probe hugeString(Random r, String m) {
    String text = m + text(r, r.nextInt(10) == 0 ? 100_000 + r.nextInt(400_000) : r.nextInt(3000));
    String body = switch (r.nextInt(5)) {
      case 0 -> "{\"id\": \"" + text + "\"}";
      case 1 -> "{\"" + text + "\": 1}";
      case 2 -> "{\"pids\": [\"" + text + "\"]}";
      case 3 -> "{\"id\": \"" + text; // never ends
      default -> "{\"pidMax\": \"" + m + "\\q\\u00zz" + text + "\"}";
    };
    return body("huge-string", r, body);
  }

  private static Probe manyFields(Random r, String m) {
    int count = 2 + (r.nextInt(10) == 0 ? r.nextInt(20_000) : r.nextInt(30));
    String fields = IntStream.range(0, count).mapToObj(i -> switch (r.nextInt(4)) {
      case 0 -> "\"id\": " + (1 + r.nextInt(500));
      case 1 -> "\"pidMax\": 1000";
      case 2 -> "\"pids\": [" + FIXTURE_PID + "]";
      default -> "\"f" + i + m + "\": " + i;
    }).collect(Collectors.joining(", "));
    // a duplicate, an unknown field or at the latest the marker's field is refused
    return body("many-fields", r, "{" + fields + ", \"" + m + "\": 0}");
  }

  private static Probe wrongType(Random r, String m) {
    String[] values = {"true", "false", "\"" + m + "\"", "\"5\"", "{}", "[]", "[5]", "5.0", "1e2", "-0.5", "{\"id\": 5}",
        "\"" + FIXTURE_PID + "\"", "[" + FIXTURE_PID + ", \"" + m + "\"]", "[null]", "[[" + FIXTURE_PID + "]]", "NaN",
        "Infinity", "'5'", "05", "+5", "0x10", "[" + FIXTURE_PID + ",]"};
    String value = values[r.nextInt(values.length)];
    String body = switch (r.nextInt(3)) {
      case 0 -> "{\"id\": " + value + "}";
      case 1 -> "{\"pidMax\": " + value + "}";
      default -> "{\"pids\": [" + FIXTURE_PID + ", " + value + "]}"; // a pid beside it is not freed either
    };
    return body("wrong-type", r, body);
  }

  private static Probe badCount(Random r, String m) {
    String[] counts = {"-" + (1 + r.nextInt(1000)), "0", "-0", "1" + digits(r, 20 + r.nextInt(500)),
        String.valueOf(MAX_BATCH + 1 + r.nextInt(1_000_000)), m, "1.0", "1e1", "0x1", "%2B1", "1%20", "", "%00",
        String.valueOf((long) Integer.MAX_VALUE + 1 + r.nextInt(1000)), "-" + digits(r, 30), "one"};
    String count = counts[r.nextInt(counts.length)];
    String space = r.nextBoolean() ? String.valueOf(FIXTURE) : "0";
    return new Probe("bad-count", m, "POST", "/v1/spaces/" + space + "/pids?count=" + count, Map.of(), new byte[0], false);
  }

  private static Probe badUtf8(Random r, String m) {
    byte[][] bad = {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xE2, (byte) 0x82}, {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xFE, (byte) 0xFF}};
    byte[] valid = (r.nextBoolean() ? "{\"id\": 7, \"pidMax\": 1000}" : "{\"pids\": [" + FIXTURE_PID + "]}")
        .getBytes(StandardCharsets.US_ASCII);
    byte[] insert = bad[r.nextInt(bad.length)];
    int at = 1 + r.nextInt(valid.length - 1);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(valid, 0, at);
    body.writeBytes(insert);
    body.write(valid, at, valid.length - at);
    String path = valid[2] == 'i' ? "/v1/spaces" : "/v1/pids:free";
    return new Probe("bad-utf8", m, "POST", path, Map.of(), body.toByteArray(), r.nextBoolean());
  }

  private static Probe truncated(Random r, String m) {
    String[] whole = {"{\"id\": 7, \"pidMax\": 1000}", "{\"pids\": [" + FIXTURE_PID + ", " + (FIXTURE_PID + 1) + "]}", "{}",
        "{\"" + m + "\": 1}"};
    String body = whole[r.nextInt(whole.length)];
    // every non-empty proper prefix of one JSON object is incomplete
    return new Probe("truncated", m, "POST", body.contains("pids") ? "/v1/pids:free" : "/v1/spaces", Map.of(),
        body.substring(0, 1 + r.nextInt(body.length() - 1)).getBytes(StandardCharsets.UTF_8), r.nextBoolean());
  }

  private static Probe garbagePath(Random r, String m) {
    String[] pool = {"v1", "spaces", "pids", "pids:free", "..", "%2e%2e", "%00", "%ff", "~", "%20", "0", "-1", FIXTURE + "",
        "%2F", "a;b", "*", "%E2%82%AC", "%C0%AF", "x".repeat(r.nextInt(1500))};
    List<String> segments = new ArrayList<>();
    for (int i = r.nextInt(5); i > 0; i--) {
      segments.add(pool[r.nextInt(pool.length)]);
    }
    segments.add(r.nextInt(segments.size() + 1), m); // the marker makes every path one that no route takes
    String[] methods = {"GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"};
    return new Probe("garbage-path", m, methods[r.nextInt(methods.length)], "/" + String.join("/", segments), Map.of(),
        new byte[0], false);
  }

  private static Probe unknownMethod(Random r, String m) {
    String[] methods = {"BREW", "PROPFIND", "XYZZY", "M" + m.toUpperCase(), "GETT", "DELETEALL", "A".repeat(1 + r.nextInt(40)),
        "PUT", "PATCH", "OPTIONS", "TRACE"};
    String[] paths = {"/v1/spaces", "/v1/spaces/" + FIXTURE, "/v1/pids/" + FIXTURE_PID, "/v1/pids:free",
        "/v1/spaces/" + FIXTURE + "/pids"};
    return new Probe("unknown-method", m, methods[r.nextInt(methods.length)], paths[r.nextInt(paths.length)], Map.of(),
        ("{\"id\": 7, \"" + m + "\": 1}").getBytes(StandardCharsets.UTF_8), false);
  }

  private static Probe oversized(Random r, String m) {
    int size = MAX_BODY + 1 + r.nextInt(200_000);
    StringBuilder body = new StringBuilder("{\"pids\": [").append(FIXTURE_PID).append("], \"").append(m).append("\": \"");
    while (body.length() < size) {
      body.append(m);
    }
    return new Probe("oversized", m, "POST", r.nextBoolean() ? "/v1/pids:free" : "/v1/spaces", Map.of(),
        body.append("\"}").toString().getBytes(StandardCharsets.UTF_8), r.nextBoolean());
  }

  private static Probe badPathNumber(Random r, String m) {
    String[] garbage = {m, "-1", "-" + (1 + r.nextInt(1000)), "1" + digits(r, 20 + r.nextInt(1000)), "1e3", "0x10", "%2B5",
        "5.0", "%00", "%20" + FIXTURE, ""};
    String number = garbage[r.nextInt(garbage.length)];
    // numbers that read well but name no space or no global pid
    String space = r.nextBoolean() ? number : String.valueOf(512 + r.nextInt(100_000));
    String pid = r.nextBoolean() ? number : String.valueOf((long) Integer.MAX_VALUE + 1 + r.nextInt(100_000));
    return switch (r.nextInt(5)) {
      case 0 -> new Probe("bad-path-number", m, "DELETE", "/v1/spaces/" + space, Map.of(), new byte[0], false);
      case 1 -> new Probe("bad-path-number", m, "GET", "/v1/spaces/" + space, Map.of(), new byte[0], false);
      case 2 -> new Probe("bad-path-number", m, "DELETE", "/v1/pids/" + pid, Map.of(), new byte[0], false);
      case 3 -> new Probe("bad-path-number", m, "GET", "/v1/pids/" + pid, Map.of(), new byte[0], false);
      default -> new Probe("bad-path-number", m, "POST", "/v1/spaces/" + space + "/pids", Map.of(), new byte[0], false);
    };
  }

  private static Probe body(String kind, Random r, String body) {
    boolean spaces = !body.contains("pids");
    return new Probe(kind, "", "POST", spaces ? "/v1/spaces" : "/v1/pids:free", Map.of(),
        body.getBytes(StandardCharsets.UTF_8), r.nextInt(4) == 0);
  }

  /** Bytes sent over a plain socket, each with {@code Connection: close} where it has headers at all. */
  private static byte[] rawProbe(Random r, String m) {
    String close = "Connection: close\r\n";
    String text = switch (r.nextInt(16)) {
      case 0 -> {
        byte[] junk = new byte[1 + r.nextInt(2000)];
        r.nextBytes(junk);
        yield new String(junk, StandardCharsets.ISO_8859_1) + m + "\r\n\r\n";
      }
      case 1 -> m + " " + text(r, r.nextInt(200)) + " HTTP/1.1\r\n" + close + "\r\n";
      case 2 -> "GET /v1/spaces HTTP/" + new String[] {"9.9", "1.x", "2.0", "0.9", "", "11"}[r.nextInt(6)]
          + "\r\nHost: " + m + "\r\n" + close + "\r\n";
      case 3 -> "GET /v1/%zz" + m + " HTTP/1.1\r\nHost: x\r\n" + close + "\r\n";
      case 4 -> "GET /v1/spaces/\u00ff\u00fe" + m + " HTTP/1.1\r\nHost: x\r\n" + close + "\r\n";
      case 5 -> "GET /v1/spaces HTTP/1.1\r\nHost: x\r\n" + m + "\r\n" + close + "\r\n";
      case 6 -> "POST /v1/spaces HTTP/1.1\r\nHost: x\r\n" + close + "Content-Length: "
          + new String[] {"-5", "1" + digits(r, 30), "abc", "5, 6", "0x10"}[r.nextInt(5)] + "\r\n\r\n{\"" + m + "\": 1}";
      case 7 -> "POST /v1/spaces HTTP/1.1\r\nHost: x\r\n" + close + "Content-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "a\r\n{\"" + m + "\r\n0\r\n\r\n";
      case 8 -> "POST /v1/spaces HTTP/1.1\r\nHost: x\r\n" + close + "Transfer-Encoding: chunked\r\n\r\n"
          + new String[] {"zz", "ffffffffffffffffff", "-1", "5;" + "x".repeat(300)}[r.nextInt(4)] + "\r\n{\"" + m + "\"\r\n0\r\n\r\n";
      case 9 -> "GET /v1/spaces/" + m + "x".repeat(1000 + r.nextInt(5000)) + " HTTP/1.1\r\nHost: x\r\n" + close + "\r\n";
      case 10 -> "GET /v1/spaces HTTP/1.1\r\nHost: x\r\n" + close + "X-" + m + "y".repeat(100 + r.nextInt(1000)) + ": 1\r\n\r\n";
      case 11 -> "GET /v1/spaces HTTP/1.1\r\nHost: x\r\n" + close
          + IntStream.range(0, 33 + r.nextInt(100)).mapToObj(i -> "X-H" + i + ": " + m + "\r\n").collect(Collectors.joining())
          + "\r\n";
      case 12 -> "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003" + m + "\r\n\r\n"; // a TLS hello
      case 13 -> "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + m;
      case 14 -> "GET /v1/sp\u0000aces" + m + " HTTP/1.1\r\nHost: x\r\n" + close + "\r\n";
      default -> {
        String body = "{\"" + m + "\": 1}";
        yield "POST /v1/spaces HTTP/1.1\r\nHost: x\r\n" + close + "Expect: " + m + "\r\nContent-Length: " + body.length()
            + "\r\n\r\n" + body;
      }
    };
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String digits(Random r, int count) {
    char[] digits = new char[count];
    for (int i = 0; i < count; i++) {
      digits[i] = (char) ('0' + r.nextInt(10));
    }
    return new String(digits);
  }

  /** Letters, digits and a few characters that need no escape in a JSON string. */
  private static String text(Random r, int count) {
    String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:,;!()[]{}";
    char[] text = new char[count];
    for (int i = 0; i < count; i++) {
      text[i] = alphabet.charAt(r.nextInt(alphabet.length()));
    }
    return new String(text);
  }

  // --- sending and checking ------------------------------------------------------------------

  private static Probe simple(String method, String path, String body) {
    return new Probe("simple", "", method, path, Map.of(),
        body == null ? null : body.getBytes(StandardCharsets.UTF_8), false);
  }

  private static Probe simple(String method, String path) {
    return simple(method, path, "");
  }

  private static HttpResponse<String> send(Probe probe) throws Exception {
    return send(probe, client);
  }

  private static HttpResponse<String> send(Probe probe, HttpClient client) throws Exception {
    HttpRequest.BodyPublisher body = probe.body() == null ? BodyPublishers.noBody()
        : probe.chunked() ? BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(probe.body()))
        : BodyPublishers.ofByteArray(probe.body());
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + probe.path()))
        .timeout(Duration.ofSeconds(30))
        .method(probe.method(), body);
    probe.headers().forEach(request::header);
    return client.send(request.build(), BodyHandlers.ofString());
  }

  /**
   * Sends {@code request} over a socket of its own and reads until the server closes it, within
   * {@code within} (30 s when null); a reset counts as closed. The request is written on a thread
   * of its own, so an answer that comes before all of it is sent is still read.
   */
  private static String raw(byte[] request, Duration within) throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      socket.setSoTimeout((int) (within == null ? Duration.ofSeconds(30) : within).toMillis());
      OutputStream out = socket.getOutputStream();
      Thread writer = new Thread(() -> {
        try {
          out.write(request);
          out.flush();
        } catch (IOException closedEarly) {
          // the server may refuse before it has read everything
        }
      });
      writer.start();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[8192];
      try {
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          answer.write(buffer, 0, n);
        }
      } catch (java.net.SocketTimeoutException held) {
        fail("the server held the connection past " + within + " after: " + shorten(new String(request, StandardCharsets.ISO_8859_1)));
      } catch (SocketException reset) {
        // closed
      }
      socket.close(); // ends a write still blocked
      writer.join();
      return answer.toString(StandardCharsets.ISO_8859_1);
    }
  }

  /** About the bytes {@code probe} sends: its body and headers. */
  private static int size(Probe probe) {
    return probe.body().length + probe.headers().entrySet().stream()
        .mapToInt(header -> header.getKey().length() + header.getValue().length() + 4).sum();
  }

  private static void assertJsonError(int status, String contentType, String body, String what) throws IOException {
    assertTrue(status >= 400 && status < 500, what + " answered " + status + ": " + shorten(body));
    assertEquals("application/json", contentType, what + ": " + shorten(body));
    JsonNode error = JSON.readTree(body);
    assertFalse(error.path("error").asText().isBlank(), what + ": " + body);
    assertFalse(error.path("message").asText().isBlank(), what + ": " + body);
  }

  private static void assertRawJsonError(String answer, String what) throws IOException {
    int end = answer.indexOf("\r\n\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 ") && end > 0, what + " answered: " + shorten(answer));
    int status = Integer.parseInt(answer.substring(9, 12));
    String head = answer.substring(0, end).toLowerCase();
    String contentType = head.contains("content-type: application/json") ? "application/json" : head;
    assertJsonError(status, contentType, answer.substring(end + 4), what);
  }

  private static void assertError(HttpResponse<String> answer, int status, String code, String message) throws IOException {
    assertEquals(status, answer.statusCode(), answer.body());
    assertEquals("application/json", answer.headers().firstValue("Content-Type").orElseThrow());
    JsonNode error = JSON.readTree(answer.body());
    assertEquals(code, error.get("error").asText(), answer.body());
    assertEquals(message, error.get("message").asText());
  }

  /** The node still works: a pid of the fixture is handed out and freed again. */
  private static void assertStillServes() throws Exception {
    HttpResponse<String> alloc = send(simple("POST", "/v1/spaces/" + FIXTURE + "/pids"));
    assertEquals(200, alloc.statusCode(), alloc.body());
    int pid = JSON.readTree(alloc.body()).get("pids").get(0).asInt();
    assertEquals(204, send(simple("DELETE", "/v1/pids/" + pid, null)).statusCode());
  }

  /** The list of spaces and each space's stats. */
  private static String state() throws Exception {
    HttpResponse<String> list = send(simple("GET", "/v1/spaces", null));
    assertEquals(200, list.statusCode(), list.body());
    StringBuilder state = new StringBuilder(list.body());
    for (JsonNode space : JSON.readTree(list.body()).get("spaces")) {
      HttpResponse<String> stats = send(simple("GET", "/v1/spaces/" + space.get("id").asInt(), null));
      assertEquals(200, stats.statusCode(), stats.body());
      state.append('\n').append(stats.body());
    }
    return state.append('\n').append(send(simple("GET", "/v1/pids/" + FIXTURE_PID, null)).body()).toString();
  }

  private static String shorten(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "… (" + text.length() + " characters)";
  }
}
