package io.pidspace.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.typed.ActorRef;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.jackson.JacksonCborSerializer;
import io.pidspace.core.CborSerializable;
import io.pidspace.core.FreeResult;
import io.pidspace.core.Hold;
import io.pidspace.core.Reconciled;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.PidInfo;
import io.pidspace.core.PidspaceException;
import io.pidspace.core.Refusal;
import io.pidspace.core.SpaceStats;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
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
    ActorRef<Result> stats = testKit.<Result>createTestProbe().getRef();
    ActorRef<Result> done = stats;
    ActorRef<PidSpace.Status> status = testKit.<PidSpace.Status>createTestProbe().getRef();
    ActorRef<PidSpace.Results> results = testKit.<PidSpace.Results>createTestProbe().getRef();
    ActorRef<SpaceRegistry.SpaceIds> ids = testKit.<SpaceRegistry.SpaceIds>createTestProbe().getRef();
    SpaceStats spaceStats = new SpaceStats(1, 32_768, 5, 6, 1);
    FreeResult.Refusal refusal = new FreeResult.Refusal(2, new Refusal(PidspaceException.Code.NOT_ALLOCATED, "pid 2 is not allocated"));
    return Stream.of(
        new PidSpace.Create(7, 32_768, status),
        new PidSpace.Destroy(8, status),
        new PidSpace.Inspect(status),
        PidSpace.Passivate.INSTANCE,
        new PidSpace.Status(true, 7, spaceStats),
        new PidSpace.Status(false, 8, null),
        new PidSpace.Run(requests(), new long[] {1_700_000_000_000L, 1_700_000_000_001L, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
            results),
        new PidSpace.Results(results(spaceStats, refusal)),
        new SpaceEvent.SpaceCreated(7, 32_768),
        new SpaceEvent.SpaceDestroyed(8),
        new SpaceEvent.PidsChanged(new int[] {2, 3, -2, 2}),
        new SpaceState.ImageSnapshot(7, IMAGE, 3, 4099, 1_700_000_061_000L,
            List.of(new SpaceEvent.AllocKeyed("9b2e6c1a-3f4d-4e5a-8b7c-0d1e2f3a4b5c", 1_700_000_060_000L, 2, new int[] {5, 6}, new int[] {1, 3}))),
        new SpaceState.ImageSnapshot(8, null, 0, 0, 1_700_000_061_000L, null),
        new SpaceEvent.AllocKeyed("retry.1:a_b-c", 1_700_000_060_000L, 3, new int[] {7, 8}, new int[] {2, 1}),
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

  /** One of every kind: a new kind must be added here (the count checks it). */
  static List<Request<?>> requests() {
    return List.of(
        new Request.Alloc(3),
        new Request.Alloc(2, "9b2e6c1a-3f4d-4e5a-8b7c-0d1e2f3a4b5c"),
        new Request.Free(new int[] {2, 3}, new int[] {1, 0}),
        new Request.Lookup(2),
        new Request.Stats(),
        new Request.AllocAt(new int[] {7, 9}, 4),
        new Request.Hold(new int[] {10}, 30_000),
        new Request.Release(4),
        new Request.SetPidMax(40_000),
        new Request.Export(),
        new Request.SetReuseDelay(30_000),
        new Request.Reconcile(new int[] {2, 9}, 3));
  }

  static List<Result> results(SpaceStats spaceStats, FreeResult.Refusal refusal) {
    return List.of(
        new Result.Pids(new int[] {4_194_306}, new int[] {3}),
        new Result.Freed(new FreeResult(new int[] {4_194_307}, List.of(refusal))),
        new Result.Info(new PidInfo(4_194_306, 1, 2, true)),
        new Result.Stats(spaceStats),
        new Result.HoldPlaced(4),
        new Result.Image(IMAGE),
        new Result.Reconciliation(new Reconciled(new int[] {3, 4}, new int[] {9}, new int[] {3})),
        new Result.Done(),
        new Result.Refused(new Refusal(PidspaceException.Code.UNKNOWN_SPACE, "space 1 does not exist")));
  }

  @Test
  void everyKind_isCovered() {
    assertEquals(Set.of(Request.class.getPermittedSubclasses()),
        requests().stream().map(Object::getClass).collect(Collectors.toSet()));
    assertEquals(Set.of(Result.class.getPermittedSubclasses()),
        results(new SpaceStats(1, 32_768, 5, 6, 1), new FreeResult.Refusal(2, new Refusal(PidspaceException.Code.NOT_ALLOCATED, "x")))
            .stream().map(Object::getClass).collect(Collectors.toSet()));
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
  void eachRequestAndResult_roundTripsAlone() {
    for (Object message : requests()) {
      assertTrue(sameComponents(message, serializationTestKit.verifySerialization(message, false)), message::toString);
    }
    for (Object message : results(new SpaceStats(1, 32_768, 5, 6, 1),
        new FreeResult.Refusal(2, new Refusal(PidspaceException.Code.NOT_ALLOCATED, "pid 2 is not allocated")))) {
      assertTrue(sameComponents(message, serializationTestKit.verifySerialization(message, false)), message::toString);
    }
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
