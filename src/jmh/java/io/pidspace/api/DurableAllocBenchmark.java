package io.pidspace.api;

import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Durable allocations per second: 64 concurrent requesters, each allocating one pid at a time
 * and waiting for it, on one space or spread over 16, with an H2 file journal. {@code
 * groupCommit=true} is pidspace as configured by default; {@code false} is the single-write
 * baseline (one journal write per alloc). Each pid is freed again through a batch free every
 * 1,000 allocs, so the space never runs out. {@code reservation=16384} answers allocs inside a
 * stored range without a write each (a node's default).
 *
 * <p>Issue 10's embedded goals: {@code allocThenFree} with {@code spaces=1} (64 chains on one
 * space) and {@code spaces=16} (64 chains spread at random over 16 spaces, about 4 each), and
 * {@code allocBatchThenFree} (alloc(64) then a batch free of them, 8 in flight).
 * {@code asyncChains} and {@code asyncBatches} run the same chains composed on the answers rather
 * than on blocked threads.
 *
 * <pre>
 * mvn -B -q -Pjmh test-compile exec:exec -Djmh.args="DurableAllocBenchmark -f 1 -wi 6 -w 10s -i 3 -r 10s"
 * mvn -B -q -Pjmh test-compile exec:exec -Djmh.args="DurableAllocBenchmark.allocThenFree -p groupCommit=true -f 1 -wi 2 -i 3 -r 5s"
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(64)
public class DurableAllocBenchmark {

  @Param({"1", "16"})
  int spaces;

  @Param({"true", "false"})
  boolean groupCommit;

  /** {@code pidspace.reservation}: 0 (the library's default) or a node's 16,384. */
  @Param({"0", "16384"})
  int reservation;

  PidAuthority authority;
  Path dataDir;

  @Setup(Level.Trial)
  public void start() throws Exception {
    dataDir = Files.createTempDirectory("pidspace-bench");
    authority = PidAuthority.start(ConfigFactory.parseMap(Map.of(
        "pidspace.persistence", "jdbc",
        "pidspace.data-dir", dataDir.toString(),
        "pidspace.group-commit", groupCommit,
        "pidspace.reservation", reservation,
        "pidspace.pid-max", 4_194_304)));
    for (int i = 1; i < spaces; i++) {
      authority.createSpace(i, 4_194_304).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    authority.close();
    // an H2 journal grows by tens of MB a second under this load: a gigabyte a trial
    try (var files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
  }

  /** Per requester: the pids it holds, freed in one batch every 1,000. */
  @State(Scope.Thread)
  public static class Held {
    final int[] pids = new int[1_000];
    int n;
  }

  @Benchmark
  public int alloc(Held held) throws Exception {
    int space = randomSpace();
    int pid = authority.alloc(space).toCompletableFuture().get(30, TimeUnit.SECONDS);
    held.pids[held.n++] = pid;
    if (held.n == held.pids.length) {
      authority.free(held.pids).toCompletableFuture().get(30, TimeUnit.SECONDS);
      held.n = 0;
    }
    return pid;
  }

  /** One alloc -> free chain per requester: the pid is freed as soon as it is answered. Score: pairs/s. */
  @Benchmark
  public int allocThenFree() throws Exception {
    int space = randomSpace();
    int pid = authority.alloc(space).toCompletableFuture().get(30, TimeUnit.SECONDS);
    authority.free(pid).toCompletableFuture().get(30, TimeUnit.SECONDS);
    return pid;
  }

  /** For {@link #asyncChains}. */
  static final int CHAINS = 64;
  static final int PAIRS_PER_CHAIN = 200;

  /**
   * The same 64 alloc -> free chains as {@link #allocThenFree}, composed on the answers instead
   * of 64 threads that block: how a caller on Akka uses the facade. One invocation runs each
   * chain for 200 pairs, all 64 at once. Score: pairs/s.
   */
  @Benchmark
  @Threads(1)
  @OperationsPerInvocation(CHAINS * PAIRS_PER_CHAIN)
  public void asyncChains() throws Exception {
    runChains(CHAINS, PAIRS_PER_CHAIN, () -> authority.alloc(randomSpace()).thenCompose(authority::free));
  }

  /**
   * alloc(64), then one batch free of the 64, by 8 requesters at once (8 batches in flight).
   * Score: pids/s (each invocation counts 64).
   */
  @Benchmark
  @Threads(8)
  @OperationsPerInvocation(64)
  public int allocBatchThenFree() throws Exception {
    int[] pids = authority.alloc(randomSpace(), 64).toCompletableFuture().get(30, TimeUnit.SECONDS);
    checkBatch(pids, authority.free(pids).toCompletableFuture().get(30, TimeUnit.SECONDS));
    return pids.length;
  }

  /** For {@link #asyncBatches}. */
  static final int BATCH_CHAINS = 8;
  static final int ROUNDS_PER_CHAIN = 100;

  /**
   * The same alloc(64) -> free of the 64, 8 in flight, as {@link #allocBatchThenFree}, composed on
   * the answers instead of 8 threads that block. Score: pids/s (each round counts 64).
   */
  @Benchmark
  @Threads(1)
  @OperationsPerInvocation(BATCH_CHAINS * ROUNDS_PER_CHAIN * 64)
  public void asyncBatches() throws Exception {
    runChains(BATCH_CHAINS, ROUNDS_PER_CHAIN, () -> authority.alloc(randomSpace(), 64)
        .thenCompose(pids -> authority.free(pids).thenAccept(freed -> checkBatch(pids, freed))));
  }

  private int randomSpace() {
    return ThreadLocalRandom.current().nextInt(spaces);
  }

  private static void checkBatch(int[] pids, FreeResult freed) {
    if (pids.length != 64 || !freed.refused().isEmpty()) {
      throw new IllegalStateException("alloc(64) answered " + pids.length + " pids, free refused " + freed.refused());
    }
  }

  /** {@code chains} chains at once, each {@code rounds} rounds long, and waits for all of them. */
  private static void runChains(int chains, int rounds, Supplier<CompletionStage<?>> round) throws Exception {
    CompletableFuture<?>[] running = new CompletableFuture<?>[chains];
    for (int c = 0; c < chains; c++) {
      running[c] = chain(rounds, round).toCompletableFuture();
    }
    CompletableFuture.allOf(running).get(60, TimeUnit.SECONDS);
  }

  /** Each next round starts in the stage of the last one's answer: short, and never blocks. */
  private static CompletionStage<?> chain(int rounds, Supplier<CompletionStage<?>> round) {
    return rounds == 0
        ? CompletableFuture.completedFuture(null)
        : round.get().thenCompose(done -> chain(rounds - 1, round));
  }
}
