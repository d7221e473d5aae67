package io.pidspace.space;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A space's idempotency keys: the newest {@code maxKeys} keyed allocs stored within
 * {@code windowMillis} of the newest one, by key. Changed only by stored events
 * ({@link SpaceState#apply}) and expired by their stored {@code at}, so a replay builds the same
 * table; a lookup also ignores an entry older than the window on the clock of the run.
 */
final class AllocKeys {

  private final int maxKeys;
  private final long windowMillis;
  private final LinkedHashMap<String, SpaceEvent.AllocKeyed> byKey = new LinkedHashMap<>(); // oldest first

  AllocKeys(int maxKeys, long windowMillis) {
    this.maxKeys = maxKeys;
    this.windowMillis = windowMillis;
  }

  /** The stored alloc of {@code key}, or null when none is known within the window at {@code now}. */
  SpaceEvent.AllocKeyed find(String key, long now) {
    SpaceEvent.AllocKeyed known = byKey.get(key);
    return known != null && now - known.at() <= windowMillis ? known : null;
  }

  void add(SpaceEvent.AllocKeyed keyed) {
    byKey.remove(keyed.key()); // a key found expired and used again goes to the young end
    byKey.put(keyed.key(), keyed);
    long oldest = keyed.at() - windowMillis;
    Iterator<SpaceEvent.AllocKeyed> eldest = byKey.values().iterator();
    while (eldest.hasNext()) {
      SpaceEvent.AllocKeyed e = eldest.next();
      if (byKey.size() <= maxKeys && e.at() >= oldest) {
        break;
      }
      eldest.remove();
    }
  }

  void clear() {
    byKey.clear();
  }

  int size() {
    return byKey.size();
  }

  /** Oldest first, as a snapshot stores them; adding them in this order builds the same table. */
  List<SpaceEvent.AllocKeyed> entries() {
    return new ArrayList<>(byKey.values());
  }
}
