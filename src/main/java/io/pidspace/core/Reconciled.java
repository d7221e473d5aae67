package io.pidspace.core;

/**
 * One reconciliation report of a space (issue 12): {@code leaked} vpids are allocated but not
 * alive, {@code unknown} ones alive but not allocated (dangerous: reported, never "fixed"),
 * {@code freed} the leaked ones this report freed; each ascending.
 */
public record Reconciled(int[] leaked, int[] unknown, int[] freed) implements CborSerializable {}
