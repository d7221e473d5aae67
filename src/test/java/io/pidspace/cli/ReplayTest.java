package io.pidspace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Replay}, the trace interpreter of DESIGN.md §6, driven through readers and writers. Each
 * run starts its own one-node cluster, as {@code pidspace replay} does.
 */
class ReplayTest {

  private static final Config CONFIG = ConfigFactory.parseMap(Map.of("pidspace.shift", 22));
  private static final int SHIFT = 22;
  /** Far above any answer time; only a hang reaches it. */
  private static final long TIMEOUT_SECONDS = 60;
  /** An expected answer that matches any refusal. */
  private static final String ERROR = "error";

  @Test
  void run_everyCommand_answersOneLineEachInOrder() throws Exception {
    List<String> answers = replay("""
        # a comment, then a blank line: neither is answered
        pid-max 1000

        alloc 0
        alloc 0   # a trailing comment
        space-create
        space-create 7
        \talloc 1\t
        alloc 7
        free 2
        free 4194306
        alloc 1
        space-destroy 7
        space-create
        alloc 7
        alloc-at 1 900
        alloc-at 1 900
        alloc-at 1 0
        alloc-at 1 1000
        alloc 1
        """);

    assertEquals(List.of(
            "ok",
            "1",
            "2",
            "1",
            "7",
            String.valueOf((1 << SHIFT) | 2),
            String.valueOf((7 << SHIFT) | 2),
            "ok",
            "ok",
            String.valueOf((1 << SHIFT) | 3),
            "ok",
            "2"),
        answers.subList(0, 12));
    assertTrue(answers.get(12).startsWith("error: unknown-space: "), answers.get(12));
    assertEquals(String.valueOf((1 << SHIFT) | 900), answers.get(13));
    assertEquals("error: pid-in-use: vpid 900 of space 1 is in use", answers.get(14));
    assertTrue(answers.get(15).startsWith("error: out-of-range: "), answers.get(15));
    assertTrue(answers.get(16).startsWith("error: out-of-range: "), answers.get(16));
    assertEquals(String.valueOf((1 << SHIFT) | 4), answers.get(17)); // alloc-at left last_pid at 3
    assertEquals(18, answers.size());
  }

  /**
   * The first line's pid_max bounds space 0 and every created space; a later pid-max is refused.
   * A full space answers -1 until a pid at or above its reserved floor is freed.
   */
  @Test
  void run_pidMaxOnFirstLine_boundsEverySpaceAndFullSpaceAnswersMinusOne() throws Exception {
    StringBuilder trace = new StringBuilder("pid-max 301\n");
    List<String> expected = new ArrayList<>(List.of("ok"));
    for (int vpid = 1; vpid <= 300; vpid++) {
      trace.append("alloc 0\n");
      expected.add(String.valueOf(vpid));
    }
    trace.append("""
        pid-max 1000
        alloc 0
        free 150
        alloc 0
        free 300
        alloc 0
        space-create
        """);
    expected.addAll(List.of(
        ERROR,
        "-1", // still pid_max 301
        "ok",
        "-1", // space 0 wraps to its reserved floor, 300: vpid 150 is not handed out again
        "ok",
        "300", // the only free pid is last_pid itself: the seed's loop misses it, the rule does not
        "1"));
    for (int i = 0; i < 300; i++) {
      trace.append("alloc 1\n");
      expected.add(String.valueOf((1 << SHIFT) | (i < 299 ? i + 2 : 1))); // vpids 2..300, then the wrap to 1
    }
    trace.append("alloc 1\n");
    expected.add("-1");

    assertAnswers(trace.toString().lines().toList(), expected, replay(trace.toString()));
  }

