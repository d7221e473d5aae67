package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pidspace.TestPostgres;
import io.pidspace.core.PidspaceException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The identity a journal carries, which the join check compares (issue 29). */
class JournalIdentityTest {

  private static Config journal(Map<String, ?> settings) {
    return ConfigFactory.parseMap(settings)
        .withFallback(ConfigFactory.parseMap(Map.of("pidspace.persistence", "jdbc")))
        .withFallback(ConfigFactory.load());
  }

  private static Config h2File(Path dir) {
    return journal(Map.of("pidspace.jdbc.url", "jdbc:h2:file:" + dir + "/pidspace;WRITE_DELAY=0"));
  }

  @Test
  void configure_aNewJournal_getsAnIdentityThatStays(@TempDir Path dir) {
    String identity = JournalIdentity.configure(h2File(dir)).getString(JournalIdentity.PATH);
    assertEquals(identity, UUID.fromString(identity).toString());
    assertEquals(identity, JournalIdentity.configure(h2File(dir)).getString(JournalIdentity.PATH), "read back, not made again");
  }

  @Test
  void configure_anotherJournal_hasAnotherIdentity(@TempDir Path a, @TempDir Path b) {
    assertNotEquals(JournalIdentity.configure(h2File(a)).getString(JournalIdentity.PATH),
        JournalIdentity.configure(h2File(b)).getString(JournalIdentity.PATH));
  }

  @Test
  void configure_aVolatileConfig_isLeftAsItIs() {
    Config volatileOne = ConfigFactory.parseMap(Map.of("pidspace.persistence", "none")).withFallback(ConfigFactory.load());
    assertSame(volatileOne, JournalIdentity.configure(volatileOne));
    assertEquals("", volatileOne.getString(JournalIdentity.PATH));
  }

  /** Without create-schema the table must be there; a journal made by hand without it says so. */
  @Test
  void configure_withoutTheTable_namesTheJournal(@TempDir Path dir) {
    Config config = ConfigFactory.parseMap(Map.of("pidspace.jdbc.create-schema", false)).withFallback(h2File(dir));
    PidspaceException e = assertThrows(PidspaceException.class, () -> JournalIdentity.configure(config));
    assertEquals(PidspaceException.Code.UNAVAILABLE, e.code());
    assertTrue(e.getMessage().startsWith("cannot read the identity of the journal at jdbc:h2:file:" + dir), e.getMessage());
  }

  /** Nodes that start at once on an empty journal all make one and all end up with the same. */
  @Test
  void configure_nodesStartingAtOnceOnAnEmptyJournal_agree() throws Exception {
    startingAtOnce(journal(Map.of("pidspace.jdbc.url", "jdbc:h2:mem:identity" + System.nanoTime() + ";DB_CLOSE_DELAY=-1")));
  }

  @Test
  void configure_nodesStartingAtOnceOnAnEmptyPostgresJournal_agree() throws Exception {
    Optional<Map<String, String>> pg = TestPostgres.freshSchema("identity");
    assumeTrue(pg.isPresent(), "PIDSPACE_TEST_PG_URL is not set");
    startingAtOnce(journal(pg.get()));
  }

  private static void startingAtOnce(Config config) throws Exception {
    int nodes = 3;
    CyclicBarrier start = new CyclicBarrier(nodes);
    ExecutorService pool = Executors.newFixedThreadPool(nodes);
    try {
      List<CompletableFuture<String>> identities = java.util.stream.IntStream.range(0, nodes)
          .mapToObj(i -> CompletableFuture.supplyAsync(() -> {
            try {
              start.await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
            return JournalIdentity.configure(config).getString(JournalIdentity.PATH);
          }, pool))
          .toList();
      Set<String> seen = new HashSet<>();
      for (CompletableFuture<String> identity : identities) {
        seen.add(identity.get(60, TimeUnit.SECONDS));
      }
      assertEquals(1, seen.size(), "one identity for one journal: " + seen);
      assertEquals(seen.iterator().next(), JournalIdentity.configure(config).getString(JournalIdentity.PATH));
    } finally {
      pool.shutdownNow();
    }
  }
}
