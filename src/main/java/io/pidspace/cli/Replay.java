package io.pidspace.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.PidLayout;
import io.pidspace.core.Failures;
import io.pidspace.core.PidspaceException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The trace interpreter of DESIGN.md §6: one answer line per command, in command order, through
 * the real registry, router and spaces.
 *
 * <p>Allocs and frees are pipelined (up to {@code pidspace.replay.window} in flight): they all
 * pass through the one {@code PidRouter}, which keeps their order per space. Space creates and
 * destroys go through the registry on another path, so they wait for everything before them and
 * everything after them waits for them. Each command thus sees the effect of all earlier ones.
 */
final class Replay {

  private static final CompletableFuture<String> END = new CompletableFuture<>();
  private static final Pattern WHITESPACE = Pattern.compile("\\s+"); // compiled once, not per line

  private final Config config;
  private PidAuthority authority;
  private Integer pidMax;
  private Semaphore window;
  private int windowSize;

  /** @param config the config the authority starts with; {@code pid-max} lines add to it */
  Replay(Config config) {
    this.config = config;
  }

  /** Answers every command of {@code in} on {@code out}; returns when {@code in} ends. */
  void run(BufferedReader in, Writer out) throws IOException, InterruptedException {
    BlockingQueue<CompletableFuture<String>> answers = new LinkedBlockingQueue<>();
    Thread writer = new Thread(() -> writeAnswers(answers, out), "replay-writer");
    writer.start();
    try {
      String line;
      while ((line = in.readLine()) != null) {
        int hash = line.indexOf('#');
        String text = (hash >= 0 ? line.substring(0, hash) : line).strip();
        if (!text.isEmpty()) {
          answers.put(answer(WHITESPACE.split(text)));
        }
      }
    } finally {
      answers.put(END);
      writer.join();
      if (authority != null) {
        authority.close();
      }
    }
  }

  private CompletableFuture<String> answer(String[] words) {
    try {
      return dispatch(words).toCompletableFuture().exceptionally(Replay::describe);
    } catch (PidspaceException e) {
      return CompletableFuture.completedFuture(describe(e));
    }
  }

  private CompletionStage<String> dispatch(String[] words) {
    String command = words[0];
    switch (command) {
      case "pid-max" -> {
        expectArgs(words, 1, "pid-max N");
        if (authority != null) {
          throw PidspaceException.badRequest("pid-max must come before any other command");
        }
        pidMax = layout().checkPidMax(number(words[1]));
        return CompletableFuture.completedFuture("ok");
      }
      case "space-create" -> {
        if (words.length > 2) {
          expectArgs(words, 1, "space-create [ID]");
        }
        // checked here: -1 is the facade's "any id", but in a trace it is an id out of range
        int id = words.length == 2 ? layout().checkSpace((int) number(words[1])) : PidAuthority.ANY_ID;
        return alone(a -> (words.length == 2 ? a.createSpace(id) : a.createSpace())
            .thenApply(stats -> Integer.toString(stats.space())));
      }
      case "space-destroy" -> {
        expectArgs(words, 1, "space-destroy ID");
        int id = (int) number(words[1]);
        return alone(a -> a.destroySpace(id).thenApply(done -> "ok"));
      }
      case "alloc" -> {
        expectArgs(words, 1, "alloc ID");
        int space = (int) number(words[1]);
        return pipelined(started().alloc(space).thenApply(String::valueOf).exceptionally(e -> {
          PidspaceException refusal = unwrap(e);
          if (refusal != null && refusal.code() == PidspaceException.Code.SPACE_EXHAUSTED) {
            return "-1";
          }
          throw e instanceof CompletionException ce ? ce : new CompletionException(e);
        }));
      }
      case "alloc-at" -> {
        expectArgs(words, 2, "alloc-at ID VPID");
        int space = (int) number(words[1]);
        int vpid = (int) number(words[2]);
        // through the same router as alloc and free, so it keeps its place among them
        return pipelined(started().allocAt(space, new int[] {vpid}, 0).thenApply(pids -> String.valueOf(pids[0])));
      }
      case "free" -> {
        expectArgs(words, 1, "free PID");
        int pid = layout().checkPid(number(words[1]));
        return pipelined(started().free(pid).thenApply(done -> "ok"));
      }
      default -> throw PidspaceException.badRequest(
          "unknown command '" + command + "' (pid-max, space-create, space-destroy, alloc, alloc-at, free)");
    }
  }

