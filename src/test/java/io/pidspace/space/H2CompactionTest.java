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

/** A busy H2 file journal: its file grows by every commit unless it is compacted. */
class H2CompactionTest {

  private static final int CHAINS = 64;
  // Long enough for compaction to run many times: 300 pairs once took under half a second and
  // left 0.9 MB against 1.7 MB on a busy machine; 2,000 left 2-3 MB against 12 MB
  private static final int PAIRS_PER_CHAIN = 2_000;

  @Test
  void busyJournal_compacted_staysAFractionOfUncompacted(@TempDir Path dir) throws Exception {
    long compacted = journalBytesAfterLoad(dir.resolve("compacted"), "100ms");
    long uncompacted = journalBytesAfterLoad(dir.resolve("uncompacted"), "0s");
    assertTrue(compacted * 2 < uncompacted,
        "journal file after the same load: " + compacted + " bytes compacted, " + uncompacted + " not");
  }

  /** 64 alloc -> free chains, each pair two writes; the file's size while the journal is still open. */
  private static long journalBytesAfterLoad(Path dataDir, String compactEvery) throws Exception {
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
      return Files.size(dataDir.resolve("pidspace.mv.db"));
    }
  }

  private static CompletionStage<Void> chain(PidAuthority authority, int space, int pairs) {
    return pairs == 0
        ? CompletableFuture.completedFuture(null)
        : authority.alloc(space).thenCompose(authority::free).thenCompose(done -> chain(authority, space, pairs - 1));
  }
}
