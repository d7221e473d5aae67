package io.pidspace.space;

import static io.pidspace.space.LocalSystems.await;
import static io.pidspace.space.LocalSystems.refusal;
import static io.pidspace.space.LocalSystems.stop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.Handles;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.PidspaceException.Code;
import io.pidspace.core.SpaceImage;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * Allocs with idempotency keys on a real journal (H2 in memory): a retry answers the same pids
 * and stores nothing, another count is refused, and the keys survive a crash (from events and
 * from a snapshot); the table's bounds and its snapshot form.
 */
class IdempotencyKeysTest {

  private static final PidLayout LAYOUT = PidLayout.DEFAULT;

  private static String memoryDb() {
    return LocalSystems.memoryDb("keys");
  }

  /** No coordinated shutdown: a terminate is a crash for the spaces (nothing stored first). */
  private static ActorSystem<Void> start(String url, int snapshotEvery) {
    return start(url, snapshotEvery, Map.of());
  }

  private static ActorSystem<Void> start(String url, int snapshotEvery, Map<String, Object> extra) {
    Map<String, Object> settings = new HashMap<>(Map.of(
        "akka.coordinated-shutdown.run-by-actor-system-terminate", "off",
        "pidspace.reservation", 100, // the fast path a keyed alloc must not take
        "pidspace.snapshot-every", snapshotEvery,
        "pidspace.jdbc.url", url));
    settings.putAll(extra);
    return LocalSystems.start("keys", settings);
  }

