package io.pidspace.core;

/** A global pid decoded by the shift, and whether its space holds it now. */
public record PidInfo(int pid, int space, int vpid, boolean allocated) implements CborSerializable {}
