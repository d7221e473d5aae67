package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.typed.ActorRef;
import akka.pattern.StatusReply;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.jackson.JacksonCborSerializer;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.FreeResult;
import io.pidspace.core.Hold;
import io.pidspace.core.Reconciled;
import io.pidspace.core.SpaceImage;
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

  private static final Hold HOLD = new Hold(4, new int[] {10, 11}, 1_700_000_030_000L);
  private static final SpaceImage IMAGE = new SpaceImage(1, 22, 32_768, 9, new byte[] {1, 2, 3}, List.of(HOLD), 4,
      30_000, new int[] {12}, new long[] {1_700_000_060_000L});

  static Stream<CborSerializable> messages() {
    ActorRef<StatusReply<SpaceStats>> stats = testKit.<StatusReply<SpaceStats>>createTestProbe().getRef();
    ActorRef<StatusReply<Done>> done = testKit.<StatusReply<Done>>createTestProbe().getRef();
    ActorRef<PidSpace.Status> status = testKit.<PidSpace.Status>createTestProbe().getRef();
    ActorRef<PidSpace.Outcomes> outcomes = testKit.<PidSpace.Outcomes>createTestProbe().getRef();
    ActorRef<SpaceRegistry.SpaceIds> ids = testKit.<SpaceRegistry.SpaceIds>createTestProbe().getRef();
    SpaceStats spaceStats = new SpaceStats(1, 32_768, 5, 6, 1);
    FreeResult.Refusal refusal = new FreeResult.Refusal(2, "not-allocated", "pid 2 is not allocated");
    return Stream.of(
        new PidSpace.Create(7, 32_768, status),
        new PidSpace.Destroy(8, status),
        new PidSpace.Inspect(status),
        PidSpace.Passivate.INSTANCE,
        new PidSpace.Status(true, 7, spaceStats),
        new PidSpace.Status(false, 8, null),
        new PidSpace.Run(List.of(
            new PidSpace.Op(PidSpace.Kind.ALLOC, 3, null, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.FREE, 0, new int[] {4_194_306, 4_194_307}, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.LOOKUP, 0, new int[] {4_194_306}, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.STATS, 0, null, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.ALLOC_AT, 4, new int[] {7, 9}, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.HOLD, 30_000, new int[] {10}, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.RELEASE, 4, null, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.PID_MAX, 40_000, null, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.EXPORT, 0, null, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.REUSE_DELAY, 30_000, null, 1_700_000_000_000L),
            new PidSpace.Op(PidSpace.Kind.RECONCILE, 3, new int[] {2, 9}, 1_700_000_000_000L)), outcomes),
        new PidSpace.Outcomes(List.of(
            new PidSpace.Outcome(null, new int[] {4_194_306}, null, null, null, null, null),
            new PidSpace.Outcome(null, new int[] {4_194_307}, List.of(refusal), null, null, null, null),
            new PidSpace.Outcome(null, null, null, new PidInfo(4_194_306, 1, 2, true), null, null, null),
            new PidSpace.Outcome(null, null, null, null, spaceStats, null, null),
            new PidSpace.Outcome(null, null, null, null, null, IMAGE, null),
            new PidSpace.Outcome(null, null, null, null, null, null,
                new Reconciled(new int[] {3, 4}, new int[] {9}, new int[] {3})),
            new PidSpace.Outcome("unknown-space: space 1 does not exist", null, null, null, null, null, null))),
        new SpaceEvent.SpaceCreated(7, 32_768),
        new SpaceEvent.SpaceDestroyed(8),
        new SpaceEvent.PidsChanged(new int[] {2, 3, -2, 2}),
        new SpaceState.ImageSnapshot(7, IMAGE, 3, 4099, 1_700_000_061_000L),
        new SpaceState.ImageSnapshot(8, null, 0, 0, 1_700_000_061_000L),
        new SpaceState.FlatSnapshot(32_768, 3, new byte[] {1, 2, 3}, 7, List.of(HOLD), 4, 30_000, new int[] {12},
            new long[] {1_700_000_060_000L}, 3, 4099, 1_700_000_061_000L),
        new SpaceEvent.Reserved(3, 4099, 1_700_000_061_000L),
        new SpaceEvent.ReuseDelayChanged(30_000),
        new SpaceEvent.PidsCooled(new int[] {12, 13}, new long[] {1_700_000_060_000L, 1_700_000_060_001L}),
        new SpaceEvent.HoldPlaced(HOLD),
        new SpaceEvent.HoldReleased(4),
        new SpaceEvent.PidMaxChanged(40_000),
        new SpaceEvent.SpaceImported(9, IMAGE),
        new PidSpace.Import(9, IMAGE, status),
        new SpaceRegistry.Import(SpaceRegistry.ANY_ID, IMAGE, stats),
        new SpaceRegistry.ImportStarted(7, 14, IMAGE),
        new SpaceRegistry.Create(SpaceRegistry.ANY_ID, 0, stats),
        new SpaceRegistry.Destroy(7, done),
        new SpaceRegistry.ListSpaces(ids),
        new SpaceRegistry.SpaceIds(new int[] {0, 1, 7}),
        new SpaceRegistry.CreateStarted(7, 12, 32_768),
        new SpaceRegistry.DestroyStarted(7, 13),
        new SpaceRegistry.Finished(7, 13),
        new SpaceRegistry.Abandoned(7, 13, 20),
        new SpaceRegistry.Adopted(7, 11),
        new SpaceRegistry.Snapshot(13, new int[] {0, 7}, new long[] {0, 11}, new int[] {9},
            List.of(new SpaceRegistry.Pending(true, 13, 1_000, null), new SpaceRegistry.Pending(true, 14, 1_000, IMAGE))),
        new FreeResult(new int[] {4_194_306}, List.of(refusal)),
        new PidInfo(4_194_306, 1, 2, true),
        spaceStats);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("messages")
  void message_roundTripsThroughItsSerializer(CborSerializable message) {
    Serialization serialization = SerializationExtension.get(testKit.system());
    if (message instanceof SpaceEvent || message instanceof SpaceRegistry.Event) {
      assertInstanceOf(JournalEventSerializer.class, serialization.findSerializerFor(message));
      // a row stored before JournalEventSerializer: the same payload under jackson-cbor's id and the class name
      byte[] payload = serialization.serialize(message).get();
      Object old = serialization.deserialize(payload, JACKSON_CBOR, message.getClass().getName()).get();
      assertTrue(sameComponents(message, old), () -> message + " came back from jackson-cbor as " + old);
    } else {
      assertInstanceOf(JacksonCborSerializer.class, serialization.findSerializerFor(message));
    }
    Object copy = serializationTestKit.verifySerialization(message, false);
    assertTrue(sameComponents(message, copy), () -> message + " came back as " + copy);
  }

  /** jackson-cbor's serializer id, in every journal row written before JournalEventSerializer. */
  private static final int JACKSON_CBOR = 33;

  @Test
  void statusReply_carriesValueOrRefusalThroughSerialization() {
    SpaceStats stats = new SpaceStats(1, 32_768, 5, 6, 1);
    assertEquals(stats, serializationTestKit.verifySerialization(StatusReply.success(stats), true).getValue());
    String refusal = "unknown-space: space 3 does not exist";
    assertEquals(refusal,
        serializationTestKit.verifySerialization(StatusReply.error(refusal), false).getError().getMessage());
  }

  /** Record equality that compares array components by content, also inside lists of records. */
  private static boolean sameComponents(Object a, Object b) {
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!sameComponents(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (a == null || b == null || !a.getClass().isRecord()) {
      return Objects.deepEquals(a, b);
    }
    if (a.getClass() != b.getClass()) {
      return false;
    }
    for (RecordComponent component : a.getClass().getRecordComponents()) {
      try {
        Object x = component.getAccessor().invoke(a);
        Object y = component.getAccessor().invoke(b);
        if (!(x instanceof List || x != null && x.getClass().isRecord() ? sameComponents(x, y) : Objects.deepEquals(x, y))) {
          return false;
        }
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(e);
      }
    }
    return true;
  }
}
