package io.pidspace.core;

import java.util.Arrays;

/**
 * Allocated pids with their generations ({@code generations[i]} is {@code pids[i]}'s): a free
 * that names a pid's generation frees it only while that allocation holds it, so a free retried
 * after the pid was freed and allocated again is refused ({@code stale-handle}).
 */
public record Handles(int[] pids, int[] generations) {

  @Override
  public boolean equals(Object o) {
    return o instanceof Handles h && Arrays.equals(pids, h.pids) && Arrays.equals(generations, h.generations);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(pids) + Arrays.hashCode(generations);
  }

  @Override
  public String toString() {
    return "Handles" + Arrays.toString(pids) + Arrays.toString(generations);
  }
}