  /** Each bad line answers one error and changes nothing: the line after it shows the state is unchanged. */
  @Test
  void run_badInput_answersOneErrorLineAndChangesNothing() throws Exception {
    String[][] script = {
      {"pid-max 300", ERROR},
      {"pid-max 4194305", ERROR},
      {"pid-max", ERROR},
      {"pid-max x", ERROR},
      {"alloc 0", "1"},
      {"frobnicate", ERROR},
      {"ALLOC 0", ERROR},
      {"alloc", ERROR},
      {"alloc 0 0", ERROR},
      {"alloc zero", ERROR},
      {"alloc 1.5", ERROR},
      {"alloc 99999999999", ERROR},
      {"alloc -1", ERROR},
      {"alloc 512", ERROR},
      {"alloc 3", ERROR},
      {"alloc 0", "2"},
      {"free 2", "ok"},
      {"free 2", ERROR},
      {"free 0", ERROR},
      {"free 40000", ERROR},
      {"free -7", ERROR},
      {"free x", ERROR},
      {"free 99999999999", ERROR},
      {"free " + ((3 << SHIFT) | 2), ERROR},
      {"free", ERROR},
      {"free 1 1", ERROR},
      {"alloc 0", "3"},
      {"free 1", "ok"},
      {"space-destroy 0", ERROR},
      {"space-destroy 5", ERROR},
      {"space-destroy -1", ERROR},
      {"space-destroy x", ERROR},
      {"space-destroy", ERROR},
      {"space-create 512", ERROR},
      {"space-create -1", ERROR},
      {"space-create -5", ERROR},
      {"space-create x", ERROR},
      {"space-create 1 2", ERROR},
      {"space-create", "1"},
      {"space-create 1", ERROR},
      {"space-create 0", ERROR},
      {"space-create", "2"},
      {"alloc 1", String.valueOf((1 << SHIFT) | 2)},
      {"pid-max 1000", ERROR},
      {"alloc 1", String.valueOf((1 << SHIFT) | 3)},
    };
    List<String> commands = Arrays.stream(script).map(line -> line[0]).toList();
    List<String> expected = Arrays.stream(script).map(line -> line[1]).toList();

    assertAnswers(commands, expected, replay(String.join("\n", commands) + "\n"));
  }

  /**
   * DESIGN.md §6: a number is one or more ASCII digits. A sign, a hex prefix or the digits of
   * another script ({@code Long.parseLong} takes all but the prefix) answer one error, and the
   * line after each shows nothing changed.
   */
  @Test
  void run_numberThatIsNotAsciiDigits_answersOneErrorAndChangesNothing() throws Exception {
    String arabicOne = "\u0661";
    String fullwidthOne = "\uFF11";
    String pid = String.valueOf((1 << SHIFT) | 2);
    String[][] script = {
      {"pid-max +1000", ERROR},
      {"pid-max \u0661\u0660\u0660\u0660", ERROR},
      {"pid-max 1000", "ok"}, // still the first pid-max to count: the refused ones started nothing
      {"space-create +1", ERROR},
      {"space-create 0x1", ERROR},
      {"space-create " + arabicOne, ERROR},
      {"space-create", "1"}, // the lowest free id: none of the above took it
      {"alloc +1", ERROR},
      {"alloc 0x1", ERROR},
      {"alloc " + arabicOne, ERROR},
      {"alloc " + fullwidthOne, ERROR},
      {"alloc 1", pid}, // vpid 2: the first pid of a new space, so no refused alloc took one
      {"alloc 01", String.valueOf((1 << SHIFT) | 3)}, // leading zeros are still ASCII digits
      {"free +" + pid, ERROR},
      {"free 0x" + Integer.toHexString(Integer.parseInt(pid)), ERROR},
      {"free " + pid.replace('1', '\u0661'), ERROR},
      {"free " + pid, "ok"}, // still allocated: no refused free took it
      {"space-destroy +1", ERROR},
      {"space-destroy " + fullwidthOne, ERROR},
      {"alloc 1", String.valueOf((1 << SHIFT) | 4)}, // the space still exists
      {"space-destroy 1", "ok"},
    };
    List<String> commands = Arrays.stream(script).map(line -> line[0]).toList();
    List<String> expected = Arrays.stream(script).map(line -> line[1]).toList();

    List<String> answers = replay(String.join("\n", commands) + "\n");
    assertAnswers(commands, expected, answers);
    for (int i = 0; i < answers.size(); i++) {
      if (expected.get(i).equals(ERROR)) {
        assertTrue(answers.get(i).startsWith("error: bad-request: "), commands.get(i) + ": " + answers.get(i));
      }
    }
  }

