package io.pidspace.api;

import static io.pidspace.Stages.refusal;
import static io.pidspace.Stages.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.sharding.ShardRegion;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import io.pidspace.core.Handles;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException.Code;
import io.pidspace.core.SpaceStats;
import io.pidspace.space.SpaceService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The facade attached with {@link PidAuthority#get} to a caller's own one-node cluster: spaces
 * are sharded entities, the registry a singleton. Shift 24 leaves 128 space ids, so running out
 * of them is cheap. Tests create spaces with ids of their own ({@link #nextId}); a test that
 * takes the lowest free id gives it back.
 */
class PidAuthorityTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString("""
          akka.actor.provider = cluster
          akka.remote.artery.canonical.hostname = 127.0.0.1
          akka.remote.artery.canonical.port = 0
          akka.cluster.jmx.multi-mbeans-in-same-jvm = on
          pidspace.shift = 24
          """)
      .withFallback(ConfigFactory.load("application-test")));
  private static final PidAuthority authority = joinAndAttach(testKit.system());
  private static final PidLayout layout = authority.layout();
  private static final AtomicInteger nextId = new AtomicInteger(20);

  private static PidAuthority joinAndAttach(ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    return PidAuthority.get(system);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static int newSpace() {
    return newSpace(0);
  }

  private static int newSpace(int pidMax) {
    return value(authority.createSpace(nextId.getAndIncrement(), pidMax)).space();
  }

  @Test
  void get_sameSystem_answersSameAuthority() {
    assertSame(authority, PidAuthority.get(testKit.system()));
    assertSame(testKit.system(), authority.system());
    assertEquals(new PidLayout(24), layout);
    assertEquals(PidLayout.PID_MAX_DEFAULT, authority.settings().pidMax());
  }

  @Test
  void get_clusterProvider_runsSpacesAsShardedEntities() throws Exception {
    int space = newSpace();
    int pid = value(authority.alloc(space));

    ShardRegion.CurrentShardRegionState hosted = value(SpaceService.hostedShards(testKit.system(), Duration.ofSeconds(30)));
    assertTrue(hosted.getShards().stream().anyMatch(shard -> shard.getEntityIds().contains(Integer.toString(space))),
        "this node's shard region hosts the space as an entity");
    assertEquals(1, value(authority.stats(space)).allocated(), "the entity holds the pid the facade handed out");
    assertThrows(Exception.class, () -> Adapter.toClassic(testKit.system())
        .actorSelection("/system/pidspace-" + space).resolveOne(Duration.ofSeconds(5))
        .toCompletableFuture().get(30, TimeUnit.SECONDS), "no plain local actor for the space");
  }

  @Test
  void createSpace_withoutId_takesLowestFreeId() {
    Set<Integer> existing = value(authority.spaces()).stream().map(SpaceListing::id).collect(Collectors.toSet());
    int lowest = 1;
    while (existing.contains(lowest)) {
      lowest++;
    }

    SpaceStats created = value(authority.createSpace());

    assertEquals(new SpaceStats(lowest, PidLayout.PID_MAX_DEFAULT, 0, 1, 0), created);
    value(authority.destroySpace(lowest));
  }

  @Test
  void createSpace_withIdAndPidMax_startsFreshSpace() {
    int id = nextId.getAndIncrement();

    assertEquals(new SpaceStats(id, 1_000, 0, 1, 0), value(authority.createSpace(id, 1_000)));
    assertEquals(new SpaceStats(id, 1_000, 0, 1, 0), value(authority.stats(id)));
    int other = nextId.getAndIncrement();
    assertEquals(PidLayout.PID_MAX_DEFAULT, value(authority.createSpace(other)).pidMax());
  }

  @Test
  void alloc_answersGlobalPidsInNextFitOrder() {
    int space = newSpace();

    assertEquals(layout.encode(space, 2), value(authority.alloc(space)));
    assertArrayEquals(new int[] {layout.encode(space, 3), layout.encode(space, 4), layout.encode(space, 5)},
        value(authority.alloc(space, 3)));
    assertEquals(new SpaceStats(space, PidLayout.PID_MAX_DEFAULT, 4, 5, 1), value(authority.stats(space)));
  }

  @Test
  void freeAndLookup_singlePid() {
    int space = newSpace();
    int pid = value(authority.alloc(space));

    assertEquals(new PidInfo(pid, space, 2, true), value(authority.lookup(pid)));
    assertEquals(Done.getInstance(), value(authority.free(pid)));
    assertEquals(new PidInfo(pid, space, 2, false), value(authority.lookup(pid)));
    assertEquals(0, value(authority.stats(space)).allocated());
  }

  @Test
  void free_batch_freesValidPidsAndListsRefusals() {
    int a = newSpace();
    int b = newSpace();
    int[] inA = value(authority.alloc(a, 2));
    int inB = value(authority.alloc(b));
    int[] batch = {inA[0], inB, inA[0], -1};

    FreeResult result = value(authority.free(batch));

    int[] freed = result.freed().clone();
    Arrays.sort(freed);
    assertArrayEquals(new int[] {inA[0], inB}, freed);
    assertEquals(Set.of(inA[0] + " not-allocated", "-1 out-of-range"),
        result.refused().stream().map(r -> r.pid() + " " + r.code()).collect(Collectors.toSet()));
    assertEquals(1, value(authority.stats(a)).allocated());
    assertEquals(0, value(authority.stats(b)).allocated());
    assertArrayEquals(new int[] {inA[0], inB, inA[0], -1}, batch, "the caller's array is left alone");
  }

  @Test
  void spaces_listsEveryExistingSpaceWithItsStats() {
    int space = newSpace(500);
    value(authority.alloc(space, 7));

    Map<Integer, SpaceStats> byId = value(authority.spaces()).stream().map(SpaceListing::stats)
        .collect(Collectors.toMap(SpaceStats::space, s -> s));
    assertTrue(byId.containsKey(PidLayout.DEFAULT_SPACE));
    assertEquals(new SpaceStats(space, 500, 7, 8, 1), byId.get(space));

    value(authority.destroySpace(space));
    assertFalse(value(authority.spaces()).stream().anyMatch(s -> s.id() == space));
  }

  @Test
  void destroySpace_thenRequests_failWithUnknownSpaceUntilCreatedAgain() {
    int space = newSpace();
    int pid = value(authority.alloc(space));

    assertEquals(Done.getInstance(), value(authority.destroySpace(space)));

    assertEquals(Code.UNKNOWN_SPACE, refusal(authority.alloc(space)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(authority.free(pid)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(authority.lookup(pid)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(authority.stats(space)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(authority.destroySpace(space)));
    assertEquals(new SpaceStats(space, PidLayout.PID_MAX_DEFAULT, 0, 1, 0), value(authority.createSpace(space)));
    assertEquals(pid, value(authority.alloc(space)), "a fresh space starts at vpid 2 again");
  }

  @Test
  void alloc_spaceNeverCreated_failsWithUnknownSpace() {
    int space = nextId.getAndIncrement();

    assertEquals(Code.UNKNOWN_SPACE, refusal(authority.alloc(space)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(authority.free(layout.encode(space, 2))));
  }

  @Test
  void alloc_fullSpace_failsWithSpaceExhausted() {
    int space = newSpace(PidLayout.PID_MAX_MIN);

    assertEquals(200, value(authority.alloc(space, 200)).length);
    assertEquals(100, value(authority.alloc(space, 200)).length, "a batch stops early when the space runs out");
    assertEquals(Code.SPACE_EXHAUSTED, refusal(authority.alloc(space)));
    assertEquals(Code.SPACE_EXHAUSTED, refusal(authority.alloc(space, 5)));
  }

  @Test
  void free_notAllocatedOrReserved_failsWithItsCode() {
    int space = newSpace();
    int pid = value(authority.alloc(space));
    value(authority.free(pid));

    assertEquals(Code.NOT_ALLOCATED, refusal(authority.free(pid)));
    assertEquals(Code.RESERVED_PID, refusal(authority.free(0)));
    assertEquals(Code.RESERVED_PID, refusal(authority.free(layout.encode(space, 0))));
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.free(layout.encode(space, PidLayout.PID_MAX_DEFAULT))));
  }

  @Test
  void requests_outsideTheLayout_failWithOutOfRange() {
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.alloc(layout.maxSpaces())));
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.alloc(-1, 3)));
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.stats(layout.maxSpaces())));
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.free(-1)));
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.lookup(Integer.MIN_VALUE)));
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.createSpace(layout.maxSpaces())));
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.createSpace(nextId.get(), PidLayout.PID_MAX_MIN - 1)));
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.createSpace(nextId.get(), layout.pidMaxLimit() + 1)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(authority.stats(nextId.get())), "refused creates leave no space");
  }

  @Test
  void alloc_countOutsideOneToMaxBatch_failsWithBadRequest() {
    int space = newSpace();

    assertEquals(Code.BAD_REQUEST, refusal(authority.alloc(space, 0)));
    assertEquals(Code.BAD_REQUEST, refusal(authority.alloc(space, authority.settings().maxBatch() + 1)));
    assertEquals(0, value(authority.stats(space)).allocated());
  }

  @Test
  void createSpace_idInUse_failsWithSpaceIdInUse() {
    int space = newSpace();

    assertEquals(Code.SPACE_ID_IN_USE, refusal(authority.createSpace(space)));
    assertEquals(Code.SPACE_ID_IN_USE, refusal(authority.createSpace(PidLayout.DEFAULT_SPACE)));
  }

  @Test
  void destroySpace_defaultSpace_failsWithDefaultSpace() {
    assertEquals(Code.DEFAULT_SPACE, refusal(authority.destroySpace(PidLayout.DEFAULT_SPACE)));
    assertTrue(value(authority.alloc(PidLayout.DEFAULT_SPACE)) > 0);
  }

  @Test
  void createSpace_allIdsTaken_failsWithNoSpaceIdsLeft() {
    int free = layout.maxSpaces() - value(authority.spaces()).size();
    List<Integer> taken = new ArrayList<>();
    for (int i = 0; i < free; i++) {
      taken.add(value(authority.createSpace()).space());
    }

    assertEquals(Code.NO_SPACE_IDS_LEFT, refusal(authority.createSpace()));
    assertEquals(Code.SPACE_ID_IN_USE, refusal(authority.createSpace(taken.get(0))));
    for (int id : taken) {
      value(authority.destroySpace(id));
    }
    int again = value(authority.createSpace()).space();
    assertEquals(taken.get(0), again);
    value(authority.destroySpace(again));
  }

  @Test
  void close_ofCallersSystem_leavesItRunning() {
    authority.close();

    assertFalse(testKit.system().getWhenTerminated().toCompletableFuture().isDone());
    assertTrue(value(authority.alloc(PidLayout.DEFAULT_SPACE)) > 0);
  }

  @Test
  void start_runsOwnOneNodeClusterOnLocalhostUntilClosed() {
    PidAuthority own = PidAuthority.start(ConfigFactory.parseString("pidspace { pid-max = 1000, data-dir = /elsewhere }"));
    try {
      assertTrue(own.system().settings().config().getString("pidspace.jdbc.url").startsWith("jdbc:h2:file:/elsewhere/"),
          "the data dir reaches the journal's url");
      Cluster cluster = Cluster.get(own.system());
      assertEquals("127.0.0.1", cluster.selfMember().address().getHost().get());
      assertNotEquals(0, (int) cluster.selfMember().address().getPort().get());
      assertEquals(1_000, own.settings().pidMax());
      assertEquals(1, value(own.alloc(PidLayout.DEFAULT_SPACE)));
      assertEquals(1, value(own.createSpace()).space());
    } finally {
      own.close();
    }
    assertTrue(own.system().getWhenTerminated().toCompletableFuture().isDone());
  }

  /** The common Akka habit: a config that is already loaded (reference.conf inside) still starts. */
  @Test
  void start_withALoadedConfig_formsItsOwnClusterToo() {
    PidAuthority own = PidAuthority.start(ConfigFactory.parseString("pidspace.pid-max = 2000")
        .withFallback(ConfigFactory.load()));
    try {
      assertEquals("cluster", own.system().settings().config().getString("akka.actor.provider"));
      assertEquals(2_000, own.settings().pidMax());
      assertEquals(1, value(own.createSpace()).space());
    } finally {
      own.close();
    }
  }

  /**
   * Clients on their own threads, each allocating and freeing in several spaces at once. A pid
   * leaves {@code live} before its free is sent, so it is in {@code live} exactly while it is
   * allocated: a pid handed out twice would be added twice.
   */
  @Test
  void concurrentClients_onSeveralSpaces_neverShareALivePidAndCountsAddUp() throws Exception {
    int clients = 8;
    int stepsPerClient = 250;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<SpaceStats>> creates = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        creates.add(pool.submit(() -> value(authority.createSpace())));
      }
      int[] spaces = new int[creates.size()];
      for (int i = 0; i < spaces.length; i++) {
        spaces[i] = creates.get(i).get(30, TimeUnit.SECONDS).space();
      }
      assertEquals(spaces.length, Arrays.stream(spaces).distinct().count(), "concurrent creates got distinct ids");

      Set<Integer> live = ConcurrentHashMap.newKeySet();
      List<Future<?>> runs = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        Random random = new Random(c);
        runs.add(pool.submit(() -> runClient(random, spaces, stepsPerClient, live)));
      }
      for (Future<?> run : runs) {
        run.get(60, TimeUnit.SECONDS);
      }

      for (int space : spaces) {
        long mine = live.stream().filter(pid -> layout.spaceOf(pid) == space).count();
        assertEquals(mine, value(authority.stats(space)).allocated(), "live pids of space " + space);
        value(authority.destroySpace(space));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void runClient(Random random, int[] spaces, int steps, Set<Integer> live) {
    List<Integer> mine = new ArrayList<>();
    for (int step = 0; step < steps; step++) {
      int space = spaces[random.nextInt(spaces.length)];
      int action = random.nextInt(10);
      if (action < 4) {
        int pid = value(authority.alloc(space));
        assertTrue(live.add(pid), () -> "pid " + pid + " handed out while live");
        mine.add(pid);
      } else if (action < 6) {
        for (int pid : value(authority.alloc(space, 1 + random.nextInt(8)))) {
          assertTrue(live.add(pid), () -> "pid " + pid + " handed out while live");
          mine.add(pid);
        }
      } else if (action < 8 && !mine.isEmpty()) {
        int pid = mine.remove(random.nextInt(mine.size()));
        live.remove(pid);
        value(authority.free(pid));
      } else if (!mine.isEmpty()) {
        Set<Integer> some = new HashSet<>();
        for (int i = 0; i < 5 && !mine.isEmpty(); i++) {
          some.add(mine.remove(random.nextInt(mine.size())));
        }
        live.removeAll(some);
        FreeResult result = value(authority.free(some.stream().mapToInt(Integer::intValue).toArray()));
        assertEquals(some.size(), result.freed().length, () -> "refused: " + result.refused());
      }
    }
  }

  @Test
  void free_withTheHoldersGeneration_frees_withAStaleOne_isRefusedAndChangesNothing() {
    int space = newSpace();
    Handles first = value(authority.allocHandles(space, 2));
    assertArrayEquals(new int[] {layout.encode(space, 2), layout.encode(space, 3)}, first.pids());
    assertArrayEquals(new int[] {1, 1}, first.generations());
    int pid = first.pids()[0];
    value(authority.free(pid, first.generations()[0]));
    // The ABA: the same vpid handed out again, then the first handle's free retried.
    Handles again = value(authority.allocAtHandles(space, new int[] {2}, 0));
    assertArrayEquals(new int[] {2}, again.generations());
    assertEquals(Code.STALE_HANDLE, refusal(authority.free(pid, first.generations()[0])));
    assertTrue(value(authority.lookup(pid)).allocated(), "a stale free changes nothing");
    assertEquals(2, value(authority.stats(space)).allocated());

    FreeResult batch = value(authority.free(new int[] {pid, first.pids()[1]}, new int[] {1, 1}));
    assertArrayEquals(new int[] {first.pids()[1]}, batch.freed());
    assertEquals(1, batch.refused().size());
    assertEquals(pid, batch.refused().get(0).pid());
    assertEquals(Code.STALE_HANDLE, batch.refused().get(0).reason().code());
    value(authority.free(pid, 2));
    assertFalse(value(authority.lookup(pid)).allocated());
  }

  @Test
  void free_namingNoGeneration_isUnchecked_andABadGenerationIsBadRequest() {
    int space = newSpace();
    int[] pids = value(authority.alloc(space, 2));
    assertEquals(Code.BAD_REQUEST, refusal(authority.free(pids[0], -1)));
    FreeResult mismatched = value(authority.free(pids, new int[] {1}));
    assertEquals(2, mismatched.refused().size());
    assertEquals(Code.BAD_REQUEST, mismatched.refused().get(0).reason().code());
    value(authority.free(pids[0], 0));
    assertFalse(value(authority.lookup(pids[0])).allocated());
    assertArrayEquals(new int[] {2}, value(authority.allocAtHandles(space, new int[] {2}, 0)).generations());
  }
}
