package io.pidspace.storm;

import java.util.Arrays;

/**
 * The virtual clock's agenda: a binary min-heap of (time, event) pairs held in two primitive
 * arrays, since a storm schedules millions of events and an object per event made the heap the
 * whole cost of a run. Events with equal times leave in an order fixed by the order they were
 * added, so a run is repeatable.
 */
final class EventQueue {

  private long[] times = new long[1 << 12];
  private long[] events = new long[1 << 12];
  private int size;

  boolean isEmpty() {
    return size == 0;
  }

  /** The time of the next event; only when not empty. */
  long nextTime() {
    return times[0];
  }

  void add(long time, long event) {
    if (size == times.length) {
      times = Arrays.copyOf(times, size * 2);
      events = Arrays.copyOf(events, size * 2);
    }
    int i = size++;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (times[parent] <= time) {
        break;
      }
      times[i] = times[parent];
      events[i] = events[parent];
      i = parent;
    }
    times[i] = time;
    events[i] = event;
  }

  /** Removes the next event and answers it; its time was {@link #nextTime()}. */
  long poll() {
    long next = events[0];
    long time = times[--size];
    long event = events[size];
    int i = 0;
    while (true) {
      int child = 2 * i + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && times[child + 1] < times[child]) {
        child++;
      }
      if (times[child] >= time) {
        break;
      }
      times[i] = times[child];
      events[i] = events[child];
      i = child;
    }
    times[i] = time;
    events[i] = event;
    return next;
  }
}
