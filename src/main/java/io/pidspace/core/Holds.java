package io.pidspace.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** The live {@link Hold holds} of one space by id, which hold each held vpid is in, and the last id used. */
final class Holds {

  private record Held(TreeSet<Integer> vpids, long expiresAt) {
    Held copy() {
      return new Held(new TreeSet<>(vpids), expiresAt);
    }
  }

  /** The holds as they were at {@link #save()}, to put back with {@link #restore}. */
  static final class Saved {
    private final TreeMap<Integer, Held> byId;
    private final int lastHold;

    private Saved(TreeMap<Integer, Held> byId, int lastHold) {
      this.byId = byId;
      this.lastHold = lastHold;
    }
  }

  private TreeMap<Integer, Held> byId = new TreeMap<>();
  private final Map<Integer, Integer> heldBy = new HashMap<>();
  private int lastHold;

  boolean exists(int id) {
    return byId.containsKey(id);
  }

  /** Whether a hold reserves {@code vpid}; cheap while there is none (next-fit asks it of every candidate). */
  boolean isHeld(int vpid) {
    return !heldBy.isEmpty() && heldBy.containsKey(vpid);
  }

  /** The hold that reserves {@code vpid}, or {@code null}. */
  Integer holder(int vpid) {
    return heldBy.get(vpid);
  }

  /** The highest held vpid, 0 when none. */
  int highestHeld() {
    return heldBy.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
  }

  void place(Hold hold) {
    TreeSet<Integer> vpids = new TreeSet<>();
    for (int v : hold.vpids()) {
      vpids.add(v);
      heldBy.put(v, hold.id());
    }
    byId.put(hold.id(), new Held(vpids, hold.expiresAt()));
    lastHold = Math.max(lastHold, hold.id());
  }

  void remove(int id) {
    byId.remove(id).vpids.forEach(heldBy::remove);
  }

  /** {@code vpid} is allocated at: its hold, if any, lets it go, and goes itself once emptied (the restore is done). */
  void claim(int vpid) {
    Integer hold = heldBy.remove(vpid);
    if (hold != null) {
      Held held = byId.get(hold);
      held.vpids.remove(vpid);
      if (held.vpids.isEmpty()) {
        byId.remove(hold);
      }
    }
  }

  /** The ids of the holds whose time is up at {@code now} (epoch millis), ascending. */
  List<Integer> expiredAt(long now) {
    List<Integer> expired = new ArrayList<>();
    byId.forEach((id, held) -> {
      if (held.expiresAt <= now) {
        expired.add(id);
      }
    });
    return expired;
  }

  /** The live holds, by id. */
  List<Hold> list() {
    List<Hold> out = new ArrayList<>();
    byId.forEach((id, held) -> out.add(new Hold(id, held.vpids.stream().mapToInt(Integer::intValue).toArray(),
        held.expiresAt)));
    return out;
  }

  int lastHold() {
    return lastHold;
  }

  void lastHold(int last) {
    lastHold = last;
  }

  Saved save() {
    TreeMap<Integer, Held> copy = new TreeMap<>();
    byId.forEach((id, held) -> copy.put(id, held.copy()));
    return new Saved(copy, lastHold);
  }

  /** Puts back what {@code saved} saved; {@code saved} is not to be used again. */
  void restore(Saved saved) {
    byId = saved.byId;
    heldBy.clear();
    byId.forEach((id, held) -> held.vpids.forEach(v -> heldBy.put(v, id)));
    lastHold = saved.lastHold;
  }
}
