package io.pidspace.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class VirtualStormTest {

  private static final String[] SMALL = {
    "--clock", "virtual", "--containers", "4", "--rate", "500", "--burst", "100", "--burst-every", "1s",
    "--lifetime-mean", "1s", "--container-lifetime", "10s", "--duration", "1m", "--pid-max", "4096"};

  private static StormReport report(String... extra) {
    String[] args = Stream.concat(Arrays.stream(SMALL), Arrays.stream(extra))
        .toArray(String[]::new);
    StormOptions options = Args.options(args);
    return Storm.run(options, () -> { throw new AssertionError("the virtual clock drives no target"); }, Progress.NONE,
        Storm.TO_THE_END);
  }

  @Test
  void sameSeed_sameSummaryAndJsonByteForByte() {
    StormReport a = report("--seed", "7");
    StormReport b = report("--seed", "7");
    assertEquals(Summary.of(a), Summary.of(b));
    assertEquals(a.toJson(true), b.toJson(true));
  }

  @Test
  void otherSeed_otherRun() {
    assertNotEquals(Summary.of(report("--seed", "7")), Summary.of(report("--seed", "8")));
  }

  @Test
  void everyAllocIsFreedByExitOrByItsContainersEnd() {
    for (String lifetime : new String[] {"fixed", "exponential", "pareto"}) {
      StormReport.Run run = report("--lifetime", lifetime).runs().get(0);
      StormReport.Counts c = run.counts();
      assertTrue(c.allocs() > 0, lifetime);
      assertEquals(c.forks(), c.allocs() + c.exhausted(), lifetime);
      assertEquals(c.allocs(), c.frees() + c.diedWithContainer(), lifetime);
      assertEquals(c.containersCreated(), c.containersDestroyed(), lifetime);
      assertTrue(c.containersCreated() > 4, "containers churn: " + c.containersCreated());
      assertEquals(0, c.errors());
    }
  }

  @Test
  void aSpaceTooSmall_exhaustsAndSaysWhenFirst() {
    StormReport.Run run = report("--pid-max", "301", "--containers", "1").runs().get(0);
    StormReport.Capacity cap = run.capacity();
    assertTrue(run.counts().exhausted() > 0);
    assertNotNull(cap.firstExhaustionSeconds());
    assertEquals(300, cap.peak(), "vpids 1..300 of a container's space");
    assertTrue(cap.mean() <= cap.peak());
  }

  @Test
  void aSpaceLargeEnough_neverExhausts() {
    StormReport.Capacity cap = report().runs().get(0).capacity();
    assertNull(cap.firstExhaustionSeconds());
    assertTrue(cap.peak() < 4096 && cap.peak() > 0);
    assertEquals(4, cap.slots().size());
  }

  @Test
  void reuseDistance_isMeasuredAcrossContainersOfTheSameSpaceId() {
    StormReport.Reuse reuse = report().runs().get(0).capacity().reuse();
    assertTrue(reuse.count() > 0);
    assertTrue(reuse.minSeconds() <= reuse.p50Seconds() && reuse.p50Seconds() <= reuse.maxSeconds());
    assertEquals(reuse.count(), reuse.buckets().stream().mapToLong(StormReport.Bucket::count).sum());
  }
}
