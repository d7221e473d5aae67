package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.typed.ActorRef;
import akka.pattern.StatusReply;
import akka.serialization.SerializationExtension;
import akka.serialization.jackson.JacksonCborSerializer;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.FreeResult;
import io.pidspace.core.PidInfo;
import io.pidspace.core.SpaceStats;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every message and reply of the space actors crosses nodes in a cluster: each must be bound to
 * Jackson CBOR (never Java serialization) and come back equal. The other actor tests run with
 * {@code akka.actor.serialize-messages = on}, which checks the same on every send.
 */
class MessageSerializationTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final SerializationTestKit serializationTestKit = new SerializationTestKit(testKit.system());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  static Stream<CborSerializable> messages() {
    ActorRef<StatusReply<SpaceStats>> stats = testKit.<StatusReply<SpaceStats>>createTestProbe().getRef();
    ActorRef<StatusReply<Done>> done = testKit.<StatusReply<Done>>createTestProbe().getRef();
    ActorRef<StatusReply<PidSpace.Allocated>> allocated =
        testKit.<StatusReply<PidSpace.Allocated>>createTestProbe().getRef();
    ActorRef<StatusReply<PidInfo>> info = testKit.<StatusReply<PidInfo>>createTestProbe().getRef();
    ActorRef<FreeResult> freeResult = testKit.<FreeResult>createTestProbe().getRef();
    ActorRef<SpaceRegistry.SpaceIds> ids = testKit.<SpaceRegistry.SpaceIds>createTestProbe().getRef();
    return Stream.of(
        new PidSpace.Create(32_768, stats),
        new PidSpace.Destroy(done),
        new PidSpace.Alloc(3, allocated),
        new PidSpace.Free(4_194_306, done),
        new PidSpace.FreeBatch(new int[] {4_194_306, 4_194_307}, freeResult),
        new PidSpace.Lookup(4_194_306, info),
        new PidSpace.GetStats(stats),
        new PidSpace.Allocated(new int[] {4_194_306, 4_194_307}),
        new PidRouter.Alloc(1, 3, allocated),
        new PidRouter.Free(4_194_306, done),
        new PidRouter.FreeBatch(new int[] {2, 4_194_306}, freeResult),
        new PidRouter.Lookup(4_194_306, info),
        new PidRouter.GetStats(1, stats),
        new SpaceRegistry.Create(SpaceRegistry.ANY_ID, 0, stats),
        new SpaceRegistry.Destroy(7, done),
        new SpaceRegistry.ListSpaces(ids),
        new SpaceRegistry.SpaceIds(new int[] {0, 1, 7}),
        new FreeResult(new int[] {4_194_306}, List.of(new FreeResult.Refusal(2, "not-allocated", "pid 2 is not allocated"))),
        new PidInfo(4_194_306, 1, 2, true),
        new SpaceStats(1, 32_768, 5, 6, 1));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("messages")
  void message_roundTripsThroughJacksonCbor(CborSerializable message) {
    assertInstanceOf(JacksonCborSerializer.class, SerializationExtension.get(testKit.system()).findSerializerFor(message));
    Object copy = serializationTestKit.verifySerialization(message, false);
    assertTrue(sameComponents(message, copy), () -> message + " came back as " + copy);
  }

  @Test
  void statusReply_carriesValueOrRefusalThroughSerialization() {
    SpaceStats stats = new SpaceStats(1, 32_768, 5, 6, 1);
    assertEquals(stats, serializationTestKit.verifySerialization(StatusReply.success(stats), true).getValue());
    String refusal = "unknown-space: space 3 does not exist";
    assertEquals(refusal,
        serializationTestKit.verifySerialization(StatusReply.error(refusal), false).getError().getMessage());
  }

  /** Record equality that compares array components by content. */
  private static boolean sameComponents(Object a, Object b) {
    if (a.getClass() != b.getClass()) {
      return false;
    }
    for (RecordComponent component : a.getClass().getRecordComponents()) {
      try {
        Object x = component.getAccessor().invoke(a);
        Object y = component.getAccessor().invoke(b);
        if (!Objects.deepEquals(x, y)) {
          return false;
        }
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(e);
      }
    }
    return true;
  }
}