  /** `pidspace replay` runs local actors; `--cluster` (and the library's start) a one-node cluster. */
  @ParameterizedTest
  @ValueSource(strings = {"local", "cluster"})
  void run_generatedTrace_matchesNaiveModelOfTheRule(String provider) throws Exception {
    Random random = new Random(2006);
    Model model = new Model(1_000);
    List<Integer> live = new ArrayList<>(); // may hold pids of destroyed spaces: their frees are refused
    StringBuilder trace = new StringBuilder("pid-max 1000\n");
    List<String> commands = new ArrayList<>(List.of("pid-max 1000"));
    List<String> expected = new ArrayList<>(List.of("ok"));
    while (commands.size() < 50_000) {
      String command = nextCommand(random, model, live);
      trace.append(command).append('\n');
      if (random.nextInt(200) == 0) {
        trace.append(random.nextBoolean() ? "\n" : "# a comment\n");
      }
      String answer = model.answer(command);
      commands.add(command);
      expected.add(answer);
      if (command.startsWith("alloc") && !answer.equals("-1") && !answer.equals(ERROR)) {
        live.add(Integer.parseInt(answer));
      }
    }

    Config config = CONFIG.withValue("akka.actor.provider", ConfigValueFactory.fromAnyRef(provider));
    assertAnswers(commands, expected, replay(trace.toString(), config));
    assertTrue(expected.contains("-1"), "the trace filled a space");
  }

  private static String nextCommand(Random random, Model model, List<Integer> live) {
    int roll = random.nextInt(1_000);
    if (roll < 3) {
      return random.nextBoolean() ? "space-create" : "space-create " + random.nextInt(12);
    }
    if (roll < 6) {
      return "space-destroy " + random.nextInt(12);
    }
    if (roll < 15) {
      return switch (random.nextInt(4)) {
        case 0 -> "alloc " + (random.nextInt(20) - 4); // unknown or out of range
        case 1 -> "free " + random.nextInt(12 << SHIFT); // mostly not allocated
        case 2 -> "free -" + random.nextInt(100);
        default -> "fork 1";
      };
    }
    if (roll < 25) {
      int vpid = random.nextInt(10) == 0 ? random.nextInt(1_100) : 1 + random.nextInt(999);
      return "alloc-at " + model.anySpace(random) + " " + vpid; // free, taken, 0 or beyond pid_max
    }
    if (roll < 575 || live.isEmpty()) {
      return "alloc " + model.anySpace(random);
    }
    int i = random.nextInt(live.size());
    int pid = live.get(i);
    if (random.nextInt(20) != 0) { // else: leave it live, so this is a double free later
      live.set(i, live.get(live.size() - 1));
      live.remove(live.size() - 1);
    }
    return "free " + pid;
  }

  /** Like a person at a terminal: each answer is read while the input is still open. */
  @Test
  void run_interactive_answersEachCommandBeforeInputEnds() throws Exception {
    PipedOutputStream commandsOut = new PipedOutputStream();
    PipedInputStream commandsIn = new PipedInputStream(commandsOut);
    PipedInputStream answersIn = new PipedInputStream();
    PipedOutputStream answersOut = new PipedOutputStream(answersIn);
    BufferedReader in = new BufferedReader(new InputStreamReader(commandsIn, StandardCharsets.UTF_8), 1 << 16);
    Writer out = new BufferedWriter(new OutputStreamWriter(answersOut, StandardCharsets.UTF_8), 1 << 16);
    ExecutorService threads = Executors.newFixedThreadPool(2); // one runs replay, one reads its answers
    try {
      Future<Void> run = threads.submit(() -> {
        new Replay(CONFIG).run(in, out);
        return null;
      });
      Writer commands = new OutputStreamWriter(commandsOut, StandardCharsets.UTF_8);
      BufferedReader answers = new BufferedReader(new InputStreamReader(answersIn, StandardCharsets.UTF_8));
      Function<String, String> ask = command -> {
        try {
          commands.write(command + "\n");
          commands.flush();
          return threads.submit(answers::readLine).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new AssertionError("no answer to '" + command + "'", e);
        }
      };

      assertEquals("1", ask.apply("space-create"));
      assertEquals(String.valueOf((1 << SHIFT) | 2), ask.apply("alloc 1"));
      assertTrue(ask.apply("free 5").startsWith("error: "));
      assertEquals("ok", ask.apply("free " + ((1 << SHIFT) | 2)));

      commands.close();
      run.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } finally {
      threads.shutdownNow();
    }
  }

