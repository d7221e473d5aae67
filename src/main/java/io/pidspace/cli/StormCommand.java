package io.pidspace.cli;

import io.pidspace.core.Durations;
import io.pidspace.core.PidspaceException;
import io.pidspace.storm.HtmlReport;
import io.pidspace.storm.Progress;
import io.pidspace.storm.Storm;
import io.pidspace.storm.StormOptions;
import io.pidspace.storm.StormReport;
import io.pidspace.storm.StormTarget;
import io.pidspace.storm.Summary;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "storm",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Fork-storm simulator: containers are created and torn down, their processes fork and exit.",
      "--clock real drives pidspace's actors and measures throughput and latency; --clock virtual simulates "
          + "hours of the allocator core in seconds and answers capacity questions. On a terminal a progress bar "
          + "goes to stderr; the summary goes to stdout (to stderr with --json -). Ctrl-C stops the storm and "
          + "prints the summary of what ran. A duration is a whole number and ms, s, m or h: 500ms, 15s, 10m, 2h.",
    })
public final class StormCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--clock", paramLabel = "real|virtual", defaultValue = "real",
      description = "real: drive pidspace's actors; virtual: simulate its core (default: ${DEFAULT-VALUE}).")
  StormOptions.Clock clock;

  @Option(names = "--containers", paramLabel = "N", defaultValue = "16", description = "Containers alive at once, 1..511 (default: ${DEFAULT-VALUE}).")
  int containers;

  @Option(names = "--forkers", paramLabel = "N", defaultValue = "4", description = "Forker actors per container, real clock (default: ${DEFAULT-VALUE}).")
  int forkers;

  @Option(names = "--pid-max", paramLabel = "N", defaultValue = "32768", description = "pid_max of each container's space (default: ${DEFAULT-VALUE}).")
  int pidMax;

  @Option(names = "--loop", paramLabel = "open|closed", defaultValue = "open",
      description = "open: forks arrive at --rate; closed: each forker forks again when answered, real clock (default: ${DEFAULT-VALUE}).")
  StormOptions.Loop loop;

  @Option(names = "--rate", paramLabel = "FORKS_PER_S", defaultValue = "1000", description = "Forks per second per container, open loop (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--burst", paramLabel = "N", defaultValue = "500", description = "Extra forks per container at once, every --burst-every; 0 for none (default: ${DEFAULT-VALUE}).")
  int burst;

  @Option(names = "--burst-every", paramLabel = "DURATION", defaultValue = "2s", converter = Seconds.class,
      description = "How often a burst comes, from each container's start (default: ${DEFAULT-VALUE}).")
  double burstEvery;

  @Option(names = "--lifetime", paramLabel = "fixed|exponential|pareto", defaultValue = "exponential",
      description = "Process lifetime distribution (default: ${DEFAULT-VALUE}).")
  StormOptions.Lifetime lifetime;

  @Option(names = "--lifetime-mean", paramLabel = "DURATION", defaultValue = "2s", converter = Seconds.class, description = "Mean process lifetime (default: ${DEFAULT-VALUE}).")
  double lifetimeMean;

  @Option(names = "--pareto-shape", paramLabel = "SHAPE", defaultValue = "1.5", description = "Tail index of pareto lifetimes, above 1 (default: ${DEFAULT-VALUE}).")
  double paretoShape;

  @Option(names = "--container-lifetime", paramLabel = "DURATION", defaultValue = "5s", converter = Seconds.class,
      description = "How long a container lives before its space is destroyed and a new container takes its place (default: ${DEFAULT-VALUE}).")
  double containerLifetime;

  @Option(names = "--duration", paramLabel = "DURATION", converter = Seconds.class, description = "Length of the storm (default: 15s real, 10m virtual).")
  Double duration;

  @Option(names = "--warmup", paramLabel = "DURATION", converter = Seconds.class,
      description = "Real clock: run the workload this long first, not counted, while the JIT compiles; 0 for none (default: 5s real, 0 virtual).")
  Double warmup;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of every random draw (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--persistence", paramLabel = "none|jdbc", defaultValue = "none",
      description = "Real clock target: pidspace in memory (none, default) or durable on an H2 file journal (jdbc).")
  String persistence;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Journal directory with --persistence jdbc (default: a new temporary one).")
  Path dataDir;

  @Option(names = "--url", paramLabel = "URL", description = "Real clock target: a running cluster, through these nodes' HTTP API (repeatable).")
  List<String> urls;

  @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:PIDSPACE_TOKEN}", description = "Bearer token for --url nodes (default: $PIDSPACE_TOKEN).")
  String token;

  @Option(names = "--no-keys", description = "With --url: send allocs without idempotency keys and never retry them, "
      + "as before keys (a keyed alloc is always stored before its answer, so it bypasses the node's reservation).")
  boolean noKeys;

  @Option(names = "--compare", description = "Run the same workload on the baseline (the seed's pidmap in plain Java) too, and print the ratio.")
  boolean compare;

  @Option(names = "--json", paramLabel = "FILE", description = "Write every figure as JSON; - for stdout (the summary then goes to stderr).")
  String json;

  @Option(names = "--report", paramLabel = "FILE.html", description = "Write a self-contained HTML report with charts.")
  Path report;

  @Option(names = "--no-progress", description = "No progress bar on stderr (there is none unless stderr is a terminal).")
  boolean noProgress;

  /** The journal directory this command made (no --data-dir), deleted when it ends. */
  private Path tempDataDir;

  /** The options as given; a bad one is a usage error that names it. */
  public StormOptions options() {
    double seconds = duration != null ? duration : clock == StormOptions.Clock.VIRTUAL ? 600 : 15;
    double warmupSeconds = warmup != null ? warmup : clock == StormOptions.Clock.VIRTUAL ? 0 : 5;
    try {
      return new StormOptions(clock, containers, forkers, pidMax, loop, rate, burst, burstEvery, lifetime,
          lifetimeMean, paretoShape, containerLifetime, seconds, warmupSeconds, seed, compare);
    } catch (PidspaceException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  @Override
  public Integer call() throws IOException {
    StormOptions options = options();
    Supplier<StormTarget> target = target();
    StormReport.Meta meta = new StormReport.Meta(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
        PidspaceVersion.get(), commandLine());
    PrintWriter err = spec.commandLine().getErr();
    boolean jsonToStdout = "-".equals(json);
    // Ctrl-C: the storm ends as at the end of its duration and the summary of what ran is printed;
    // the JVM exits once that is done (the hook waits for it).
    CompletableFuture<Void> stop = new CompletableFuture<>();
    CountDownLatch reported = new CountDownLatch(1);
    Thread onCtrlC = new Thread(() -> {
      err.println("pidspace storm: stopping early (waiting up to 30 s for the containers to end): "
          + "the summary covers the part that ran");
      err.flush();
      stop.complete(null);
      try {
        reported.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "storm-ctrl-c");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    try {
      StormReport result;
      try {
        Progress.Factory progress = noProgress || System.console() == null ? Progress.NONE : Progress.onStderr();
        result = Storm.run(options, target, progress, stop).withMeta(meta);
      } catch (PidspaceException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      } catch (IllegalStateException e) { // a container or forker failed: say why, without a stack trace
        err.print("storm aborted:");
        for (Throwable t = e; t != null; t = t.getCause()) {
          err.print(" " + t.getMessage() + (t.getCause() != null ? ":" : ""));
        }
        err.println();
        err.flush();
        return 1;
      }
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter summary = jsonToStdout ? err : out;
      summary.print(Summary.of(result));
      summary.flush();
      if (jsonToStdout) {
        out.println(result.toJson(true));
        out.flush();
      } else if (json != null) {
        Files.writeString(Path.of(json), result.toJson(true) + "\n", StandardCharsets.UTF_8);
      }
      if (report != null) {
        Files.writeString(report, HtmlReport.of(result), StandardCharsets.UTF_8);
      }
      return result.runs().stream().allMatch(r -> r.counts().errors() == 0) ? 0 : 1;
    } finally {
      deleteTempDataDir();
      reported.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(onCtrlC);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C came: the hook is running and ends now that the summary is out
      }
    }
  }

  private void deleteTempDataDir() {
    if (tempDataDir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(tempDataDir)) {
      for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException | UncheckedIOException e) { // the summary is out: say what is left, not fail
      spec.commandLine().getErr().println("pidspace storm: could not delete the journal in " + tempDataDir + ": " + e);
      spec.commandLine().getErr().flush();
    }
  }

  /** The command line as typed, for the report: arguments quoted where a shell would need it. */
  private String commandLine() {
    StringBuilder line = new StringBuilder("pidspace storm");
    List<String> args = spec.commandLine().getParseResult().originalArgs();
    if (spec.parent() != null) { // run as `pidspace storm`: the arguments after the subcommand's name
      args = args.subList(args.indexOf(spec.name()) + 1, args.size());
    }
    for (String arg : args) {
      line.append(' ').append(arg.matches("[A-Za-z0-9_./:=@%+,-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'");
    }
    return line.toString();
  }

  /**
   * Which allocator the real clock drives, as --url, --persistence and --data-dir say; making it
   * says so on stderr, since a one-node cluster takes seconds to form before the storm starts.
   */
  private Supplier<StormTarget> target() throws IOException {
    if (urls != null && !urls.isEmpty()) {
      if (!persistence.equals("none") || dataDir != null) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--url drives a running cluster: its nodes choose their persistence, so --persistence and --data-dir do not apply");
      }
      return starting("checking that every node answers: " + String.join(", ", urls),
          () -> StormTarget.cluster(urls, token, !noKeys));
    }
    switch (persistence) {
      case "none" -> {
        return starting("starting pidspace in memory (forming its one-node cluster)", StormTarget::inMemory);
      }
      case "jdbc" -> {
        if (dataDir != null) {
          return starting("starting pidspace durable, journal in " + dataDir + " (forming its one-node cluster)",
              () -> StormTarget.durable(dataDir));
        }
        // a busy storm writes hundreds of megabytes of journal: a directory of our own goes at the end
        tempDataDir = Files.createTempDirectory("pidspace-storm");
        return starting("starting pidspace durable, journal in " + tempDataDir
            + " (deleted at the end; forming its one-node cluster)", () -> StormTarget.durable(tempDataDir));
      }
      default -> throw new CommandLine.ParameterException(spec.commandLine(),
          "--persistence is '" + persistence + "'; it must be none or jdbc");
    }
  }

  private Supplier<StormTarget> starting(String what, Supplier<StormTarget> make) {
    return () -> {
      PrintWriter err = spec.commandLine().getErr();
      err.println("pidspace storm: " + what + " ...");
      err.flush();
      return make.get();
    };
  }

  /**
   * A duration of {@link Durations}, in seconds. A sign is taken too, so that StormOptions refuses
   * a negative one by its value rather than as no duration at all.
   */
  static final class Seconds implements CommandLine.ITypeConverter<Double> {
    @Override
    public Double convert(String text) {
      boolean negative = text.startsWith("-");
      return Durations.parse(negative ? text.substring(1) : text)
          .map(d -> (negative ? -1 : 1) * (d.getSeconds() + d.getNano() / 1e9))
          .orElseThrow(() -> new CommandLine.TypeConversionException(
              "'" + text + "' is not a duration such as 500ms, 15s, 10m or 2h"));
    }
  }
}
