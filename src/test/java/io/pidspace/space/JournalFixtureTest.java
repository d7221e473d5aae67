package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Journal compatibility: {@code src/test/resources/journals/v1} is an H2 journal written by the
 * release before typed messages (commit cdc5abe), with every event kind (creates, allocs, frees,
 * holds placed and released, alloc-at claiming a hold, pid_max, reuse delay with cooled pids,
 * reservations, an import, a destroy, a snapshot). Today's code must recover it exactly.
 *
 * <p>To write it again (only if the format changes on purpose, with an event adapter):
 * {@code mvn -o -q test -Dtest=JournalFixtureTest#write -Dpidspace.write-fixture=src/test/resources/journals/v1}.
 */
class JournalFixtureTest {

  private static final PidLayout LAYOUT = PidLayout.DEFAULT;

  private static ActorSystem<Void> start(Path dataDir) {
    return ActorSystem.create(Behaviors.empty(), "fixture", ConfigFactory.load(ConfigFactory.parseMap(Map.of(
        "akka.actor.provider", "local",
        "pidspace.persistence", "jdbc",
        "pidspace.data-dir", dataDir.toString(),
        "pidspace.snapshot-every", 100,
        "pidspace.reservation", 1_024))));
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static PidspaceException.Code refused(CompletionStage<?> stage) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(stage));
    return assertInstanceOf(PidspaceException.class, e.getCause()).code();
  }

  private static void stop(ActorSystem<?> system) throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  @EnabledIfSystemProperty(named = "pidspace.write-fixture", matches = ".+")
  void write() throws Exception {
    Path dir = Path.of(System.getProperty("pidspace.write-fixture")).toAbsolutePath();
    assertFalse(Files.exists(dir.resolve("pidspace.mv.db")), "remove the old fixture first");
    ActorSystem<Void> system = start(dir);
    try {
      PidAuthority a = PidAuthority.get(system);
      await(a.alloc(0, 2));
      await(a.createSpace(1, 1_000));
      int[] first = await(a.alloc(1, 10));
      await(a.free(first[2]));
      await(a.free(new int[] {first[3], first[4]}));
      int released = await(a.hold(1, new int[] {500, 501}, Duration.ofDays(1)));
      await(a.release(1, released));
      int claimed = await(a.hold(1, new int[] {600}, Duration.ofDays(1)));
      await(a.allocAt(1, new int[] {600}, claimed));
      await(a.allocAt(1, new int[] {700, 701}, 0));
      await(a.setPidMax(1, 2_000));
      await(a.setReuseDelay(1, Duration.ofHours(1)));
      await(a.free(first[5])); // cooled
      await(a.alloc(1, 3));
      await(a.createSpace(2, 0));
      await(a.alloc(2, 3));
      await(a.destroySpace(2));
      SpaceImage image = await(a.exportSpace(1));
      await(a.importSpace(3, image));
      await(a.createSpace(4, 5_000));
      for (int i = 0; i < 110; i++) { // a stored free each: a snapshot at 100 events, and events after it
        await(a.free(await(a.alloc(4, 2))[0]));
      }
      await(a.free(LAYOUT.encode(4, 7)));
      assertState(a);
    } finally {
      stop(system);
    }
  }

  @Test
  void recover_aJournalOfTheReleaseBefore_exactly(@TempDir Path dataDir) throws Exception {
    Path fixture = Path.of("src/test/resources/journals/v1/pidspace.mv.db");
    Files.copy(fixture, dataDir.resolve("pidspace.mv.db"), StandardCopyOption.REPLACE_EXISTING);
    ActorSystem<Void> system = start(dataDir);
    try {
      PidAuthority a = PidAuthority.get(system);
      assertState(a);
      // the next-fit cursor and the hold counter came back too
      assertEquals(LAYOUT.encode(1, 15), await(a.alloc(1)));
      assertEquals(LAYOUT.encode(4, 222), await(a.alloc(4)));
      assertEquals(LAYOUT.encode(0, 3), await(a.alloc(0)));
      assertEquals(PidspaceException.Code.UNKNOWN_HOLD, refused(a.release(1, 1)));
      assertEquals(PidspaceException.Code.UNKNOWN_HOLD, refused(a.release(1, 2)));
      assertEquals(3, await(a.hold(1, new int[] {900}, Duration.ofMinutes(1))));
    } finally {
      stop(system);
    }
  }

  /** The state the fixture was written with; reads only. */
  private static void assertState(PidAuthority a) throws Exception {
    assertArrayEquals(new int[] {0, 1, 3, 4}, await(a.spaceIds()));
    assertEquals(2, await(a.stats(0)).allocated());
    SpaceStats one = await(a.stats(1));
    assertEquals(new SpaceStats(1, 2_000, 12, 14, one.pagesInUse()), one);
    for (int v : new int[] {2, 3, 8, 9, 10, 11, 12, 13, 14, 600, 700, 701}) {
      assertTrue(await(a.lookup(LAYOUT.encode(1, v))).allocated(), "vpid " + v);
    }
    for (int v : new int[] {1, 4, 5, 6, 7, 15, 500, 501}) {
      assertFalse(await(a.lookup(LAYOUT.encode(1, v))).allocated(), "vpid " + v);
    }
    SpaceImage image = await(a.exportSpace(1));
    assertEquals(3_600_000, image.reuseDelay());
    assertEquals(2, image.lastHold());
    assertTrue(image.holds().isEmpty());
    SpaceStats three = await(a.stats(3));
    assertEquals(new SpaceStats(3, 2_000, 12, 14, three.pagesInUse()), three);
    assertTrue(await(a.lookup(LAYOUT.encode(3, 700))).allocated());
    assertEquals(new SpaceStats(4, 5_000, 109, 221, await(a.stats(4)).pagesInUse()), await(a.stats(4)));
    assertFalse(await(a.lookup(LAYOUT.encode(4, 7))).allocated());
    assertFalse(await(a.lookup(LAYOUT.encode(4, 8))).allocated());
    assertTrue(await(a.lookup(LAYOUT.encode(4, 9))).allocated());
    assertEquals(PidspaceException.Code.UNKNOWN_SPACE, refused(a.stats(2)));
  }
}
