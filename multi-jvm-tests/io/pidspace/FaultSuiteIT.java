package io.pidspace;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pidspace.faults.Checker;
import io.pidspace.faults.History;
import io.pidspace.faults.History.Kind;
import io.pidspace.faults.History.Op;
import io.pidspace.faults.History.Outcome;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.roaringbitmap.RoaringBitmap;

/**
 * Issue 29's fault suite, Jepsen's way: three node JVMs on one PostgreSQL journal, six clients
 * allocating and freeing their own pids over HTTP against random nodes as a careful client does
 * (client timeout 8 s; every alloc carries an {@code Idempotency-Key} and every free names the
 * pid's generation, and a request of unknown outcome is retried as the same request, up to 8
 * attempts with backoff, each on a random node; one alloc in 20 is sent once more after its
 * answer, which must answer the same),
 * and one fault per run: SIGSTOP of a node, kill -9 and restart, PostgreSQL restarted with
 * {@code -m fast} and {@code -m immediate}, a node cut off from the other two, a bridge (two nodes
 * cut from each other, both still seeing the third), a node started with its clock 2 s ahead.
 * After each fault: heal, wait for every node to serve every space (the time is measured; a node
 * that was downed and exited is restarted), let the load run on, stop it, read every space's
 * allocated pids, run {@link Checker}, repair with {@code reconcile} (alive: the pids the clients
 * certainly hold), read and check again. A pid held twice, an acknowledged alloc lost, a keyed
 * retry answered otherwise than its first answer, a pid's generation answered again, or a leak
 * left after the repair fails the run. One history runs through all faults, so each check covers
 * everything before it too.
 *
 * <p>Partitions need root and iptables (each node JVM runs as its own user, and OUTPUT rules on
 * its uid drop its packets to the other nodes' Artery ports); PostgreSQL faults need root and a
 * local cluster serving {@code PIDSPACE_TEST_PG_URL}; the skewed clock needs libfaketime. A fault
 * that cannot be injected is skipped with the reason. {@code -Dfaults.long=true} runs the
 * schedule {@code faults.rounds} (3) times with longer faults and load (docs/operations.md,
 * "Faults"). The table goes to stdout and target/fault-suite/table.md.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultSuiteIT {

  private static final boolean LONG = Boolean.getBoolean("faults.long");
  private static final int ROUNDS = LONG ? Integer.getInteger("faults.rounds", 3) : 1;
  private static final long HOLD_MS = LONG ? 15_000 : 4_000; // how long a fault lasts
  private static final long LOAD_BEFORE_MS = LONG ? 8_000 : 2_000;
  private static final long LOAD_AFTER_MS = LONG ? 8_000 : 2_000; // once every node serves again
  private static final int SPACES = 3; // ids 1..3
  private static final int PID_MAX = 2_048; // small: next-fit wraps, freed pids are handed out again
  private static final int CLIENTS = 6;
  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(8);
  private static final int ATTEMPTS = 8; // of one request of unknown outcome; backoff 0.1 s doubling, at most 2 s
  private static final Duration CALL = Duration.ofSeconds(30); // the suite's own reads and repairs
  private static final Duration READY = Duration.ofSeconds(180);
  private static final Duration SERVE = Duration.ofSeconds(150);
  private static final String FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
  private static final HttpClient MANAGEMENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final List<NodeProcess> nodes = new ArrayList<>();
  private final long seed = Long.getLong("faults.seed", System.nanoTime());
  private final Random random = new Random(seed);
  private History history;
  private final List<List<Handle>> heldByClient = new ArrayList<>();
  private final AtomicLong requestIds = new AtomicLong(); // names each free's attempts
  private int unresolvedBefore; // requests of unknown outcome after all attempts, in the faults before
  private final List<List<String>> rules = new ArrayList<>(); // iptables rules in force
  private final List<String> table = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private String pgCluster; // "15 main": the local cluster serving the journal, or null
  private Path logs;

  @BeforeAll
  void startCluster() throws Exception {
    Optional<Map<String, String>> pg = TestPostgres.freshSchema("faults");
    assumeTrue(pg.isPresent(), "the fault suite runs on PostgreSQL: set PIDSPACE_TEST_PG_URL (.ci/run does)");
    pgCluster = localPgCluster(System.getenv("PIDSPACE_TEST_PG_URL"));
    List<String> settings = new ArrayList<>(List.of("akka.loglevel=INFO"));
    pg.get().forEach((k, v) -> settings.add(k + "=" + v));
    logs = Files.createDirectories(Path.of("target", "fault-suite", "logs-" + System.currentTimeMillis()));
    List<Integer> ports = List.of(NodeProcess.freePort(), NodeProcess.freePort(), NodeProcess.freePort());
    boolean ownUsers = canPartition();
    for (int i = 0; i < 3; i++) {
      NodeProcess node = new NodeProcess("node-" + (i + 1), ports.get(i), ports, settings, logs);
      if (ownUsers) {
        node.user = "pidspace-fault" + (i + 1);
      }
      nodes.add(node);
    }
    for (NodeProcess node : nodes) {
      node.start();
    }
    for (NodeProcess node : nodes) {
      node.awaitReady(READY);
    }
    for (int space = 1; space <= SPACES; space++) {
      NodeProcess.Answer a = nodes.get(space % 3).call("POST", "/v1/spaces",
          "{\"id\": " + space + ", \"pidMax\": " + PID_MAX + "}", CALL);
      assertTrue(a.status() == 201, "create space " + space + ": " + a.status() + " " + a.json());
    }
    for (int c = 0; c < CLIENTS; c++) {
      heldByClient.add(new ArrayList<>());
    }
    history = new History(System.nanoTime());
    table.add("| fault | operations | unknown outcome (after retries) | duplicates | lost | leaked before repair "
        + "| leaked after repair "
        + "| serve again (s) |");
    table.add("|---|---|---|---|---|---|---|---|");
    System.out.printf("fault suite: seed %d, %s schedule, partitions %s, PostgreSQL faults %s, logs in %s%n", seed,
        LONG ? "long (" + ROUNDS + " rounds)" : "short", ownUsers ? "on" : "off",
        pgCluster == null ? "off" : "on cluster " + pgCluster, logs);
  }

  @AfterAll
  void stopCluster() throws Exception {
    for (List<String> rule : new ArrayList<>(rules)) {
      iptables("-D", rule);
    }
    for (NodeProcess node : nodes) {
      if (node.isAlive()) {
        node.resume(); // in case a failure left it stopped
        node.kill();
      }
    }
    if (table.size() > 2) {
      Path out = Path.of("target", "fault-suite", "table.md");
      Files.createDirectories(out.getParent());
      Files.writeString(out, String.join("\n", table) + "\n");
      System.out.println("fault suite [seed " + seed + "]:\n" + String.join("\n", table));
    }
  }

  static Stream<String> schedule() {
    List<String> one = List.of("pause", "kill", "pg-restart-fast", "pg-restart-immediate", "partition-minority",
        "partition-bridge", "clock-skew");
    return IntStream.range(0, ROUNDS).boxed().flatMap(r -> one.stream());
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("schedule")
  void fault_noPidHeldTwice_nothingLost_noLeakAfterRepair(String fault) throws Exception {
    assumeTrue(failures.isEmpty(), "an earlier fault failed: " + failures);
    NodeProcess target = nodes.get(random.nextInt(3));
    Optional<String> why = unavailable(fault);
    assumeTrue(why.isEmpty(), () -> fault + " cannot be injected here: " + why.orElse(""));
    awaitServing(); // a node an earlier fault downed late is back
    int opsBefore = history.size();

    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      long clientSeed = random.nextLong();
      Thread t = new Thread(() -> work(client, new Random(clientSeed), stop), "client-" + c);
      t.start();
      clients.add(t);
    }
    double serveAgain;
    String name = describe(fault, target);
    Heal heal = null;
    try {
      Thread.sleep(LOAD_BEFORE_MS);
      heal = inject(fault, target);
      if (heal != null) {
        Thread.sleep(HOLD_MS);
        Heal now = heal;
        heal = null;
        now.run();
      }
      long healed = System.nanoTime();
      serveAgain = (awaitServing() - healed) / 1e9;
      Thread.sleep(LOAD_AFTER_MS);
    } catch (Throwable t) {
      failures.add(fault + " (" + t + ")"); // the cluster may be broken: the faults after it are skipped
      throw t;
    } finally {
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }
      if (heal != null) {
        heal.run(); // interrupted while in force
      }
    }
    awaitServing(); // a node downed in the last seconds exits: the state is read from a stable cluster

    List<Op> ops = history.ops();
    Files.write(logs.resolve("history.txt"), ops.stream().map(o -> o.show(0)).toList()); // every attempt, for a failure's story
    Checker.Result before = Checker.check(ops, allocated());
    repair(before.held());
    Checker.Result after = Checker.check(ops, allocated());
    List<String> lostFrees = Checker.lostFrees(ops, after);
    String row = String.format("| %s | %d | %d (%d) | %d | %d | %d | %d | %.1f |", name, ops.size() - opsBefore,
        (int) ops.subList(opsBefore, ops.size()).stream().filter(o -> o.outcome() == Outcome.UNKNOWN).count(),
        before.unresolved() - unresolvedBefore, before.duplicates().size(), lost(before, after).size(), before.leaked().size(),
        after.leaked().size(), serveAgain);
    unresolvedBefore = before.unresolved();
    table.add(row);
    System.out.println("fault suite: " + row);

    List<String> problems = new ArrayList<>(before.duplicates());
    problems.addAll(before.retries());
    problems.addAll(before.generations());
    problems.addAll(lost(before, after));
    problems.addAll(lostFrees);
    if (!problems.isEmpty()) {
      failures.add(fault);
      problems.forEach(System.out::println);
    }
    assertTrue(problems.isEmpty(), problems.size() + " violation(s) after " + name + " [seed " + seed + ", logs "
        + logs + "] (all printed above); the first:\n" + String.join("\n", problems.subList(0, Math.min(3,
        problems.size()))));
  }

  /** Lost acknowledged allocs, found before or after the repair (the repair cannot bring one back). */
  private static Set<String> lost(Checker.Result before, Checker.Result after) {
    Set<String> lost = new TreeSet<>(before.lost());
    lost.addAll(after.lost());
    return lost;
  }

  /** Undoes a fault; null from {@link #inject} for a fault that is over when injected. */
  private interface Heal {
    void run() throws Exception;
  }

  private Optional<String> unavailable(String fault) throws Exception {
    if (fault.startsWith("pg-") && pgCluster == null) {
      return Optional.of("PostgreSQL is restarted with pg_ctlcluster, which needs root and a local cluster "
          + "serving PIDSPACE_TEST_PG_URL");
    }
    if (fault.startsWith("partition-") && nodes.get(0).user == null) {
      return Optional.of("partitions need root, iptables with its owner match, and useradd (.ci/run installs iptables)");
    }
    if (fault.equals("clock-skew") && !Files.exists(Path.of(FAKETIME_LIB))) {
      return Optional.of(FAKETIME_LIB + " is missing: apt-get install faketime (.ci/run does)");
    }
    return Optional.empty();
  }

  private String describe(String fault, NodeProcess target) {
    long s = HOLD_MS / 1000;
    List<NodeProcess> others = others(target);
    return switch (fault) {
      case "pause" -> "SIGSTOP " + target.name + " " + s + " s";
      case "kill" -> "kill -9 " + target.name + ", restart after " + s + " s";
      case "pg-restart-fast" -> "PostgreSQL restart -m fast";
      case "pg-restart-immediate" -> "PostgreSQL restart -m immediate";
      case "partition-minority" -> target.name + " cut from both others " + s + " s";
      case "partition-bridge" -> others.get(0).name + " and " + others.get(1).name + " cut, " + target.name
          + " sees both, " + s + " s";
      case "clock-skew" -> target.name + " restarted with its clock +2 s, " + s + " s";
      default -> throw new IllegalArgumentException(fault);
    };
  }

  private Heal inject(String fault, NodeProcess target) throws Exception {
    List<NodeProcess> others = others(target);
    switch (fault) {
      case "pause" -> {
        target.pause();
        return target::resume;
      }
      case "kill" -> {
        target.kill();
        return target::start;
      }
      case "pg-restart-fast", "pg-restart-immediate" -> {
        run("pg_ctlcluster", pgCluster.split(" ")[0], pgCluster.split(" ")[1], "restart", "-m",
            fault.substring("pg-restart-".length()));
        return null; // the restart is the whole fault: serving again is timed from its end
      }
      case "partition-minority" -> {
        for (NodeProcess other : others) {
          cut(target, other);
          cut(other, target);
        }
        return this::healPartition;
      }
      case "partition-bridge" -> {
        cut(others.get(0), others.get(1));
        cut(others.get(1), others.get(0));
        return this::healPartition;
      }
      case "clock-skew" -> {
        target.kill();
        target.env.putAll(Map.of("LD_PRELOAD", FAKETIME_LIB, "FAKETIME", "+2s", "FAKETIME_DONT_FAKE_MONOTONIC", "1",
            "FAKETIME_NO_CACHE", "1"));
        startUntilReady(target); // the hold is spent serving with the skewed clock
        return () -> {
          System.out.println("fault suite: " + target.name + "'s clock as its Date header tells it: " + skew(target));
          target.kill();
          removeFaketimeShm(target);
          List.of("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC", "FAKETIME_NO_CACHE").forEach(target.env::remove);
          target.start();
        };
      }
      default -> throw new IllegalArgumentException(fault);
    }
  }

  /**
   * Starts {@code node} and waits until it is ready, again if it is downed and exits first: a JVM
   * starting on a starved host may miss heartbeats for 2 s, and the cluster downs it (the trade-off
   * of pidspace-node.conf's failure detector).
   */
  private static void startUntilReady(NodeProcess node) throws Exception {
    for (int attempt = 1; ; attempt++) {
      node.start();
      try {
        node.awaitReady(READY);
        return;
      } catch (IllegalStateException e) {
        if (node.isAlive() || attempt == 3) {
          throw e;
        }
        System.out.println("fault suite: " + node.name + " was downed while it started; starting it again");
      }
    }
  }

  /** libfaketime's shared memory of a JVM that was killed (it removes it only on a normal exit). */
  private static void removeFaketimeShm(NodeProcess node) throws IOException {
    if (node.user == null || !Files.isDirectory(Path.of("/dev/shm"))) {
      return;
    }
    try (Stream<Path> files = Files.list(Path.of("/dev/shm"))) {
      for (Path f : files.filter(f -> f.getFileName().toString().matches("(sem\\.)?faketime_(shm|sem)_\\d+")).toList()) {
        if (Files.getOwner(f).getName().equals(node.user)) {
          Files.deleteIfExists(f);
        }
      }
    }
  }

  /** How far {@code node}'s clock is ahead of this one, by the Date header of its management port (whole seconds). */
  private static String skew(NodeProcess node) {
    try {
      HttpResponse<String> r = MANAGEMENT.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + node.managementPort + "/ready")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      long now = System.currentTimeMillis();
      long date = java.time.ZonedDateTime.parse(r.headers().firstValue("Date").orElseThrow(),
          java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
      return String.format("%+.1f s (within a second)", (date - now) / 1e3);
    } catch (Exception e) {
      return "not known (" + e + ")";
    }
  }

  private List<NodeProcess> others(NodeProcess target) {
    return nodes.stream().filter(n -> n != target).toList();
  }

  /** Drops what {@code from} sends to {@code to}'s Artery port: one direction of a link. */
  private void cut(NodeProcess from, NodeProcess to) throws Exception {
    List<String> rule = List.of("OUTPUT", "-o", "lo", "-p", "tcp", "-m", "owner", "--uid-owner", from.user,
        "--dport", Integer.toString(to.port), "-j", "DROP");
    iptables("-A", rule);
    rules.add(rule);
  }

  private void healPartition() throws Exception {
    for (List<String> rule : new ArrayList<>(rules)) {
      iptables("-D", rule);
      rules.remove(rule);
    }
  }

  private static void iptables(String op, List<String> rule) throws Exception {
    List<String> command = new ArrayList<>(List.of("iptables", "-w", op));
    command.addAll(rule);
    run(command.toArray(String[]::new));
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
  }

  private static boolean succeeds(String... command) {
    try {
      run(command);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  /**
   * Whether node JVMs can run as users of their own whose packets iptables can drop: root,
   * iptables with the owner match, and the three users (created here when missing).
   */
  private static boolean canPartition() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return false;
    }
    for (int i = 1; i <= 3; i++) {
      String user = "pidspace-fault" + i;
      if (!succeeds("id", user) && !succeeds("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user)) {
        return false;
      }
      for (String file : List.of(System.getProperty("pidspace.jar", "target/pidspace.jar"), "conf/application.conf")) {
        String path = Path.of(file).toAbsolutePath().toString();
        if (!succeeds("setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups", "--", "test", "-r", path)) {
          System.out.println("fault suite: no partitions: " + user + " cannot read " + path);
          return false;
        }
      }
    }
    List<String> probe = List.of("OUTPUT", "-o", "lo", "-p", "tcp", "-m", "owner", "--uid-owner", "pidspace-fault1",
        "--dport", "1", "-j", "DROP");
    try {
      iptables("-A", probe);
      iptables("-D", probe);
      return true;
    } catch (Exception e) {
      System.out.println("fault suite: no partitions: " + e.getMessage());
      return false;
    }
  }

  /** "15 main" when root can restart the local cluster on the URL's port with pg_ctlcluster; else null. */
  private static String localPgCluster(String url) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("//(127\\.0\\.0\\.1|localhost)(?::(\\d+))?/").matcher(url);
    if (!m.find() || !"root".equals(System.getProperty("user.name"))) {
      return null;
    }
    String port = m.group(2) == null ? "5432" : m.group(2);
    try {
      Process p = new ProcessBuilder("pg_lsclusters", "-h").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      p.waitFor();
      for (String line : out.split("\n")) {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 4 && f[2].equals(port) && f[3].equals("online")) {
          return f[0] + " " + f[1];
        }
      }
    } catch (IOException | InterruptedException e) {
      return null;
    }
    return null;
  }

  /** What a client keeps of an allocated pid: the pid and its generation, to free it safely. */
  private record Handle(int pid, int generation) {}

  /** One client: allocs and frees of its own pids, each request on random nodes until its outcome is known. */
  private void work(int client, Random rnd, AtomicBoolean stop) {
    List<Handle> held = heldByClient.get(client);
    try {
      while (!stop.get()) {
        if (held.size() < 10 || held.size() < 60 && rnd.nextBoolean()) {
          String key = UUID.randomUUID().toString();
          String path = "/v1/spaces/" + (1 + rnd.nextInt(SPACES)) + "/pids?count=" + (1 + rnd.nextInt(3));
          Op op = untilKnown(client, Kind.ALLOC, key, "POST", path, null, rnd);
          if (op.outcome() == Outcome.OK) {
            for (int i = 0; i < op.pids().length; i++) {
              held.add(new Handle(op.pids()[i], op.generations()[i]));
            }
            if (rnd.nextInt(20) == 0) { // as a client that lost the answer inside itself: the Checker compares
              send(client, Kind.ALLOC, key, nodes.get(rnd.nextInt(nodes.size())), "POST", path, null);
            }
          }
        } else {
          Handle h = held.remove(rnd.nextInt(held.size()));
          Op op = untilKnown(client, Kind.FREE, "free-" + requestIds.incrementAndGet(), "DELETE",
              "/v1/pids/" + h.pid() + "?generation=" + h.generation(), h, rnd);
          if (op.unsent()) {
            held.add(h); // no attempt reached a node: free it later
          } // else done with it: freed, refused, or unknown after every attempt (left to reconcile)
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Sends a request until an attempt answers definitely (2xx or 4xx), at most {@link #ATTEMPTS}
   * times, each on a random node and after a backoff: an alloc with its key, a free with its
   * generation, so a retry never takes effect twice. Returns the deciding attempt, else the last
   * one that reached a node, else the last one. A stop lets the request finish.
   */
  private Op untilKnown(int client, Kind kind, String request, String method, String path, Handle handle, Random rnd)
      throws InterruptedException {
    Op reached = null;
    for (int attempt = 1; ; attempt++) {
      Op op = send(client, kind, request, nodes.get(rnd.nextInt(nodes.size())), method, path, handle);
      reached = op.unsent() ? reached : op;
      if (op.outcome() != Outcome.UNKNOWN && !op.unsent() || attempt == ATTEMPTS) {
        return reached == null ? op : reached;
      }
      Thread.sleep(Math.min(2_000, 100L << (attempt - 1)) + rnd.nextInt(100));
    }
  }

  /**
   * Sends one attempt and records it. 2xx: OK; 4xx: a refusal that changed nothing; 5xx, a
   * timeout or a broken connection: unknown. A connection refused or not made in time is a
   * refusal without an error code: the attempt never reached a node.
   */
  private Op send(int client, Kind kind, String request, NodeProcess node, String method, String path, Handle handle)
      throws InterruptedException {
    long invoked = System.nanoTime() - history.t0;
    Outcome outcome;
    int[] pids = kind == Kind.FREE ? new int[] {handle.pid()} : new int[0];
    int[] generations = kind == Kind.FREE ? new int[] {handle.generation()} : new int[0];
    String error = null;
    String detail;
    try {
      NodeProcess.Answer a = kind == Kind.ALLOC ? node.postKeyed(path, request, CLIENT_TIMEOUT)
          : node.call(method, path, null, CLIENT_TIMEOUT);
      outcome = a.status() / 100 == 2 ? Outcome.OK : a.status() >= 500 ? Outcome.UNKNOWN : Outcome.FAILED;
      if (a.json() != null && a.json().has("error")) {
        error = a.json().get("error").asText();
      }
      if (kind == Kind.ALLOC && outcome == Outcome.OK) {
        JsonNode answered = a.json().get("pids");
        JsonNode gens = a.json().get("generations");
        pids = new int[answered.size()];
        generations = new int[answered.size()];
        for (int i = 0; i < pids.length; i++) {
          pids[i] = answered.get(i).asInt();
          generations[i] = gens.get(i).asInt();
        }
      }
      detail = node.name + " " + a.status() + (error == null ? "" : " " + error);
    } catch (ConnectException | HttpConnectTimeoutException e) {
      outcome = Outcome.FAILED;
      detail = node.name + " " + e;
    } catch (IOException e) {
      outcome = Outcome.UNKNOWN;
      detail = node.name + " " + e;
    }
    Op op = new Op(client, kind, request, pids, generations, invoked, System.nanoTime() - history.t0, outcome, error,
        detail);
    history.add(op);
    return op;
  }

  /**
   * Until every node is up and ready and reads every space: restarts a node that exited (a
   * downed node leaves the cluster and its JVM exits); twice in a row, a second apart, so a
   * node that downs itself just after it woke is caught. Returns when the first of the two began.
   */
  private long awaitServing() throws Exception {
    long start = System.nanoTime();
    long deadline = start + SERVE.toNanos();
    int streak = 0;
    long first = 0;
    String waitedFor = null;
    while (streak < 2) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the cluster did not serve every space on every node within " + SERVE + " (last: "
            + waitedFor + "); see " + logs);
      }
      String why = null;
      for (NodeProcess node : nodes) {
        if (!node.isAlive()) {
          System.out.println("fault suite: " + node.name + " exited (downed); restarting it");
          node.start();
        }
        String not = notServing(node);
        why = why == null ? not : why;
      }
      streak = why == null ? streak + 1 : 0;
      waitedFor = why == null ? waitedFor : why;
      if (streak == 1) {
        first = System.nanoTime();
      }
      Thread.sleep(why == null ? 1_000 : 250);
    }
    if (first - start > TimeUnit.SECONDS.toNanos(5)) {
      System.out.printf("fault suite: serving again took %.1f s; the last thing waited for: %s%n",
          (first - start) / 1e9, waitedFor);
    }
    return first;
  }

  /** Why {@code node} does not serve every space yet, or null when it does. */
  private static String notServing(NodeProcess node) throws InterruptedException {
    try {
      HttpResponse<String> r = MANAGEMENT.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.managementPort + "/ready"))
              .timeout(Duration.ofSeconds(3)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return node.name + " /ready " + r.statusCode() + " " + r.body();
      }
    } catch (IOException e) {
      return node.name + " /ready " + e;
    }
    for (int space = 1; space <= SPACES; space++) {
      try {
        NodeProcess.Answer a = node.call("GET", "/v1/spaces/" + space, null, Duration.ofSeconds(5));
        if (a.status() != 200) {
          return node.name + " GET space " + space + ": " + a.status() + " " + a.json();
        }
      } catch (IOException e) {
        return node.name + " GET space " + space + ": " + e;
      }
    }
    return null;
  }

  /** Every space's allocated pids, global, from its export. */
  private Set<Integer> allocated() throws Exception {
    Set<Integer> out = new TreeSet<>();
    for (int space = 1; space <= SPACES; space++) {
      JsonNode doc = retrying("GET", "/v1/spaces/" + space + "/export", null);
      RoaringBitmap bitmap = new RoaringBitmap();
      bitmap.deserialize(ByteBuffer.wrap(Base64.getDecoder().decode(doc.get("allocated").asText())));
      for (int vpid : bitmap) {
        out.add(space << 22 | vpid);
      }
    }
    return out;
  }

  /**
   * The repair a platform runs: reconcile every space with the pids its clients certainly hold
   * alive, applied, until a report finds no leak. A leak is freed once the space's last
   * {@code pidspace.reconcile.reports} (3) reports found it too, so four passes do it on a
   * stable cluster; twelve bound it here.
   */
  private void repair(Set<Integer> held) throws Exception {
    for (int space = 1; space <= SPACES; space++) {
      int s = space;
      String alive = held.stream().filter(p -> p >> 22 == s).map(p -> Integer.toString(p & ((1 << 22) - 1)))
          .collect(Collectors.joining(", ", "[", "]"));
      for (int pass = 0; pass < 12; pass++) {
        JsonNode report = retrying("POST", "/v1/spaces/" + space + ":reconcile", "{\"alive\": " + alive
            + ", \"apply\": true}");
        if (report.get("leaked").size() == report.get("freed").size()) {
          break;
        }
      }
    }
  }

  /** The suite's own request, on any node that answers 200 within a minute. */
  private JsonNode retrying(String method, String path, String body) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String last = "";
    for (int i = 0; System.nanoTime() < deadline; i++) {
      NodeProcess node = nodes.get(i % nodes.size());
      try {
        NodeProcess.Answer a = node.call(method, path, body, CALL);
        if (a.status() == 200) {
          return a.json();
        }
        last = node.name + ": " + a.status() + " " + a.json();
      } catch (IOException e) {
        last = node.name + ": " + e;
      }
      Thread.sleep(250);
    }
    throw new AssertionError(method + " " + path + " answered no 200 within 60 s; last " + last);
  }
}
