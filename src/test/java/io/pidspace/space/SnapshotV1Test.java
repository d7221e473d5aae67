package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.serialization.SerializationExtension;
import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import io.pidspace.core.PidLayout;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.roaringbitmap.RoaringBitmap;

/**
 * Snapshots written by the build of commit cdc5abe (the flat {@code SpaceState$Snapshot}, see
 * src/test/resources/journals/snapshot-v1/README.md) still recover, to exactly the state they stored.
 */
class SnapshotV1Test {

  private static final PidLayout LAYOUT = PidLayout.DEFAULT;
  private static final int[] ALLOCATED = {2, 3, 4, 6, 9, 10, 11, 12, 13, 14, 500};

  @TempDir
  Path dir;

  /** A copy of the stored H2 file (H2 writes to the file it opens). */
  private String journal() throws Exception {
    try (InputStream in = getClass().getResourceAsStream("/journals/snapshot-v1/pidspace.mv.db")) {
      Files.copy(in, dir.resolve("pidspace.mv.db"));
    }
    return "jdbc:h2:file:" + dir.resolve("pidspace");
  }

  private static ActorSystem<Void> start(String url) {
    Map<String, Object> settings = new HashMap<>(Map.of("akka.actor.provider", "local", "pidspace.persistence", "jdbc",
        "pidspace.snapshot-every", 3, "pidspace.reservation", 100, "pidspace.jdbc.url", url));
    return ActorSystem.create(Behaviors.empty(), "v1", ConfigFactory.load(ConfigFactory.parseMap(settings)));
  }

  private static void stop(ActorSystem<?> system) throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** The newest stored snapshot of {@code persistenceId}, read as the snapshot store reads it. */
  private static SpaceState newestSnapshot(ActorSystem<?> system, String url, int space) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "sa", "");
        PreparedStatement s = c.prepareStatement("SELECT \"snapshot_ser_id\", \"snapshot_ser_manifest\","
            + " \"snapshot_payload\" FROM \"snapshot\" WHERE \"persistence_id\" = ? ORDER BY \"sequence_number\" DESC")) {
      s.setString(1, "PidSpace|" + space);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        assertEquals("io.pidspace.space.SpaceState$Snapshot", r.getString(2));
        Object stored = SerializationExtension.get(Adapter.toClassic(system))
            .deserialize(r.getBytes(3), r.getInt(1), r.getString(2)).get();
        return SpaceState.fromSnapshot(LAYOUT, space, (SpaceState.Snapshot) stored);
      }
    }
  }

  private static int[] vpids(byte[] bitmap) throws Exception {
    RoaringBitmap bits = new RoaringBitmap();
    bits.deserialize(ByteBuffer.wrap(bitmap));
    return bits.toArray();
  }

  @Test
  void aStoredSnapshot_readsAsTheStateItStored() throws Exception {
    String url = journal();
    ActorSystem<Void> system = start("jdbc:h2:mem:snapshot-v1-unused;DB_CLOSE_DELAY=-1");
    try {
      SpaceState one = newestSnapshot(system, url, 1);
      SpaceImage image = one.map().image();
      assertEquals(2_000, image.pidMax());
      assertEquals(14, image.lastPid());
      assertArrayEquals(ALLOCATED, vpids(image.allocated()));
      assertEquals(1, image.holds().size());
      assertEquals(1, image.holds().get(0).id());
      assertArrayEquals(new int[] {600, 601}, image.holds().get(0).vpids());
      assertEquals(1796596169078L, image.holds().get(0).expiresAt());
      assertEquals(2, image.lastHold());
      assertEquals(3_600_000, image.reuseDelay());
      assertArrayEquals(new int[] {7, 8}, image.cooling());
      assertArrayEquals(new long[] {1796596169109L, 1796596169114L}, image.coolingUntil());
      assertEquals(1, one.generation());
      assertFalse(one.reserving()); // a graceful stop ended it
      assertEquals(1796592570019L, one.reservedUntil());

      SpaceState two = newestSnapshot(system, url, 2);
      assertFalse(two.exists());
      assertEquals(5, two.generation());
    } finally {
      stop(system);
    }
  }

  @Test
  void recovery_fromAStoredSnapshot_goesOnExactly() throws Exception {
    ActorSystem<Void> system = start(journal());
    try {
      PidAuthority authority = PidAuthority.get(system);
      SpaceImage image = await(authority.exportSpace(1));
      assertEquals(2_000, image.pidMax());
      assertEquals(2, image.lastHold());
      assertEquals(3_600_000, image.reuseDelay());
      int[] allocated = vpids(image.allocated());
      SpaceStats stats = await(authority.stats(1));
      assertEquals(allocated.length, stats.allocated());
      assertEquals(LAYOUT.encode(1, image.lastPid() + 1), await(authority.alloc(1)));
      assertArrayEquals(new int[] {0, 1}, await(authority.spaceIds()));
    } finally {
      stop(system);
    }
  }
}
