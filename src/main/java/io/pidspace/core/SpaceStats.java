package io.pidspace.core;

/** One space at a moment: live pids, its bound, its next-fit cursor and its created pages. */
public record SpaceStats(int space, int pidMax, int allocated, int lastPid, int pagesInUse)
    implements CborSerializable {}
