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
 * Refuses a node that would make the cluster hand out duplicates: one with another shift, or a
 * volatile one ({@code pidspace.persistence = none}), whose spaces would lose their state on the
 * first rebalance, unless {@code pidspace.allow-volatile-cluster = on} on both sides. Registered
 * in reference.conf; the cluster runs it on every join.
 */
public final class JoinCheck extends JoinConfigCompatChecker {

  @Override
  public scala.collection.immutable.Seq<String> requiredKeys() {
    return CollectionConverters.asScala(
        List.of("pidspace.shift", "pidspace.persistence", "pidspace.allow-volatile-cluster")).toList();
  }

  @Override
  public ConfigValidation check(Config joining, Config here) {
    List<String> problems = new ArrayList<>();
    if (joining.getInt("pidspace.shift") != here.getInt("pidspace.shift")) {
      problems.add("pidspace.shift is " + joining.getInt("pidspace.shift") + " on the joining node and "
          + here.getInt("pidspace.shift") + " in the cluster");
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
}
