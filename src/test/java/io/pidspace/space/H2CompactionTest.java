package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pidspace.api.PidAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A busy H2 file journal: its file grows by every commit unless it is compacted. Compared per
 * commit, as the load's commits vary with the machine's.
 */
class H2CompactionTest {

  private static final int CHAINS = 64;
  // Long enough for compaction to run many times. H2 itself reuses some wholly dead chunks, so the
  // uncompacted file varies (4.4-8.9 MB at the same commits): at 2,000 pairs compacted came to
  // 0.23-0.52 of it, and 0.59 beside another build; at 6,000, 0.16-0.41
  private static final int PAIRS_PER_CHAIN = 6_000;

  @Test
  void busyJournal_compacted_staysAFractionOfUncompacted(@TempDir Path dir) throws Exception {
    Journal compacted = journalAfterLoad(dir.resolve("compacted"), "100ms");
    Journal uncompacted = journalAfterLoad(dir.resolve("uncompacted"), "0s");
    assertTrue(compacted.bytesPerCommit() * 2 < uncompacted.bytesPerCommit(),
        "journal file after the same load: " + compacted + " compacted, " + uncompacted + " not");
  }

  private record Journal(long bytes, long commits) {
    double bytesPerCommit() {
      return (double) bytes / commits;
    }
  }

  /** 64 alloc -> free chains, each pair two writes; the file's size and H2's commits while the journal is still open. */
  private static Journal journalAfterLoad(Path dataDir, String compactEvery) throws Exception {
    // H2 reuses a freed chunk's space once its retention time (45 s) has passed: none here
    String url = "jdbc:h2:file:" + dataDir + "/pidspace;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE;RETENTION_TIME=0";
    try (PidAuthority authority = PidAuthority.start(ConfigFactory.parseMap(Map.of(
        "akka.actor.provider", "local",
        "pidspace.persistence", "jdbc",
        "pidspace.jdbc.url", url,
        "pidspace.jdbc.h2-compact-every", compactEvery)))) {
      int space = authority.createSpace().toCompletableFuture().get(30, TimeUnit.SECONDS).space();
      CompletableFuture<?>[] chains = new CompletableFuture<?>[CHAINS];
      for (int c = 0; c < CHAINS; c++) {
        chains[c] = chain(authority, space, PAIRS_PER_CHAIN).toCompletableFuture();
      }
      CompletableFuture.allOf(chains).get(5, TimeUnit.MINUTES);
      long bytes = Files.size(dataDir.resolve("pidspace.mv.db"));
      return new Journal(bytes, commits(authority.system().settings().config().getConfig("pidspace.jdbc")));
    }
  }

  /** The journal store's version: H2 adds one a commit. A connection in this JVM shares its store. */
  private static long commits(com.typesafe.config.Config jdbc) throws java.sql.SQLException {
    try (java.sql.Connection connection = java.sql.DriverManager.getConnection(
        jdbc.getString("url"), jdbc.getString("user"), jdbc.getString("password"))) {
      org.h2.engine.SessionLocal session = (org.h2.engine.SessionLocal)
          connection.unwrap(org.h2.jdbc.JdbcConnection.class).getSession();
      return session.getDatabase().getStore().getMvStore().getCurrentVersion();
    }
  }

  private static CompletionStage<Void> chain(PidAuthority authority, int space, int pairs) {
    return pairs == 0
        ? CompletableFuture.completedFuture(null)
        : authority.alloc(space).thenCompose(authority::free).thenCompose(done -> chain(authority, space, pairs - 1));
  }
}
