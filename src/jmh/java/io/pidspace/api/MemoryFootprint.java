package io.pidspace.api;

import com.typesafe.config.ConfigFactory;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Heap held by an in-memory authority with 512 spaces (space 0 and 511 created, pid_max 32,768)
 * and 1,000,000 live pids spread over them, after a full GC; against the same JVM's heap after
 * the authority started with space 0 only. Not a JMH benchmark: one measurement, printed.
 *
 * <pre>
 * mvn -B -q -Pjmh test-compile exec:exec -Djmh.mainClass=io.pidspace.api.MemoryFootprint -Djmh.args=
 * </pre>
 */
public final class MemoryFootprint {

  private static final int SPACES = 512;
  private static final int LIVE = 1_000_000;

  public static void main(String[] args) throws Exception {
    PidAuthority authority = PidAuthority.start(ConfigFactory.parseMap(Map.of("pidspace.pid-max", 32_768)));
    try {
      long before = usedAfterGc();
      for (int id = 1; id < SPACES; id++) {
        authority.createSpace(id, 32_768).toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      int perSpace = LIVE / SPACES;
      CompletableFuture<?>[] allocs = new CompletableFuture<?>[SPACES];
      for (int space = 0; space < SPACES; space++) {
        int count = perSpace + (space < LIVE % SPACES ? 1 : 0);
        allocs[space] = authority.alloc(space, count).toCompletableFuture();
      }
      CompletableFuture.allOf(allocs).get(60, TimeUnit.SECONDS);
      long live = 0;
      for (int space = 0; space < SPACES; space++) {
        live += authority.stats(space).toCompletableFuture().get(30, TimeUnit.SECONDS).allocated();
      }
      long after = usedAfterGc();
      System.out.printf("%d spaces, %,d live pids: heap %.1f MiB in use (%.1f MiB more than space 0 alone, %.1f MiB)%n",
          SPACES, live, after / 1048576.0, (after - before) / 1048576.0, before / 1048576.0);
    } finally {
      authority.close();
    }
  }

  private static long usedAfterGc() throws InterruptedException {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return memory.getHeapMemoryUsage().getUsed();
  }
}
