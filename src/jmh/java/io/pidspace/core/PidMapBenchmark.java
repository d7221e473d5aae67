package io.pidspace.core;

import io.pidspace.baseline.SeedPidmap;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Steady-state allocator cost: {@link PidMap}, owned by one thread the way one PidSpace actor owns
 * it, against the seed's design in {@link SeedPidmap} (one shared bitmap, atomic test-and-set, one
 * shared {@code last_pid}). Each map is pre-filled to half of {@code pid_max}; one operation then
 * allocates one vpid and frees one random vpid its thread holds, so the live count stays at half.
 *
 * <p>At 2 threads the two designs are used as they would be in production, which is the point of
 * the comparison: each PidMap thread has a map of its own in its own space (spaces 1 and 2, as two
 * PidSpace actors would), each half full; the SeedPidmap threads share one map, as the kernel's
 * CPUs share {@code pidmap_array} and {@code last_pid}, half full, each thread freeing only vpids it
 * allocated itself. Scores are total operations per second over all threads.
 *
 * <p>Run from the project directory (the results and the configuration used are in
 * docs/benchmarks.md):
 *
 * <pre>
 * mvn -B -q -Pjmh test-compile exec:exec -Djmh.args="PidMapBenchmark -f 1 -wi 2 -i 3 -w 2s -r 2s"
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class PidMapBenchmark {

  @Param({"32768", "4194304"})
  int pidMax;

  @Benchmark
  @Threads(1)
  public int pidMap_1thread(OwnSpace space) {
    return space.allocAndFree();
  }

  @Benchmark
  @Threads(2)
  public int pidMap_2threads(OwnSpace space) {
    return space.allocAndFree();
  }

  @Benchmark
  @Threads(1)
  public int seedPidmap_1thread(SeedShare share) {
    return share.allocAndFree();
  }

  @Benchmark
  @Threads(2)
  public int seedPidmap_2threads(SeedShare share) {
    return share.allocAndFree();
  }

  /** One thread's own PidMap, in its own space, and the vpids the thread holds. */
  @State(Scope.Thread)
  public static class OwnSpace {
    private PidMap map;
    private Held held;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params, ThreadParams thread) {
      int pidMax = Integer.parseInt(params.getParam("pidMax"));
      map = PidMap.create(PidLayout.DEFAULT, 1 + thread.getThreadIndex(), pidMax);
      int[] vpids = new int[pidMax / 2];
      map.alloc(vpids.length, vpids);
      held = new Held(vpids, thread.getThreadIndex());
    }

    int allocAndFree() {
      int v = map.alloc();
      map.free(held.swap(v));
      return v;
    }
  }

  /** The one SeedPidmap all threads share, half full. */
  @State(Scope.Benchmark)
  public static class SharedSeed {
    private SeedPidmap map;
    private int[] prefilled;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
      int pidMax = Integer.parseInt(params.getParam("pidMax"));
      map = new SeedPidmap(1, pidMax);
      prefilled = new int[pidMax / 2];
      for (int i = 0; i < prefilled.length; i++) {
        prefilled[i] = map.alloc();
      }
    }
  }

  /** One thread's share of the vpids pre-filled into the shared SeedPidmap. */
  @State(Scope.Thread)
  public static class SeedShare {
    private SeedPidmap map;
    private Held held;

    @Setup(Level.Trial)
    public void setUp(SharedSeed shared, ThreadParams thread) {
      int n = shared.prefilled.length;
      int i = thread.getThreadIndex();
      int threads = thread.getThreadCount();
      map = shared.map;
      held = new Held(Arrays.copyOfRange(shared.prefilled, n * i / threads, n * (i + 1) / threads), i);
    }

    int allocAndFree() {
      int v = map.alloc();
      map.free(held.swap(v));
      return v;
    }
  }

  /** The live vpids one thread holds; a cheap xorshift picks which one to give back. */
  static final class Held {
    private final int[] vpids;
    private int random;

    Held(int[] vpids, int seed) {
      this.vpids = vpids;
      this.random = 0x9E3779B9 * (seed + 1);
    }

    /** Puts {@code vpid} in a random slot and returns the vpid it replaces. */
    int swap(int vpid) {
      random ^= random << 13;
      random ^= random >>> 17;
      random ^= random << 5;
      int slot = (int) (((random & 0xFFFF_FFFFL) * vpids.length) >>> 32);
      int old = vpids[slot];
      vpids[slot] = vpid;
      return old;
    }
  }
}
