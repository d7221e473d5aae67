package io.pidspace.space;

import static io.pidspace.Stages.refusal;
import static io.pidspace.space.Replies.refusal;
import static io.pidspace.space.Replies.done;
import static io.pidspace.space.Replies.stats;
import static io.pidspace.Stages.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException.Code;
import io.pidspace.core.SpaceStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link SpaceRegistry} over real {@link PidSpace} actors. Each test gets a registry and
 * spaces of its own. Shift 24 leaves 128 space ids, so "all ids taken" is cheap to reach.
 */
class SpaceRegistryTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final PidspaceSettings settings = PidspaceSettings.from(ConfigFactory
      .parseString("pidspace { shift = 24, max-batch = 100 }")
      .withFallback(testKit.system().settings().config()));
  private static final PidLayout layout = settings.layout();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** A registry and the actors of every space id it may hand out. */
  private record Fixture(ActorRef<SpaceRegistry.Command> registry, List<ActorRef<PidSpace.Command>> spaces,
      PidRouter router) {

    static Fixture start() {
      List<ActorRef<PidSpace.Command>> spaces = IntStream.range(0, layout.maxSpaces())
          .mapToObj(id -> testKit.spawn(PidSpace.create(settings, id, false)))
          .toList();
      return new Fixture(testKit.spawn(SpaceRegistry.create(settings, spaces::get, null)), spaces,
          new PidRouter(testKit.system(), settings, spaces::get));
    }

    SpaceStats create(int id, int pidMax) {
      TestProbe<Result> probe = testKit.createTestProbe();
      registry.tell(new SpaceRegistry.Create(id, pidMax, probe.getRef()));
      return stats(probe);
    }

    int create() {
      return create(SpaceRegistry.ANY_ID, 0).space();
    }

    Code createRefused(int id, int pidMax) {
      TestProbe<Result> probe = testKit.createTestProbe();
      registry.tell(new SpaceRegistry.Create(id, pidMax, probe.getRef()));
      return refusal(probe);
    }

    void destroy(int id) {
      TestProbe<Result> probe = testKit.createTestProbe();
      registry.tell(new SpaceRegistry.Destroy(id, probe.getRef()));
      done(probe);
    }

    Code destroyRefused(int id) {
      TestProbe<Result> probe = testKit.createTestProbe();
      registry.tell(new SpaceRegistry.Destroy(id, probe.getRef()));
      return refusal(probe);
    }

    int[] ids() {
      TestProbe<SpaceRegistry.SpaceIds> probe = testKit.createTestProbe();
      registry.tell(new SpaceRegistry.ListSpaces(probe.getRef()));
      return probe.receiveMessage().ids();
    }

    CompletableFuture<int[]> alloc(int space, int count) {
      return router.alloc(space, count);
    }
  }

  @Test
  void create_withoutId_takesLowestFreeId() {
    Fixture f = Fixture.start();

    assertEquals(1, f.create());
    assertEquals(2, f.create());
    assertEquals(3, f.create());
    f.destroy(2);
    assertEquals(2, f.create());
    assertEquals(4, f.create());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, f.ids());
  }

  @Test
  void create_requestedId_takesThatIdAndLowestStaysFree() {
    Fixture f = Fixture.start();

    assertEquals(new SpaceStats(100, 5_000, 0, 1, 0), f.create(100, 5_000));
    assertEquals(1, f.create());
    assertArrayEquals(new int[] {0, 1, 100}, f.ids());
  }

  @Test
  void create_withoutPidMax_usesDefaultPidMax() {
    Fixture f = Fixture.start();

    assertEquals(settings.pidMax(), f.create(SpaceRegistry.ANY_ID, 0).pidMax());
  }

  @Test
  void create_idInUse_isRefused() {
    Fixture f = Fixture.start();
    f.create(5, 0);

    assertEquals(Code.SPACE_ID_IN_USE, f.createRefused(5, 0));
    assertEquals(Code.SPACE_ID_IN_USE, f.createRefused(PidLayout.DEFAULT_SPACE, 0));
    assertArrayEquals(new int[] {0, 5}, f.ids());
  }

  @Test
  void create_idOrPidMaxOutOfRange_isRefusedAndTakesNoId() {
    Fixture f = Fixture.start();

    assertEquals(Code.OUT_OF_RANGE, f.createRefused(layout.maxSpaces(), 0));
    assertEquals(Code.OUT_OF_RANGE, f.createRefused(-2, 0));
    assertEquals(Code.OUT_OF_RANGE, f.createRefused(SpaceRegistry.ANY_ID, PidLayout.PID_MAX_MIN - 1));
    assertEquals(Code.OUT_OF_RANGE, f.createRefused(SpaceRegistry.ANY_ID, layout.pidMaxLimit() + 1));
    assertArrayEquals(new int[] {0}, f.ids());
    assertEquals(1, f.create());
  }

  @Test
  void create_whenAllIdsTaken_isNoSpaceIdsLeftUntilOneIsDestroyed() {
    Fixture f = Fixture.start();
    for (int id = 1; id < layout.maxSpaces(); id++) {
      assertEquals(id, f.create());
    }

    assertEquals(Code.NO_SPACE_IDS_LEFT, f.createRefused(SpaceRegistry.ANY_ID, 0));
    assertEquals(Code.SPACE_ID_IN_USE, f.createRefused(64, 0));
    f.destroy(64);
    assertEquals(64, f.create());
    assertEquals(Code.NO_SPACE_IDS_LEFT, f.createRefused(SpaceRegistry.ANY_ID, 0));
    assertEquals(layout.maxSpaces(), f.ids().length);
  }

  @Test
  void create_manyAtOnce_givesEachRequestItsOwnId() {
    Fixture f = Fixture.start();
    List<TestProbe<Result>> probes = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      TestProbe<Result> probe = testKit.createTestProbe();
      f.registry().tell(new SpaceRegistry.Create(SpaceRegistry.ANY_ID, 0, probe.getRef()));
      probes.add(probe);
    }

    int[] ids = probes.stream().mapToInt(probe -> stats(probe).space()).sorted().toArray();
    assertArrayEquals(IntStream.rangeClosed(1, 20).toArray(), ids);
  }

  @Test
  void create_destroy_create_sentTogether_areAnsweredInOrder() {
    Fixture f = Fixture.start();
    TestProbe<Result> first = testKit.createTestProbe();
    TestProbe<Result> destroyed = testKit.createTestProbe();
    TestProbe<Result> second = testKit.createTestProbe();

    f.registry().tell(new SpaceRegistry.Create(SpaceRegistry.ANY_ID, 0, first.getRef()));
    f.registry().tell(new SpaceRegistry.Destroy(1, destroyed.getRef()));
    f.registry().tell(new SpaceRegistry.Create(SpaceRegistry.ANY_ID, 0, second.getRef()));

    assertEquals(1, stats(first).space());
    done(destroyed);
    assertEquals(1, stats(second).space());
  }

  @Test
  void destroy_thenCreateAgain_startsFreshAtVpid2() {
    Fixture f = Fixture.start();
    int space = f.create();
    int[] before = value(f.alloc(space, 50));

    f.destroy(space);
    assertEquals(new SpaceStats(space, 1_000, 0, 1, 0), f.create(space, 1_000));

    assertEquals(layout.encode(space, 2), before[0]);
    assertArrayEquals(new int[] {before[0]}, value(f.alloc(space, 1)), "vpid 2 again");
    assertEquals(1, value(f.router().stats(space)).allocated());
  }

  @Test
  void everyRequest_toDestroyedSpace_isUnknownSpace() {
    Fixture f = Fixture.start();
    int space = f.create();
    int pid = value(f.alloc(space, 1))[0];
    f.destroy(space);

    assertEquals(Code.UNKNOWN_SPACE, refusal(f.alloc(space, 1)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(f.router().free(pid)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(f.router().lookup(pid)));
    assertEquals(Code.UNKNOWN_SPACE, refusal(f.router().stats(space)));
    assertEquals(List.of(pid + " unknown-space"), Replies.refusals(value(f.router().free(new int[] {pid}))));
    assertEquals(Code.UNKNOWN_SPACE, f.destroyRefused(space));
    assertArrayEquals(new int[] {0}, f.ids());
  }

  @Test
  void aSpaceThatDoesNotAnswer_isRetried_andHoldsUpNoOtherId() {
    PidspaceSettings quick = PidspaceSettings.from(ConfigFactory.parseString("pidspace.ask-timeout = 1s")
        .withFallback(ConfigFactory.parseString("pidspace { shift = 24, max-batch = 100 }"))
        .withFallback(testKit.system().settings().config()));
    TestProbe<PidSpace.Command> silent = testKit.createTestProbe();
    List<ActorRef<PidSpace.Command>> spaces = IntStream.range(0, layout.maxSpaces())
        .mapToObj(id -> id == 5 ? silent.getRef() : testKit.spawn(PidSpace.create(quick, id, false)))
        .toList();
    Fixture f = new Fixture(testKit.spawn(SpaceRegistry.create(quick, spaces::get, null)), spaces,
        new PidRouter(testKit.system(), quick, spaces::get));

    assertEquals(Code.UNAVAILABLE, f.createRefused(5, 0));
    PidSpace.Create firstTry = silent.expectMessageClass(PidSpace.Create.class);
    assertEquals(1, f.create(), "another id is served");
    assertEquals(Code.UNAVAILABLE, f.createRefused(5, 0), "the pending id is refused, not queued");
    assertArrayEquals(new int[] {0, 1}, f.ids());
    PidSpace.Create retried = silent.expectMessageClass(PidSpace.Create.class, java.time.Duration.ofSeconds(30));
    assertEquals(firstTry.generation(), retried.generation(), "the same intent, retried");
  }

  /** A space whose own record is newer than the registry's (a lost registry journal) is not overruled. */
  @Test
  void create_ofASpaceWithANewerRecord_isAConflict_andTheNextTryIsNewer() {
    Fixture f = Fixture.start();
    TestProbe<PidSpace.Status> destroyed = testKit.createTestProbe();
    f.spaces().get(5).tell(new PidSpace.Destroy(50, destroyed.getRef()));
    assertEquals(new PidSpace.Status(false, 50, null), destroyed.receiveMessage());

    assertEquals(Code.CONFLICT, f.createRefused(5, 0));
    assertEquals(5, f.create(5, 0).space());
    assertArrayEquals(new int[] {0, 5}, f.ids());
  }

  /** A space that exists without the registry's record is adopted as it is: listed, never reset. */
  @Test
  void create_ofASpaceThatExistsUnrecorded_isRefusedAndAdopted() {
    Fixture f = Fixture.start();
    TestProbe<PidSpace.Status> created = testKit.createTestProbe();
    f.spaces().get(6).tell(new PidSpace.Create(70, 1_000, created.getRef()));
    assertTrue(created.receiveMessage().exists());
    int pid = value(f.alloc(6, 1))[0];

    assertEquals(Code.SPACE_ID_IN_USE, f.createRefused(6, 0));
    assertArrayEquals(new int[] {0, 6}, f.ids());
    assertTrue(value(f.router().lookup(pid)).allocated(), "never reset");
    f.destroy(6);
    assertArrayEquals(new int[] {0}, f.ids());
  }

  @Test
  void destroy_defaultUnknownOrOutOfRangeSpace_isRefused() {
    Fixture f = Fixture.start();

    assertEquals(Code.DEFAULT_SPACE, f.destroyRefused(PidLayout.DEFAULT_SPACE));
    assertEquals(Code.UNKNOWN_SPACE, f.destroyRefused(7));
    assertEquals(Code.OUT_OF_RANGE, f.destroyRefused(layout.maxSpaces()));
    assertEquals(Code.OUT_OF_RANGE, f.destroyRefused(-1));
    assertArrayEquals(new int[] {0}, f.ids());
    assertEquals(1, value(f.alloc(PidLayout.DEFAULT_SPACE, 1))[0]);
  }

}
