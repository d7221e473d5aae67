package io.pidspace.space;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an embedded H2 file journal from growing without bound ({@code pidspace.jdbc.h2-compact-every}).
 * With {@code WRITE_DELAY=0}, which a durable answer needs (every commit is written before it is
 * answered), H2 runs no background thread, so its store's own maintenance never runs: each
 * commit appends a chunk, and a chunk's space is reused only once no page in it is live, which
 * under steady writes almost never happens. Measured: 16 spaces' chains left chunks 3 % live and
 * the file at 4.1 GB after 150 s and growing by 40 MB/s. This does what H2's background thread
 * would: it rewrites the live pages of mostly dead chunks, whose space H2 then reuses once its
 * retention time has passed.
 *
 * <p>H2's retention time (45 s by default) is its margin for the disk's own write-back: a dead
 * chunk is overwritten only once the chunks that replaced it are surely on disk. Each run here
 * first fsyncs the file, so that margin is one run plus slack: {@link #RETAINED_RUNS} runs (5 s). Without
 * it, 45 s of a storm's commits (5-16 MB/s over HTTP) kept the file at 1.3 GB after 200 s, and
 * still growing, though the live journal was a few MB (docs/benchmarks.md). The fsync also bounds
 * what a power loss can cost to about one run's acknowledged writes, where H2 alone never syncs.
 *
 * <p>It runs on Akka's blocking dispatcher and holds H2's store lock for the rewrite, like a commit
 * (not for the fsync). It opens a connection only to find the store, and not once the system
 * shuts down, so that it never reopens a journal the system has closed.
 */
final class H2Compaction implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(H2Compaction.class);
  /** Rewrite chunks while less than this share of their bytes is live (H2's own default is 90). */
  private static final int TARGET_FILL_PERCENT = 90;
  /**
   * At most this many bytes of old chunks a run (their live pages are a few percent of it). 16 MiB
   * a second did not keep up with 16 spaces' chains (about 40 MB/s of chunks); this did.
   */
  private static final int MAX_REWRITE_BYTES = 256 << 20;
  /** A dead chunk is kept this many runs (each fsyncs) before its space is reused. */
  private static final int RETAINED_RUNS = 5;

  private final ActorSystem<?> system;
  private final String url;
  private final String user;
  private final String password;
  private volatile MVStore store; // the journal's, found on the first run that needs it; runs go to any pool thread
  private volatile long lastSync;
  private final long retentionMillis;

  private H2Compaction(ActorSystem<?> system, Config jdbc, Duration every) {
    this.system = system;
    this.retentionMillis = RETAINED_RUNS * every.toMillis();
    this.url = jdbc.getString("url");
    this.user = jdbc.getString("user");
    this.password = jdbc.getString("password");
  }

  /** Compacts every {@code pidspace.jdbc.h2-compact-every} when the journal is an embedded H2 file. */
  static void start(ActorSystem<?> system, Config config) {
    Config jdbc = config.getConfig("pidspace.jdbc");
    Duration every = jdbc.getDuration("h2-compact-every");
    if (every.isZero() || !jdbc.getString("url").startsWith("jdbc:h2:file:")) {
      return;
    }
    system.scheduler().scheduleWithFixedDelay(every, every, new H2Compaction(system, jdbc, every),
        system.dispatchers().lookup(DispatcherSelector.blocking()));
  }

  @Override
  public void run() {
    try {
      if (store == null || store.isClosed()) {
        if (CoordinatedShutdown.get(system).getShutdownReason().isPresent()) {
          return;
        }
        store = journalStore();
        store.setRetentionTime((int) Math.min(retentionMillis, store.getRetentionTime()));
        lastSync = System.currentTimeMillis();
      }
      long now = System.currentTimeMillis();
      if (now - lastSync > retentionMillis / 2) {
        log.warn("the H2 journal's fsync ran {} ms after the last one: a power loss now may cost more than the "
            + "last second of writes", now - lastSync);
      }
      store.sync(); // what was written so far is on disk before any chunk it replaced can be reused
      lastSync = now;
      store.compact(TARGET_FILL_PERCENT, MAX_REWRITE_BYTES);
    } catch (SQLException | RuntimeException e) { // closing under it, or H2 refused: the next run tries again
      log.debug("compacting the H2 journal at {} failed: {}", url, e.toString());
      store = null;
    }
  }

  /** The store of the journal's open database: a connection in this JVM shares it. */
  private MVStore journalStore() throws SQLException {
    try (Connection connection = DriverManager.getConnection(url, user, password)) {
      SessionLocal session = (SessionLocal) connection.unwrap(JdbcConnection.class).getSession();
      return session.getDatabase().getStore().getMvStore();
    }
  }
}
