package io.pidspace.api;

import static io.pidspace.Stages.refusal;
import static io.pidspace.Stages.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.javadsl.Adapter;
import com.typesafe.config.ConfigFactory;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidLayout;
import io.pidspace.core.PidspaceException.Code;
import io.pidspace.core.SpaceStats;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** {@link PidAuthority#get} on a system with {@code akka.actor.provider = local}: plain local actors, no cluster. */
class PidAuthorityLocalProviderTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseString("akka.actor.provider = local").withFallback(ConfigFactory.load("application-test")));
  private static final PidAuthority authority = PidAuthority.get(testKit.system());
  private static final PidLayout layout = authority.layout();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void get_localProvider_runsRegistryRouterAndSpacesAsLocalSystemActors() {
    int space = value(authority.createSpace(3)).space();

    for (String name : List.of("pidspace-registry", "pidspace-" + space)) {
      value(Adapter.toClassic(testKit.system()).actorSelection("/system/" + name).resolveOne(Duration.ofSeconds(10)));
    }
  }

  @Test
  void basicOperations_workWithoutCluster() {
    int space = value(authority.createSpace(10, 1_000)).space();

    assertEquals(layout.encode(space, 2), value(authority.alloc(space)));
    assertArrayEquals(new int[] {layout.encode(space, 3), layout.encode(space, 4)}, value(authority.alloc(space, 2)));
    value(authority.free(layout.encode(space, 3)));
    assertEquals(new PidInfo(layout.encode(space, 3), space, 3, false), value(authority.lookup(layout.encode(space, 3))));
    FreeResult batch = value(authority.free(new int[] {layout.encode(space, 2), layout.encode(space, 3)}));
    assertArrayEquals(new int[] {layout.encode(space, 2)}, batch.freed());
    assertEquals(Code.NOT_ALLOCATED.wire(), batch.refused().get(0).code());
    assertEquals(new SpaceStats(space, 1_000, 1, 4, 1), value(authority.stats(space)));
    assertTrue(value(authority.spaces()).stream().map(SpaceListing::stats).toList().contains(new SpaceStats(space, 1_000, 1, 4, 1)));
    assertTrue(value(authority.alloc(PidLayout.DEFAULT_SPACE)) > 0);
  }

  @Test
  void refusals_areTypedAsInCluster() {
    int space = value(authority.createSpace(20)).space();

    assertEquals(Code.SPACE_ID_IN_USE, refusal(authority.createSpace(space)));
    assertEquals(Code.DEFAULT_SPACE, refusal(authority.destroySpace(PidLayout.DEFAULT_SPACE)));
    assertEquals(Code.OUT_OF_RANGE, refusal(authority.alloc(layout.maxSpaces())));
    assertEquals(Code.NOT_ALLOCATED, refusal(authority.free(layout.encode(space, 2))));
    value(authority.destroySpace(space));
    assertEquals(Code.UNKNOWN_SPACE, refusal(authority.alloc(space)));
    assertFalse(value(authority.spaces()).stream().anyMatch(s -> s.id() == space));
    assertEquals(new SpaceStats(space, PidLayout.PID_MAX_DEFAULT, 0, 1, 0), value(authority.createSpace(space)));
  }
}
