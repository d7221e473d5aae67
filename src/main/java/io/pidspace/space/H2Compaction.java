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
 * retention time (45 s, its margin for the disk's own write-back) has passed. The same load then
 * levelled off at 4.2 GB after 110 s: about two retention times of writes, far less under a
 * lighter load.
 *
 * <p>It runs on Akka's blocking dispatcher and holds H2's store lock for the rewrite, like a commit.
 * It opens a connection only to find the store, and not once the system shuts down, so that it
 * never reopens a journal the system has closed.
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

  private final ActorSystem<?> system;
  private final String url;
  private final String user;
  private final String password;
  private volatile MVStore store; // the journal's, found on the first run that needs it; runs go to any pool thread

  private H2Compaction(ActorSystem<?> system, Config jdbc) {
    this.system = system;
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
    system.scheduler().scheduleWithFixedDelay(every, every, new H2Compaction(system, jdbc),
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
      }
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