  /** Compares answers line by line; an expected {@code "error"} stands for any line starting {@code "error: "}. */
  private static void assertAnswers(List<String> commands, List<String> expected, List<String> answers) {
    for (int i = 0; i < Math.min(expected.size(), answers.size()); i++) {
      String want = expected.get(i);
      String got = answers.get(i);
      if (want.equals(ERROR) ? !got.startsWith("error: ") : !want.equals(got)) {
        fail("command " + (i + 1) + " '" + commands.get(i) + "': expected '" + want + "', got '" + got + "'");
      }
    }
    assertEquals(expected.size(), answers.size(), "one answer per command");
  }

  private static List<String> replay(String trace) throws Exception {
    return replay(trace, CONFIG);
  }

  private static List<String> replay(String trace, Config config) throws Exception {
    StringWriter out = new StringWriter();
    new Replay(config).run(new BufferedReader(new StringReader(trace)), out);
    return out.toString().lines().toList();
  }

  /**
   * The rule of DESIGN.md §1 and the answers of §6, written as plainly as possible: a boolean per
   * vpid and straight loops, nothing shared with the code under test.
   */
  private static final class Model {
    private static final int MAX_SPACES = 512;

    private final int pidMax;
    private final TreeMap<Integer, Space> spaces = new TreeMap<>();

    Model(int pidMax) {
      this.pidMax = pidMax;
      Space zero = new Space(300, 0);
      zero.used[0] = true;
      spaces.put(0, zero);
    }

    private final class Space {
      final boolean[] used = new boolean[pidMax];
      final int floor;
      int lastPid;

      Space(int floor, int lastPid) {
        this.floor = floor;
        this.lastPid = lastPid;
      }

      int alloc() {
        for (int v = lastPid + 1; v < pidMax; v++) {
          if (!used[v]) {
            return take(v);
          }
        }
        for (int v = floor; v <= lastPid; v++) {
          if (!used[v]) {
            return take(v);
          }
        }
        return -1;
      }

      private int take(int v) {
        used[v] = true;
        lastPid = v;
        return v;
      }
    }

    int anySpace(Random random) {
      List<Integer> ids = new ArrayList<>(spaces.keySet());
      return ids.get(random.nextInt(ids.size()));
    }

    String answer(String command) {
      String[] words = command.split(" ");
      try {
        return switch (words[0]) {
          case "space-create" -> words.length == 1 ? create(lowestFreeId()) : create(Integer.parseInt(words[1]));
          case "space-destroy" -> destroy(Integer.parseInt(words[1]));
          case "alloc" -> alloc(Integer.parseInt(words[1]));
          case "alloc-at" -> allocAt(Integer.parseInt(words[1]), Integer.parseInt(words[2]));
          case "free" -> free(Integer.parseInt(words[1]));
          default -> ERROR;
        };
      } catch (NumberFormatException e) {
        return ERROR;
      }
    }

    private int lowestFreeId() {
      int id = 1;
      while (spaces.containsKey(id)) {
        id++;
      }
      return id;
    }

    private String create(int id) {
      if (id < 1 || id >= MAX_SPACES || spaces.containsKey(id)) {
        return ERROR;
      }
      spaces.put(id, new Space(1, 1));
      return String.valueOf(id);
    }

    private String destroy(int id) {
      return id != 0 && spaces.remove(id) != null ? "ok" : ERROR;
    }

    private String alloc(int id) {
      Space space = spaces.get(id);
      if (space == null) {
        return ERROR;
      }
      int vpid = space.alloc();
      return String.valueOf(vpid < 0 ? -1 : (id << SHIFT) | vpid);
    }

    /** Exactly that vpid: 1 <= vpid < pid_max and free, else an error; last_pid stays. */
    private String allocAt(int id, int vpid) {
      Space space = spaces.get(id);
      if (space == null || vpid < 1 || vpid >= pidMax || space.used[vpid]) {
        return ERROR;
      }
      space.used[vpid] = true;
      return String.valueOf((id << SHIFT) | vpid);
    }

    private String free(int pid) {
      if (pid < 0) {
        return ERROR;
      }
      Space space = spaces.get(pid >>> SHIFT);
      int vpid = pid & ((1 << SHIFT) - 1);
      if (space == null || vpid == 0 || vpid >= pidMax || !space.used[vpid]) {
        return ERROR;
      }
      space.used[vpid] = false;
      return "ok";
    }
  }
}
