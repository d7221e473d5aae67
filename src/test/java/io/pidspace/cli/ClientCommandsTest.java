package io.pidspace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import io.pidspace.http.HttpSettings;
import io.pidspace.http.PidspaceHttp;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The client commands against a real node API (127.0.0.1, a free port) over an in-memory authority. */
class ClientCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "t0ken";

  private static PidAuthority authority;
  private static String url;
  private static String guardedUrl;

  @BeforeAll
  static void start() throws Exception {
    authority = PidAuthority.start(ConfigFactory.empty());
    HttpSettings settings = HttpSettings.from(authority.system().settings().config()).withPort(0);
    url = "http://127.0.0.1:" + PidspaceHttp.bind(authority.system(), authority, settings)
        .toCompletableFuture().get().getPort();
    HttpSettings withToken = new HttpSettings(settings.interfaceName(), 0, TOKEN, settings.maxBody(), settings.terminationDeadline());
    guardedUrl = "http://127.0.0.1:" + PidspaceHttp.bind(authority.system(), authority, withToken)
        .toCompletableFuture().get().getPort();
  }

  @AfterAll
  static void stop() {
    authority.close();
  }

  /** The exit status and what one command printed. */
  record Run(int status, String out, String err) {
    List<String> lines() {
      return out.lines().toList();
    }
  }

  private static Run pidspace(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
    int status = cli.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  /** {@code args} with {@code --url} of the test node added at the end. */
  private static Run client(String... args) {
    return pidspace(Stream.concat(Arrays.stream(args), Stream.of("--url", url)).toArray(String[]::new));
  }

  private static int createSpace() {
    Run created = client("spaces", "create");
    assertEquals(0, created.status(), created.err());
    return Integer.parseInt(created.out().replaceAll("created space (\\d+).*\\s*", "$1"));
  }

  @Test
  void spacesCreate_printsTheNewSpaceAndListShowsIt() {
    Run created = client("spaces", "create", "--id", "42", "--pid-max", "1000");
    assertEquals(0, created.status(), created.err());
    assertEquals("created space 42 (pid_max 1000)", created.out().strip());

    Run list = client("spaces");
    assertEquals(0, list.status(), list.err());
    assertEquals("SPACE   PID_MAX ALLOCATED  LAST_PID PAGES", list.lines().get(0));
    assertTrue(list.lines().contains("   42      1000         0         1     0"), list.out());

    Run show = client("spaces", "show", "42");
    assertEquals(List.of("SPACE   PID_MAX ALLOCATED  LAST_PID PAGES", "   42      1000         0         1     0"), show.lines());
  }

  @Test
  void spacesCreate_refusedPrintsTheServersMessageAndExits1() {
    assertEquals(0, client("spaces", "create", "--id", "43").status());
    Run again = client("spaces", "create", "--id", "43");
    assertEquals(1, again.status());
    assertEquals("", again.out());
    assertEquals("pidspace spaces create: space 43 already exists (space-id-in-use)", again.err().strip());

    Run badPidMax = client("spaces", "create", "--pid-max", "7");
    assertEquals(1, badPidMax.status());
    assertTrue(badPidMax.err().contains("(out-of-range)"), badPidMax.err());
  }

  @Test
  void exactVpidsHoldsPidMaxExportImport_throughTheClientCommands() throws Exception {
    Run created = client("spaces", "create", "--id", "60", "--pid-max", "1000");
    assertEquals(0, created.status(), created.err());
    int base = 60 << 22;
    Run at = client("alloc", "60", "--vpid", "700", "--vpid", "5");
    assertEquals(List.of(String.valueOf(base | 700), String.valueOf(base | 5)), at.lines());
    Run taken = client("alloc", "60", "--vpid", "5,6");
    assertEquals(1, taken.status());
    assertEquals("pidspace alloc: vpid 5 of space 60 is in use (pid-in-use)", taken.err().strip());

    Run held = client("holds", "add", "60", "--vpid", "2,3", "--ttl", "1h");
    assertEquals(0, held.status(), held.err());
    String hold = held.out().strip();
    assertEquals(List.of(String.valueOf(base | 4)), client("alloc", "60").lines());
    assertEquals(List.of(String.valueOf(base | 2)), client("alloc", "60", "--vpid", "2", "--hold", hold).lines());
    assertEquals(2, client("alloc", "60", "--hold", hold).status());
    assertEquals("released hold " + hold, client("holds", "release", "60", hold).out().strip());

    Run lowered = client("spaces", "set-pid-max", "60", "600");
    assertEquals(1, lowered.status());
    assertTrue(lowered.err().contains("vpid 700 is allocated (pid-in-use)"), lowered.err());
    Run raised = client("spaces", "set-pid-max", "60", "5000");
    assertEquals(List.of("SPACE   PID_MAX ALLOCATED  LAST_PID PAGES", "   60      5000         4         4     1"), raised.lines());

    Run delayed = client("spaces", "set-reuse-delay", "60", "30s");
    assertEquals("space 60: freed vpids wait 30s before next-fit hands them out again", delayed.out().strip());
    Run exported = client("spaces", "export", "60");
    assertEquals(0, exported.status(), exported.err());
    JsonNode document = JSON.readTree(exported.out());
    assertEquals(5000, document.get("pidMax").asInt());
    java.nio.file.Path file = java.nio.file.Files.createTempFile("space", ".json");
    java.nio.file.Files.writeString(file, exported.out());
    Run imported = client("spaces", "import", file.toString(), "--id", "61");
    assertEquals("imported space 61 (pid_max 5000, 4 allocated)", imported.out().strip());
    assertEquals(List.of(String.valueOf(base | 6)), client("alloc", "60").lines());
    assertEquals(List.of(String.valueOf((61 << 22) | 6)), client("alloc", "61").lines());
    Run again = client("spaces", "import", file.toString(), "--id", "61");
    assertEquals("pidspace spaces import: space 61 already exists (space-id-in-use)", again.err().strip());
    java.nio.file.Files.writeString(file, "{\"format\": 1}");
    assertTrue(client("spaces", "import", file.toString()).err().contains("(bad-request)"));
    java.nio.file.Files.delete(file);
  }

  @Test
  void reconcile_printsLeakedUnknownAndFreed() throws Exception {
    assertEquals(0, client("spaces", "create", "--id", "62", "--pid-max", "1000").status());
    client("alloc", "62", "--count", "3"); // vpids 2, 3, 4
    java.nio.file.Path alive = java.nio.file.Files.createTempFile("alive", ".txt");
    java.nio.file.Files.writeString(alive, "2\n3\n77\n");
    Run report = client("reconcile", "62", "--alive-file", alive.toString());
    assertEquals(List.of("leaked:  4", "unknown: 77", "freed:   -"), report.lines());
    for (int i = 0; i < 2; i++) {
      client("reconcile", "62", "--alive-file", alive.toString());
    }
    assertEquals("freed:   4", client("reconcile", "62", "--alive-file", alive.toString(), "--apply").lines().get(2));
    java.nio.file.Files.writeString(alive, "2 x");
    assertEquals(2, client("reconcile", "62", "--alive-file", alive.toString()).status());
    java.nio.file.Files.delete(alive);
  }

  @Test
  void spacesDestroy_removesTheSpace() {
    int id = createSpace();
    Run destroyed = client("spaces", "destroy", String.valueOf(id));
    assertEquals(0, destroyed.status(), destroyed.err());
    assertEquals("destroyed space " + id, destroyed.out().strip());
    Run gone = client("spaces", "show", String.valueOf(id));
    assertEquals(1, gone.status());
    assertEquals("pidspace spaces show: space " + id + " does not exist (unknown-space)", gone.err().strip());
    assertEquals(1, client("spaces", "destroy", "0").status());
  }

  @Test
  void alloc_printsOneGlobalPidALine() {
    int id = createSpace();
    int first = (id << 22) | 2;
    assertEquals(List.of(String.valueOf(first)), client("alloc", String.valueOf(id)).lines());
    Run three = client("alloc", String.valueOf(id), "--count", "3");
    assertEquals(0, three.status(), three.err());
    assertEquals(List.of(String.valueOf(first + 1), String.valueOf(first + 2), String.valueOf(first + 3)), three.lines());

    Run unknown = client("alloc", "400");
    assertEquals(1, unknown.status());
    assertEquals("pidspace alloc: space 400 does not exist (unknown-space)", unknown.err().strip());
    assertEquals(1, client("alloc", String.valueOf(id), "--count", "0").status());
  }

  @Test
  void alloc_withAKey_answersTheSamePidsAgain_andAnotherCountIsRefused() {
    int id = createSpace();
    Run first = client("alloc", String.valueOf(id), "--count", "2", "--key", "job-17.attempt:1");
    assertEquals(0, first.status(), first.err());
    assertEquals(first.lines(), client("alloc", String.valueOf(id), "--count", "2", "--key", "job-17.attempt:1").lines());
    Run reused = client("alloc", String.valueOf(id), "--count", "3", "--key", "job-17.attempt:1");
    assertEquals(1, reused.status());
    assertTrue(reused.err().endsWith("(idempotency-key-reused)" + System.lineSeparator()), reused.err());
    assertEquals(2, client("alloc", String.valueOf(id), "--vpid", "9", "--key", "k").status());
    Run fresh = client("alloc", String.valueOf(id), "--count", "2"); // a new key each invocation
    assertEquals(Integer.parseInt(first.lines().get(1)) + 1, Integer.parseInt(fresh.lines().get(0)));
  }

  /** A stand-in node that answers 503 twice, then pids: the CLI asks again with the same key. */
  @Test
  void alloc_retriesAnUnknownOutcome_withTheSameKey() throws Exception {
    List<String> keys = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer node = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    node.createContext("/", exchange -> {
      keys.add(String.valueOf(exchange.getRequestHeaders().getFirst("Idempotency-Key")));
      boolean ok = keys.size() % 3 == 0;
      byte[] body = (ok ? "{\"pids\":[4194306]}" : "{\"error\":\"unavailable\",\"message\":\"busy\"}").getBytes();
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    node.start();
    try {
      String at = "http://127.0.0.1:" + node.getAddress().getPort();
      Run run = pidspace("alloc", "1", "--url", at);
      assertEquals(0, run.status(), run.err());
      assertEquals(List.of("4194306"), run.lines());
      assertEquals(3, keys.size());
      assertEquals(1, keys.stream().distinct().count(), keys.toString());
      assertTrue(keys.get(0).matches("[0-9a-f-]{36}"), keys.get(0));
      assertEquals(2, run.err().lines().filter(line -> line.contains("asking again with the same key")).count(), run.err());

      assertEquals(0, pidspace("alloc", "1", "--url", at).status());
      assertEquals(2, keys.stream().distinct().count(), "a new invocation sends a new key");
    } finally {
      node.stop(0);
    }
  }

  @Test
  void lookup_printsSpaceVpidAndWhetherAllocated() {
    int id = createSpace();
    String pid = client("alloc", String.valueOf(id)).out().strip();
    assertEquals("pid " + pid + ": space " + id + ", vpid 2, allocated", client("lookup", pid).out().strip());
    Run bad = client("lookup", "-1");
    assertEquals(1, bad.status());
    assertTrue(bad.err().startsWith("pidspace lookup: pid must be a global pid within 0.."), bad.err());
  }

  @Test
  void free_printsWhatWasFreedAndEachRefusal() {
    int id = createSpace();
    List<String> pids = client("alloc", String.valueOf(id), "--count", "2").lines();
    Run freed = client("free", pids.get(0), pids.get(1));
    assertEquals(0, freed.status(), freed.err());
    assertEquals(List.of("freed " + pids.get(0), "freed " + pids.get(1)), freed.lines());

    String live = client("alloc", String.valueOf(id)).out().strip();
    Run partly = client("free", live, pids.get(1));
    assertEquals(1, partly.status());
    assertEquals(List.of("freed " + live), partly.lines());
    String refusal = partly.err().strip();
    assertTrue(refusal.startsWith("pidspace free: pid " + pids.get(1) + ": "), refusal);
    assertTrue(refusal.endsWith(" is not allocated (not-allocated)"), refusal);
  }

  @Test
  void freeWithAGeneration_refusesAStaleOne_andFreesTheHolders() {
    int id = createSpace();
    int first = (id << 22) | 2;
    assertEquals(List.of(first + " 1"), client("alloc", String.valueOf(id), "--generations").lines());
    assertEquals(0, client("free", String.valueOf(first), "--generation", "1").status());
    assertEquals(List.of(first + " 2"), client("alloc", String.valueOf(id), "--vpid", "2", "--generations").lines());
    Run stale = client("free", String.valueOf(first), "--generation", "1");
    assertEquals(1, stale.status());
    assertTrue(stale.err().strip().endsWith("(stale-handle)"), stale.err());
    assertEquals(2, client("free", String.valueOf(first), "--generation", "1,2").status());
    Run freed = client("free", String.valueOf(first), "--generation", "2");
    assertEquals(List.of("freed " + first), freed.lines());
  }

  @Test
  void json_printsTheServersAnswer() throws Exception {
    int id = createSpace();
    Run alloc = client("alloc", String.valueOf(id), "--count", "2", "--json");
    assertEquals(0, alloc.status(), alloc.err());
    JsonNode pids = JSON.readTree(alloc.out()).get("pids");
    assertEquals(2, pids.size());

    Run space = client("spaces", "show", String.valueOf(id), "--json");
    assertEquals(2, JSON.readTree(space.out()).get("allocated").asInt());

    Run refused = client("alloc", "401", "--json");
    assertEquals(1, refused.status());
    assertEquals("unknown-space", JSON.readTree(refused.out()).get("error").asText());
  }

  @Test
  void token_isSentWhenGiven() {
    Run without = pidspace("spaces", "create", "--url", guardedUrl);
    assertEquals(1, without.status());
    assertTrue(without.err().contains("(unauthorized)"), without.err());
    Run with = pidspace("spaces", "create", "--url", guardedUrl, "--token", TOKEN);
    assertEquals(0, with.status(), with.err());
    assertEquals(0, pidspace("spaces", "--url", guardedUrl).status());
  }

  @Test
  void unreachableNode_saysSoAndExits1() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    Run run = pidspace("spaces", "--url", "http://127.0.0.1:" + closedPort);
    assertEquals(1, run.status());
    assertEquals("", run.out());
    assertTrue(run.err().startsWith("pidspace spaces: cannot connect to a pidspace node at http://127.0.0.1:" + closedPort),
        run.err());

    Run badUrl = pidspace("lookup", "5", "--url", "not a url");
    assertEquals(1, badUrl.status());
    assertTrue(badUrl.err().contains("is not a usable --url"), badUrl.err());
  }

  @Test
  void badUsage_exits2WithoutAsking() {
    Run run = pidspace("alloc", "abc", "--url", url);
    assertEquals(2, run.status());
    assertTrue(run.err().contains("abc"), run.err());
    assertEquals(2, pidspace("free", "--url", url).status());
  }

  @Test
  void help_listsTheClientCommands() {
    String usage = pidspace("--help").out();
    for (String command : List.of("spaces", "alloc", "free", "lookup")) {
      assertTrue(usage.contains(command), usage);
    }
  }
}
