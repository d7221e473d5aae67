package io.pidspace.core;

/**
 * Marks the messages, replies and values that cross between actors and nodes. reference.conf
 * binds it to Akka's jackson-cbor serializer; Java serialization stays off. A plain marker, so
 * the core still knows nothing of Akka.
 */
public interface CborSerializable {}
