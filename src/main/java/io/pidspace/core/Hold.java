package io.pidspace.core;

/**
 * Vpids reserved for a restore in flight (CRIU's "pid holding"): next-fit skips them and an
 * alloc-at hands them out only to a request that names the hold. {@code expiresAt} is epoch
 * millis; a hold past it is released before anything else is decided.
 */
public record Hold(int id, int[] vpids, long expiresAt) {}
