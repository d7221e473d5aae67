package io.pidspace.space;

import akka.cluster.ConfigValidation;
import akka.cluster.JoinConfigCompatChecker;
import akka.cluster.Valid$;
import akka.cluster.Invalid;
import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Refuses a node that would make the cluster hand out duplicates: one with another shift, one on
 * another journal than the cluster's ({@link JournalIdentity}), or a volatile one
 * ({@code pidspace.persistence = none}), whose spaces would lose their state on the first
 * rebalance, unless {@code pidspace.allow-volatile-cluster = on} on both sides. Registered in
 * reference.conf; the cluster runs it on every join, with the joining node's values of
 * {@link #requiredKeys()}, and logs what it refused (the joining node learns only that it was).
 */
public final class JoinCheck extends JoinConfigCompatChecker {

  @Override
  public scala.collection.immutable.Seq<String> requiredKeys() {
    return CollectionConverters.asScala(
        List.of("pidspace.shift", "pidspace.persistence", "pidspace.allow-volatile-cluster", JournalIdentity.PATH)).toList();
  }

  @Override
  public ConfigValidation check(Config joining, Config here) {
    List<String> problems = new ArrayList<>();
    if (joining.getInt("pidspace.shift") != here.getInt("pidspace.shift")) {
      problems.add("pidspace.shift is " + joining.getInt("pidspace.shift") + " on the joining node and "
          + here.getInt("pidspace.shift") + " in the cluster");
    }
    String joiningJournal = identity(joining);
    String clusterJournal = identity(here);
    if (!joiningJournal.isEmpty() && !clusterJournal.isEmpty() && !joiningJournal.equals(clusterJournal)) {
      problems.add("the joining node's journal is not the cluster's: journal identity " + joiningJournal
          + " on the joining node, " + clusterJournal + " in the cluster. Every node of a cluster must share one "
          + "journal, or the spaces a node hosts and their pids go when it goes: point every node's pidspace.jdbc.url "
          + "at the same PostgreSQL database (-Dconfig.file=conf/postgres.conf, PIDSPACE_JDBC_URL) or H2 TCP server "
          + "(jdbc:h2:tcp://host:port/name), then start the node again (docs/operations.md)");
    }
    for (Config side : List.of(joining, here)) {
      if (side.getString("pidspace.persistence").equals("none") && !side.getBoolean("pidspace.allow-volatile-cluster")) {
        problems.add("pidspace.persistence = none keeps spaces in memory only: a cluster of several such nodes "
            + "hands out duplicates after a rebalance; use jdbc, or set pidspace.allow-volatile-cluster = on");
        break;
      }
    }
    return problems.isEmpty() ? Valid$.MODULE$ : new Invalid(CollectionConverters.asScala(problems).toList());
  }

  /**
   * Empty when unknown: a volatile node, a system created without {@link JournalIdentity#configure},
   * or a build before journal identities (whose join is then not checked for its journal).
   */
  private static String identity(Config side) {
    return side.hasPath(JournalIdentity.PATH) ? side.getString(JournalIdentity.PATH) : "";
  }
}