  /** The authority cannot start (e.g. its journal cannot be opened): replay stops with this message. */
  static final class CannotStart extends RuntimeException {
    CannotStart(RuntimeException cause) {
      super(cause.getMessage(), cause);
    }
  }

  private PidAuthority started() {
    if (authority == null) {
      Config c = pidMax == null ? config : config.withValue("pidspace.pid-max", ConfigValueFactory.fromAnyRef(pidMax));
      try {
        authority = PidAuthority.start(c);
      } catch (RuntimeException e) {
        throw new CannotStart(e);
      }
      windowSize = authority.settings().replayWindow();
      window = new Semaphore(windowSize);
    }
    return authority;
  }

  private PidLayout layout() {
    return authority != null
        ? authority.layout()
        : new PidLayout(ConfigFactory.load(config).getInt("pidspace.shift"));
  }

  /** A request that may overlap with its neighbours; at most the window in flight. */
  private CompletionStage<String> pipelined(CompletionStage<String> request) {
    window.acquireUninterruptibly();
    return request.whenComplete((v, e) -> window.release());
  }

  /** A request that runs with nothing else in flight: earlier ones finish first, later ones wait. */
  private CompletionStage<String> alone(Function<PidAuthority, CompletionStage<String>> request) {
    PidAuthority a = started();
    window.acquireUninterruptibly(windowSize);
    try {
      CompletableFuture<String> answer = request.apply(a).toCompletableFuture();
      answer.handle((v, e) -> v).join(); // waits; cannot throw
      return answer;
    } finally {
      window.release(windowSize);
    }
  }

  private static void expectArgs(String[] words, int n, String usage) {
    if (words.length != n + 1) {
      throw PidspaceException.badRequest("'" + String.join(" ", words) + "' does not match: " + usage);
    }
  }

  /**
   * A number of the trace format: one or more ASCII digits, nothing else (DESIGN.md §6). Checked
   * by hand because {@code Long.parseLong} also takes a sign and the digits of every script
   * ({@code +1}, {@code ١}). Ids and pids are range-checked by whoever takes them.
   */
  private static long number(String word) {
    if (word.isEmpty() || !word.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw PidspaceException.badRequest("a number is one or more ASCII digits 0-9, with no sign or prefix");
    }
    long value = 0;
    for (int i = 0; i < word.length(); i++) {
      value = Math.min(value * 10 + (word.charAt(i) - '0'), 1L + Integer.MAX_VALUE); // capped: never overflows
    }
    if (value > Integer.MAX_VALUE) {
      throw PidspaceException.outOfRange("a number above " + Integer.MAX_VALUE + " is outside the range of a pid");
    }
    return value;
  }

  /** The refusal that failed a stage, or null when something else did. */
  private static PidspaceException unwrap(Throwable e) {
    return Failures.unwrap(e) instanceof PidspaceException p ? p : null;
  }

  private static String describe(Throwable e) {
    PidspaceException refusal = unwrap(e);
    return refusal != null ? "error: " + refusal.code().wire() + ": " + refusal.getMessage() : "error: " + Failures.unwrap(e);
  }

  /** Writes answers in command order; flushes whenever the next answer is not ready yet. */
  private static void writeAnswers(BlockingQueue<CompletableFuture<String>> answers, Writer out) {
    try {
      for (CompletableFuture<String> next = answers.take(); next != END; next = answers.take()) {
        out.write(next.join());
        out.write('\n');
        CompletableFuture<String> following = answers.peek();
        if (following == null || !following.isDone()) {
          out.flush();
        }
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
