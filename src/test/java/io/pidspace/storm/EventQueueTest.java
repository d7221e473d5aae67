package io.pidspace.storm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EventQueueTest {

  @Test
  void poll_answersEventsInTimeOrder() {
    EventQueue q = new EventQueue();
    SplittableRandom rng = new SplittableRandom(1);
    long last = Long.MIN_VALUE;
    int n = 0;
    for (int round = 0; round < 100; round++) {
      for (int i = 0; i < 200; i++) {
        long t = last == Long.MIN_VALUE ? rng.nextLong(1000) : last + rng.nextLong(1000);
        q.add(t, t * 3);
      }
      for (int i = 0; i < 150; i++) {
        long t = q.nextTime();
        assertEquals(t * 3, q.poll(), "the event travels with its time");
        assertTrue(t >= last);
        last = t;
        n++;
      }
    }
    while (!q.isEmpty()) {
      long t = q.nextTime();
      q.poll();
      assertTrue(t >= last);
      last = t;
      n++;
    }
    assertEquals(20_000, n);
  }
}
