package io.pidspace.baseline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pidspace.core.PidLayout;
import io.pidspace.core.PidMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The benchmark baseline must allocate by the same rule as PidMap, or the comparison is void. */
class SeedPidmapTest {

  @ParameterizedTest(name = "space {0}, pid_max {1}")
  @CsvSource({"0, 301", "0, 40000", "7, 301", "7, 40000"})
  void alloc_singleThreadedGivesTheSameSequenceAsPidMap(int space, int pidMax) {
    SeedPidmap seed = new SeedPidmap(space, pidMax);
    PidMap map = PidMap.create(PidLayout.DEFAULT, space, pidMax);
    Random rnd = new Random(pidMax + space);
    int[] live = new int[pidMax];
    int n = 0;
    for (int op = 0; op < 100_000; op++) {
      // three allocs to one free: the space fills, wraps and runs out
      if (n == 0 || rnd.nextInt(4) > 0) {
        int v = map.alloc();
        assertEquals(v, seed.alloc(), "op " + op);
        if (v != PidMap.NONE) {
          live[n++] = v;
        }
      } else {
        int i = rnd.nextInt(n);
        int v = live[i];
        live[i] = live[--n];
        map.free(v);
        assertTrue(seed.free(v), "op " + op);
        assertFalse(seed.free(v), "op " + op);
      }
    }
  }

  @Test
  void alloc_concurrentThreadsNeverHandOutALiveVpidTwice() throws Exception {
    int pidMax = 40_000;
    int threads = 4;
    SeedPidmap seed = new SeedPidmap(7, pidMax);
    AtomicIntegerArray holder = new AtomicIntegerArray(pidMax); // 0: free, else thread number
    Queue<String> problems = new ConcurrentLinkedQueue<>();
    CyclicBarrier phase = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 1; t <= threads; t++) {
        int me = t;
        done.add(pool.submit(() -> {
          // churn: each thread keeps its last 1,000 vpids live and frees the oldest
          int[] mine = new int[1_000];
          phase.await();
          for (int i = 0; i < 100_000; i++) {
            int slot = i % mine.length;
            if (i >= mine.length) {
              holder.set(mine[slot], 0);
              if (!seed.free(mine[slot])) {
                problems.add("thread " + me + " could not free its vpid " + mine[slot]);
              }
            }
            mine[slot] = take(seed, holder, me, problems);
          }
          // then no frees: everyone allocates until the space is full
          phase.await();
          while (take(seed, holder, me, problems) != -1) {
            // keep taking
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of(), List.copyOf(problems));
    for (int v = 1; v < pidMax; v++) {
      assertTrue(holder.get(v) != 0, "vpid " + v + " was never handed out once full");
    }
  }

  private static int take(SeedPidmap seed, AtomicIntegerArray holder, int me, Queue<String> problems) {
    int v = seed.alloc();
    if (v != -1 && !holder.compareAndSet(v, 0, me)) {
      problems.add("vpid " + v + " handed to thread " + me + " while thread " + holder.get(v) + " holds it");
    }
    return v;
  }
}