  /** The journal rows of space {@code space}. */
  private static long rows(String url, int space) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "sa", "");
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = 'PidSpace|"
            + space + "'")) {
      r.next();
      return r.getLong(1);
    }
  }

  @Test
  void aRetryWithTheKey_answersTheSamePids_andStoresNothing() throws Exception {
    String url = memoryDb();
    ActorSystem<Void> system = start(url, 1000);
    try {
      PidAuthority authority = PidAuthority.get(system);
      await(authority.createSpace(1));
      int[] first = await(authority.alloc(1, 3, "9b2e6c1a-3f4d-4e5a-8b7c-0d1e2f3a4b5c"));
      long rows = rows(url, 1);
      int allocated = await(authority.stats(1)).allocated();

      assertArrayEquals(first, await(authority.alloc(1, 3, "9b2e6c1a-3f4d-4e5a-8b7c-0d1e2f3a4b5c")));
      await(authority.free(first[0])); // whatever became of them since: the same answer
      long afterFree = rows(url, 1);
      assertArrayEquals(first, await(authority.alloc(1, 3, "9b2e6c1a-3f4d-4e5a-8b7c-0d1e2f3a4b5c")));
      assertEquals(afterFree, rows(url, 1), "a retry stores nothing");
      assertEquals(allocated - 1, await(authority.stats(1)).allocated());
      assertTrue(afterFree > rows);

      PidspaceException reused = refusal(authority.alloc(1, 4, "9b2e6c1a-3f4d-4e5a-8b7c-0d1e2f3a4b5c"));
      assertEquals(Code.IDEMPOTENCY_KEY_REUSED, reused.code());
      assertFalse(reused.getMessage().contains("9b2e"), "a key is never quoted");
      assertEquals(afterFree, rows(url, 1), "a refusal stores nothing");
      assertEquals(allocated - 1, await(authority.stats(1)).allocated());

      int[] other = await(authority.alloc(1, 3, "another-key"));
      assertEquals(first[2] + 1, other[0], "a new key allocates anew");
      assertEquals(first[2] + 4, (int) await(authority.alloc(1)), "and an unkeyed alloc goes on after it");
    } finally {
      stop(system);
    }
  }

  /**
   * A retry answers the handles of the first answer: after its pid was freed and handed out again,
   * a free with the retry's generation is stale and leaves the new holder's pid alone.
   */
  @Test
  void aRetryAfterItsPidWasHandedOutAgain_answersTheFirstGenerations_whichFreeNothing() throws Exception {
    ActorSystem<Void> system = start(memoryDb(), 1000);
    try {
      PidAuthority authority = PidAuthority.get(system);
      await(authority.createSpace(1));
      Handles first = await(authority.allocHandles(1, 1, "key-1"));
      int pid = first.pids()[0];
      await(authority.free(pid, first.generations()[0]));
      Handles again = await(authority.allocAtHandles(1, new int[] {LAYOUT.vpidOf(pid)}, 0)); // another holder
      assertEquals(first.generations()[0] + 1, again.generations()[0]);

      Handles retried = await(authority.allocHandles(1, 1, "key-1"));
      assertArrayEquals(first.pids(), retried.pids());
      assertArrayEquals(first.generations(), retried.generations(), "the first answer's handles");
      assertEquals(Code.STALE_HANDLE, refusal(authority.free(pid, retried.generations()[0])).code());
      assertTrue(await(authority.lookup(pid)).allocated(), "the new holder keeps its pid");
    } finally {
      stop(system);
    }
  }

  @Test
  void aBadKey_isABadRequest_neverQuoted() throws Exception {
    ActorSystem<Void> system = start(memoryDb(), 1000);
    try {
      PidAuthority authority = PidAuthority.get(system);
      await(authority.createSpace(1));
      for (String bad : List.of("", "has space", "quote\"", "k".repeat(65), "ünï")) {
        PidspaceException refused = refusal(authority.alloc(1, 1, bad));
        assertEquals(Code.BAD_REQUEST, refused.code(), bad);
        assertTrue(bad.isEmpty() || !refused.getMessage().contains(bad), refused.getMessage());
      }
      assertEquals(0, await(authority.stats(1)).allocated());
      assertEquals(1, await(authority.alloc(1, 1, "k".repeat(64))).length, "64 characters are a key");
    } finally {
      stop(system);
    }
  }

  @Test
  void theSameKeyTwiceInOneRun_answersTheFirstOnesPids_andSurvivesACrash() throws Exception {
    String url = memoryDb();
    ActorSystem<Void> system = start(url, 1000);
    int[] first;
    try {
      PidspaceSettings settings = PidspaceSettings.from(system.settings().config());
      PidAuthority.get(system); // creates the tables
      ActorRef<PidSpace.Command> space = system.systemActorOf(PidSpace.create(settings, 6, false), "six", Props.empty());
      await(Asks.<PidSpace.Command, PidSpace.Status>ask(space, replyTo -> new PidSpace.Create(1, 2_000, replyTo),
          Duration.ofSeconds(30), system.scheduler()));
      long[] deadlines = new long[4];
      Arrays.fill(deadlines, System.currentTimeMillis() + 60_000);
      List<Result> results = await(Asks.<PidSpace.Command, PidSpace.Results>ask(space, replyTo -> new PidSpace.Run(
          List.of(new Request.Alloc(2, "k"), new Request.Alloc(1), new Request.Alloc(2, "k"), new Request.Alloc(3, "k")),
          deadlines, replyTo), Duration.ofSeconds(30), system.scheduler())).results();

      first = ((Result.Pids) results.get(0)).pids();
      assertArrayEquals(new int[] {LAYOUT.encode(6, 2), LAYOUT.encode(6, 3)}, first);
      assertArrayEquals(new int[] {LAYOUT.encode(6, 4)}, ((Result.Pids) results.get(1)).pids());
      assertArrayEquals(first, ((Result.Pids) results.get(2)).pids());
      assertEquals(Code.IDEMPOTENCY_KEY_REUSED, ((Result.Refused) results.get(3)).refusal().code());
    } finally {
      stop(system); // a crash: nothing stored at the stop
    }

    ActorSystem<Void> second = start(url, 1000);
    try {
      PidspaceSettings settings = PidspaceSettings.from(second.settings().config());
      PidAuthority.get(second);
      ActorRef<PidSpace.Command> space = second.systemActorOf(PidSpace.create(settings, 6, false), "six", Props.empty());
      PidRouter router = new PidRouter(second, settings, id -> space);
      assertArrayEquals(first, await(router.alloc(6, 2, "k")));
      for (int pid : first) {
        assertTrue(await(router.lookup(pid)).allocated(), "pid " + pid + " stored before it was answered");
      }
    } finally {
      stop(second);
    }
  }

  @Test
  void keys_surviveACrash_fromEventsAndFromASnapshot() throws Exception {
    String url = memoryDb();
    ActorSystem<Void> system = start(url, 3);
    int[][] answered = new int[7][];
    try {
      PidAuthority authority = PidAuthority.get(system);
      await(authority.createSpace(1));
      for (int i = 0; i < answered.length; i++) { // snapshots at 3 and 6, with keys; the last ones in events after
        answered[i] = await(authority.alloc(1, 2, "key-" + i));
      }
    } finally {
      stop(system);
    }
    ActorSystem<Void> second = start(url, 3);
    try {
      PidAuthority authority = PidAuthority.get(second);
      for (int i = 0; i < answered.length; i++) {
        assertArrayEquals(answered[i], await(authority.alloc(1, 2, "key-" + i)), "key-" + i);
      }
      for (int[] pids : answered) {
        for (int pid : pids) {
          assertTrue(await(authority.lookup(pid)).allocated(), "pid " + pid + " stored before it was answered");
        }
      }
    } finally {
      stop(second);
    }
  }

  /**
   * A failover within one journal: copy B of a space recovers after copy A stored a key, and
   * answers its retry with A's pids; a key A stores after B recovered fails B's first write at the
   * journal's key, and once B has recovered again it answers that retry with A's pids too.
   */
  @Test
  void anotherCopyOfTheSpace_answersTheKeysTheFirstStored() throws Exception {
    String url = memoryDb();
    // the run whose write fails is never answered: its caller gives up at the ask timeout
    ActorSystem<Void> system = start(url, 1000, Map.of("pidspace.ask-timeout", "2s"));
    try {
      PidspaceSettings settings = PidspaceSettings.from(system.settings().config());
      PidAuthority.get(system); // creates the tables
      ActorRef<PidSpace.Command> a = system.systemActorOf(PidSpace.create(settings, 6, false), "copy-a", Props.empty());
      await(Asks.<PidSpace.Command, PidSpace.Status>ask(a, replyTo -> new PidSpace.Create(1, 2_000, replyTo),
          Duration.ofSeconds(30), system.scheduler()));
      PidRouter viaA = new PidRouter(system, settings, id -> a);
      int[] first = await(viaA.alloc(6, 2, "first"));

      ActorRef<PidSpace.Command> b = system.systemActorOf(PidSpace.create(settings, 6, false), "copy-b", Props.empty());
      PidRouter viaB = new PidRouter(system, settings, id -> b);
      assertArrayEquals(first, await(viaB.alloc(6, 2, "first")));

      int[] second = await(viaA.alloc(6, 3, "second")); // after B recovered: B does not know it yet
      int[] retried = null;
      for (int attempt = 0; attempt < 100 && retried == null; attempt++) {
        try {
          retried = await(viaB.alloc(6, 3, "second"));
        } catch (ExecutionException staleCopy) { // B's write failed at the journal's key: it recovers
          assertEquals(Code.UNAVAILABLE, assertInstanceOf(PidspaceException.class, staleCopy.getCause()).code());
          Thread.sleep(100);
        }
      }
      assertArrayEquals(second, retried);
    } finally {
      stop(system);
    }
  }

  private static SpaceEvent.AllocKeyed keyed(String key, long at) {
    return new SpaceEvent.AllocKeyed(key, at, 1, new int[] {7}, new int[] {1});
  }

  @Test
  void theTable_keepsTheNewestMaxKeys_withinTheWindowOfTheNewest() {
    AllocKeys keys = new AllocKeys(3, 1_000);
    keys.add(keyed("a", 0));
    keys.add(keyed("b", 100));
    keys.add(keyed("c", 200));
    keys.add(keyed("d", 300));
    assertNull(keys.find("a", 300), "past max-keys: the oldest goes");
    assertNotNull(keys.find("b", 300));
    assertNull(keys.find("b", 1_101), "a lookup past the window of the entry finds nothing");

    keys.add(keyed("e", 1_250)); // b (100) and c (200) are older than 1_250 - 1_000
    assertEquals(2, keys.size());
    assertEquals(List.of("d", "e"), keys.entries().stream().map(SpaceEvent.AllocKeyed::key).toList());
  }

  @Test
  void aSnapshot_carriesTheKeys_andOneWrittenWithoutThemReadsAsNone() throws Exception {
    SpaceState state = SpaceState.initial(LAYOUT, 1, 4_096).apply(new SpaceEvent.SpaceCreated(3, 2_000));
    state.apply(new SpaceEvent.PidsChanged(new int[] {2, 3}));
    state.apply(new SpaceEvent.AllocKeyed("k1", 1_000, 2, new int[] {2, 3}, new int[] {1, 1}));
    SpaceState restored = SpaceState.fromSnapshot(LAYOUT, 1, state.toSnapshot());
    assertArrayEquals(new int[] {2, 3}, restored.keyed("k1", 1_000).vpids());
    assertEquals(1, restored.keyCount());

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "snapshot");
    try {
      Serialization serialization = SerializationExtension.get(Adapter.toClassic(system));
      SpaceImage image = state.map().image();
      byte[] before = serialization.serialize(new WithoutKeys(3, image, 0, 0, 0)).get(); // the form before keys
      Object read = serialization.deserialize(before, 33, SpaceState.ImageSnapshot.class.getName()).get();
      SpaceState old = SpaceState.fromSnapshot(LAYOUT, 1, (SpaceState.Snapshot) read);
      assertEquals(0, old.keyCount());
      assertEquals(2, old.map().stats().allocated());
    } finally {
      stop(system);
    }
  }

  /** An {@link SpaceState.ImageSnapshot} as builds before idempotency keys wrote it. */
  record WithoutKeys(long generation, SpaceImage image, int reservedFrom, int reservedUpTo, long reservedUntil)
      implements io.pidspace.core.CborSerializable {}

  @Test
  void aDestroyedSpace_forgetsItsKeys() {
    SpaceState state = SpaceState.initial(LAYOUT, 1, 4_096).apply(new SpaceEvent.SpaceCreated(3, 2_000));
    state.apply(new SpaceEvent.AllocKeyed("k1", 1_000, 1, new int[] {2}, new int[] {1}));
    state.apply(new SpaceEvent.SpaceDestroyed(4)).apply(new SpaceEvent.SpaceCreated(5, 2_000));
    assertNull(state.keyed("k1", 1_000));
  }
}
