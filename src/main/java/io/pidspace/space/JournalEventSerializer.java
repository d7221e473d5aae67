package io.pidspace.space;

import akka.actor.ExtendedActorSystem;
import akka.serialization.SerializerWithStringManifest;
import akka.serialization.jackson.JacksonObjectMapperProvider;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The journal's events of spaces and the registry: the same CBOR payload as Akka's
 * {@code jackson-cbor} (its own mapper), under a one- or two-letter manifest instead of the class
 * name. The manifest is stored in every row, and the class name was the largest part of a space's
 * event row (41 of some 280 bytes on PostgreSQL, docs/benchmarks.md). Rows written before keep
 * {@code jackson-cbor}'s serializer id and class-name manifest and are read by it as ever
 * ({@code allowed-class-prefix} in reference.conf). A code is never reused for another class.
 */
public final class JournalEventSerializer extends SerializerWithStringManifest {

  /** The serializer id stored in each row (Akka reserves 0..40 for itself). */
  static final int ID = 7301;

  private static final List<Map.Entry<String, Class<?>>> CODES = List.of(
      Map.entry("C", SpaceEvent.SpaceCreated.class),
      Map.entry("D", SpaceEvent.SpaceDestroyed.class),
      Map.entry("P", SpaceEvent.PidsChanged.class),
      Map.entry("H", SpaceEvent.HoldPlaced.class),
      Map.entry("h", SpaceEvent.HoldReleased.class),
      Map.entry("M", SpaceEvent.PidMaxChanged.class),
      Map.entry("U", SpaceEvent.ReuseDelayChanged.class),
      Map.entry("O", SpaceEvent.PidsCooled.class),
      Map.entry("I", SpaceEvent.SpaceImported.class),
      Map.entry("R", SpaceEvent.Reserved.class),
      Map.entry("K", SpaceEvent.AllocKeyed.class),
      Map.entry("rC", SpaceRegistry.CreateStarted.class),
      Map.entry("rI", SpaceRegistry.ImportStarted.class),
      Map.entry("rD", SpaceRegistry.DestroyStarted.class),
      Map.entry("rF", SpaceRegistry.Finished.class),
      Map.entry("rA", SpaceRegistry.Abandoned.class),
      Map.entry("rO", SpaceRegistry.Adopted.class));

  private final Map<Class<?>, String> manifests = new HashMap<>();
  private final Map<String, Class<?>> classes = new HashMap<>();
  private final ObjectMapper mapper;

  public JournalEventSerializer(ExtendedActorSystem system) {
    for (Map.Entry<String, Class<?>> code : CODES) {
      manifests.put(code.getValue(), code.getKey());
      classes.put(code.getKey(), code.getValue());
    }
    this.mapper = JacksonObjectMapperProvider.get(system).getOrCreate("jackson-cbor", Optional.of(new CBORFactory()));
  }

  @Override
  public int identifier() {
    return ID;
  }

  @Override
  public String manifest(Object event) {
    String manifest = manifests.get(event.getClass());
    if (manifest == null) {
      throw new IllegalArgumentException("no journal code for " + event.getClass().getName());
    }
    return manifest;
  }

  @Override
  public byte[] toBinary(Object event) {
    try {
      return mapper.writeValueAsBytes(event);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    Class<?> type = classes.get(manifest);
    if (type == null) {
      throw new NotSerializableException("unknown journal event code '" + manifest + "'");
    }
    try {
      return mapper.readValue(bytes, type);
    } catch (IOException e) {
      NotSerializableException unreadable = new NotSerializableException(
          "journal event " + type.getSimpleName() + " is unreadable: " + e.getMessage());
      unreadable.initCause(e);
      throw unreadable;
    }
  }
}
