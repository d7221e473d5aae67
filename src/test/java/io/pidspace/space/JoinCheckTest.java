package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.ConfigValidation;
import akka.cluster.Invalid;
import akka.cluster.Valid$;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JoinCheckTest {

  private final JoinCheck check = new JoinCheck();

  private static Config node(int shift, String persistence, boolean allowVolatile) {
    return ConfigFactory.parseMap(Map.of(
        "pidspace.shift", shift,
        "pidspace.persistence", persistence,
        "pidspace.allow-volatile-cluster", allowVolatile));
  }

  private static Config node(String journalIdentity) {
    return ConfigFactory.parseMap(Map.of(JournalIdentity.PATH, journalIdentity)).withFallback(node(22, "jdbc", false));
  }

  private static final String A = "7d4b6a52-2f0e-4f4e-9b0e-1f6c1d0a3e11";
  private static final String B = "c0a8e0f2-5a41-4a7b-8f43-90d2b1e6d7a4";

  @Test
  void requiredKeys_sendTheJournalIdentity() {
    assertTrue(check.requiredKeys().contains(JournalIdentity.PATH));
  }

  @Test
  void check_nodesOnOneJournal_join() {
    assertEquals(Valid$.MODULE$, check.check(node(A), node(A)));
  }

  /** Issue 29: two nodes each on its own H2 file formed a cluster, and a space lost its pids with its node. */
  @Test
  void check_aNodeOnAnotherJournal_isRefusedNamingBoth() {
    Invalid invalid = assertInstanceOf(Invalid.class, check.check(node(B), node(A)));
    String message = invalid.errorMessages().mkString("; ");
    assertTrue(message.contains("journal identity " + B + " on the joining node, " + A + " in the cluster"), message);
    assertTrue(message.contains("PostgreSQL") && message.contains("H2 TCP server"), "says what to do: " + message);
  }

  /** Unknown is not checked: a system made without reading its journal's identity, or a build before them. */
  @Test
  void check_anUnknownJournal_isNotRefusedForIt() {
    assertEquals(Valid$.MODULE$, check.check(node(""), node(A)));
    assertEquals(Valid$.MODULE$, check.check(node(A), node("")));
    assertEquals(Valid$.MODULE$, check.check(node(22, "jdbc", false), node(A)), "a joining build before identities");
  }

  @Test
  void check_durableNodesWithOneShift_join() {
    assertEquals(Valid$.MODULE$, check.check(node(22, "jdbc", false), node(22, "jdbc", false)));
  }

  @Test
  void check_volatileNode_isRefusedOnEitherSide() {
    assertRefused(check.check(node(22, "none", false), node(22, "jdbc", false)), "allow-volatile-cluster");
    assertRefused(check.check(node(22, "jdbc", false), node(22, "none", false)), "allow-volatile-cluster");
  }

  @Test
  void check_volatileNodesThatAllowIt_join() {
    assertEquals(Valid$.MODULE$, check.check(node(22, "none", true), node(22, "none", true)));
  }

  @Test
  void check_anotherShift_isRefused() {
    assertRefused(check.check(node(15, "jdbc", false), node(22, "jdbc", false)), "pidspace.shift is 15");
  }

  private static void assertRefused(ConfigValidation result, String reason) {
    Invalid invalid = assertInstanceOf(Invalid.class, result);
    assertTrue(invalid.errorMessages().mkString("; ").contains(reason), invalid.errorMessages().mkString("; "));
  }
}
