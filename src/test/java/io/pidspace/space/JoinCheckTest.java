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
