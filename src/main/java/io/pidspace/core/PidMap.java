package io.pidspace.core;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.roaringbitmap.RoaringBitmap;

/**
 * The vpid bitmap of one space: the seed's {@code pidmap_array} with its {@code last_pid}.
 *
 * <p>The single home of the allocation rule (DESIGN.md §1), next-fit: the lowest free vpid
 * {@code v} with {@code lastPid < v < pidMax}; else the lowest free {@code v} with {@code
 * reservedFloor <= v <= lastPid}; else the space is exhausted. Unlike the seed's loop, a space
 * whose only free vpid is {@code lastPid} itself hands that vpid out.
 *
 * <p>Paged like the seed: a page of {@value #BITS_PER_PAGE} bits is created on first use and
 * keeps its free count, so full pages are skipped without reading them. Not thread-safe: one
 * owner (an actor) at a time.
 *
 * <p>Exact vpids ({@code clone3(set_tid)}): {@link Run#allocAt} takes named vpids, all or nothing,
 * and leaves {@code lastPid} where it is. {@link Hold Holds} reserve vpids that next-fit skips.
 * pid_max can change while the space lives ({@link Run#setPidMax}); the pages cover the whole
 * layout, so raising it moves nothing.
 */
public final class PidMap {

  public static final int BITS_PER_PAGE = 32_768;
  public static final int NONE = -1;
  private static final int PAGE_SHIFT = 15;
  private static final int PAGE_MASK = BITS_PER_PAGE - 1;
  private static final int WORDS_PER_PAGE = BITS_PER_PAGE / Long.SIZE;
  /**
   * Marks a {@code +v} of a record as an alloc-at: it does not move {@code lastPid}. Above every
   * vpid of every layout ({@code MAX_SHIFT} is 30), below the sign bit.
   */
  public static final int AT = 1 << 30;
  /** How many vpids a refusal names at most. */
  private static final int NAMED = 16;

  private final PidLayout layout;
  private final int space;
  private int pidMax;
  private final int reservedFloor;
  private final long[][] pages;
  private final int[] freeInPage;
  private int lastPid;
  private int allocated;
  private int pagesInUse;
  // Holds by id, each with its vpids; and which hold each held vpid is in.
  private final TreeMap<Integer, HeldVpids> holds = new TreeMap<>();
  private final Map<Integer, Integer> heldBy = new HashMap<>();
  private int lastHold;
  // The optional reuse delay (millis; 0 is the seed's rule): a vpid freed at t is skipped by
  // next-fit until t + delay. When each freed vpid cools down until, and the time decisions are made at.
  private long reuseDelay;
  private final Map<Integer, Long> coolingUntil = new HashMap<>();
  private long clock;

  // The leaked vpids of the last reconciliation reports, newest first: in memory only, so after a
  // restart or failover the count starts again (a leak is freed later, never earlier).
  private final java.util.ArrayDeque<Set<Integer>> leakReports = new java.util.ArrayDeque<>();

  /** Reports a space remembers for reconciliation: more than any setting asks for. */
  public static final int MAX_REPORTS = 16;

  /** The longest reuse delay a space may have. */
  public static final long MAX_REUSE_DELAY = 86_400_000L;

  private record HeldVpids(TreeSet<Integer> vpids, long expiresAt) {
    HeldVpids copy() {
      return new HeldVpids(new TreeSet<>(vpids), expiresAt);
    }
  }

  private PidMap(PidLayout layout, int space, int pidMax, int reservedFloor, int lastPid) {
    this.layout = layout;
    this.space = space;
    this.pidMax = pidMax;
    this.reservedFloor = reservedFloor;
    this.lastPid = lastPid;
    int pageCount = (layout.pidMaxLimit() + BITS_PER_PAGE - 1) >>> PAGE_SHIFT; // pid_max may rise
    this.pages = new long[pageCount][];
    this.freeInPage = new int[pageCount];
    Arrays.fill(freeInPage, BITS_PER_PAGE);
  }

  /**
   * A fresh space as the seed makes it: space 0 with vpid 0 taken and {@code lastPid = 0};
   * any other space empty with {@code lastPid = 1}, so its first vpid is 2.
   */
  public static PidMap create(PidLayout layout, int space, int pidMax) {
    layout.checkSpace(space);
    layout.checkPidMax(pidMax);
    if (space != PidLayout.DEFAULT_SPACE) {
      return new PidMap(layout, space, pidMax, PidLayout.RESERVED_PIDS_NON_DFLT, PidLayout.RESERVED_PIDS_NON_DFLT);
    }
    PidMap map = new PidMap(layout, space, pidMax, PidLayout.RESERVED_PIDS, 0);
    map.set(0);
    map.allocated = 0; // vpid 0 is reserved, not a live process
    return map;
  }

  /**
   * A space as a snapshot recorded it: its bound, its cursor and its allocated vpids.
   *
   * @throws IllegalStateException if the record cannot describe a space of this layout
   */
  public static PidMap restore(PidLayout layout, int space, int pidMax, int lastPid, int[] allocated) {
    PidMap map = create(layout, space, pidMax);
    if (lastPid < 0 || lastPid >= pidMax) {
      throw new IllegalStateException("last_pid " + lastPid + " of space " + space + " is beyond pid_max " + pidMax);
    }
    map.markAllocated(allocated, allocated.length);
    map.lastPid = lastPid;
    return map;
  }

  /** Allocates one vpid by the rule; {@link #NONE} when the space is exhausted. */
  public int alloc() {
    int v = findUnheld(lastPid + 1, pidMax);
    if (v == NONE) {
      v = findUnheld(reservedFloor, lastPid + 1);
      if (v == NONE) {
        return NONE;
      }
    }
    set(v);
    lastPid = v;
    return v;
  }

  /**
   * Allocates up to {@code count} vpids into {@code out}, exactly as {@code count} calls of
   * {@link #alloc()} would, and stops early only when the space is exhausted.
   *
   * @return how many were allocated
   */
  public int alloc(int count, int[] out) {
    int n = peek(count, out);
    markAllocated(out, n);
    return n;
  }

  /**
   * The vpids that {@code count} allocations would hand out now, without changing anything:
   * every free vpid above {@code lastPid} in order, then every free one from the reserved floor
   * up to {@code lastPid}. Lets an event-sourced owner decide before it stores the event.
   *
   * @return how many were found (fewer than {@code count} only when the space runs out)
   */
  public int peek(int count, int[] out) {
    int n = collect(lastPid + 1, pidMax, count, 0, out);
    return n < count ? collect(reservedFloor, lastPid + 1, count, n, out) : n;
  }

  /**
   * Marks vpids that {@link #peek} chose as allocated; the last one becomes {@code lastPid}.
   *
   * @throws IllegalStateException if one is already allocated or out of range: the caller's
   *     record of this space is corrupt
   */
  public void markAllocated(int[] vpids, int n) {
    for (int i = 0; i < n; i++) { // check all first: a refused record changes nothing
      int v = vpids[i];
      if (v <= 0 || v >= pidMax || isSet(v)) {
        throw new IllegalStateException(name(v) + " cannot be marked allocated: it is taken or out of range");
      }
    }
    for (int i = 0; i < n; i++) {
      set(vpids[i]);
    }
    if (n > 0) {
      lastPid = vpids[n - 1];
    }
  }

  /** Frees one vpid. @throws PidspaceException and changes nothing if it was not allocated */
  public void free(int vpid) {
    PidspaceException refusal = checkFree(vpid);
    if (refusal != null) {
      throw refusal;
    }
    clear(vpid);
  }

  /** Why {@code vpid} cannot be freed now, or {@code null} if it can. */
  public PidspaceException checkFree(int vpid) {
    if (vpid < 0 || vpid >= pidMax) {
      return PidspaceException.outOfRange(name(vpid) + " is beyond pid_max " + pidMax + " of space " + space);
    }
    if (vpid == 0) {
      return new PidspaceException(PidspaceException.Code.RESERVED_PID, name(vpid) + " is reserved");
    }
    if (!isSet(vpid)) {
      return new PidspaceException(PidspaceException.Code.NOT_ALLOCATED, name(vpid) + " is not allocated");
    }
    return null;
  }

  private String name(int vpid) {
    return vpid >= 0 && vpid < layout.pidMaxLimit()
        ? "pid " + layout.encode(space, vpid) + " (space " + space + ", vpid " + vpid + ")"
        : "vpid " + vpid + " of space " + space;
  }

  /**
   * Frees what can be freed of a batch, in order: each vpid that {@link #checkFree} accepts at
   * its turn (a vpid named twice is refused the second time, a double free).
   *
   * @param refusals receives the index of each refused vpid with its reason
   * @return how many were freed
   */
  public int freeAll(int[] vpids, Refusals refusals) {
    int n = 0;
    for (int i = 0; i < vpids.length; i++) {
      PidspaceException refusal = checkFree(vpids[i]);
      if (refusal == null) {
        clear(vpids[i]);
        n++;
      } else {
        refusals.refused(i, refusal);
      }
    }
    return n;
  }

  /**
   * Starts deciding a run of requests on this map, one by one in arrival order, exactly as if
   * each came alone. The map changes as the run goes; {@link Run#changes()} is the record to
   * store, and {@link Run#rollback()} puts the map back as it was, so an event-sourced owner
   * can store the record first and then {@link #apply} it.
   */
  public Run begin() {
    return new Run();
  }

  /** One step of a run's record: what {@link Run#records()} lists, in order. */
  public sealed interface Step {}

  /** {@code +v} allocated by next-fit, {@code +(AT | v)} allocated at, {@code -v} freed; see {@link #apply}. */
  public record Pids(int[] changes) implements Step {}

  public record HoldPlaced(Hold hold) implements Step {}

  /** Released by its owner or by expiry (a hold emptied by alloc-at claims goes by itself). */
  public record HoldReleased(int hold) implements Step {}

  public record PidMaxSet(int pidMax) implements Step {}

  public record ReuseDelaySet(long reuseDelay) implements Step {}

  /** Vpids freed in the run while a reuse delay was on, each cooling down until its {@code until} (epoch millis). */
  public record Cooled(int[] vpids, long[] until) implements Step {}

  /** One run of requests being decided; see {@link #begin()}. */
  public final class Run {
    private final int lastPidBefore = lastPid;
    private final int pidMaxBefore = pidMax;
    private int[] changes = new int[16];
    private int n;
    private final List<Step> steps = new ArrayList<>();
    private final List<Integer> stepsAt = new ArrayList<>(); // n when each step was taken
    // The holds as they were, copied when the run first touches them.
    private TreeMap<Integer, HeldVpids> holdsBefore;
    private int lastHoldBefore;
    private final long reuseDelayBefore = reuseDelay;
    // vpids this run set cooling, with what each had before (null: none), to record and to undo
    private final List<Integer> cooled = new ArrayList<>();
    private final List<Long> cooledUntil = new ArrayList<>();
    private final List<Long> cooledBefore = new ArrayList<>();

    private Run() {}

    /** As {@link PidMap#alloc(int, int[])}. */
    public int alloc(int count, int[] out) {
      int k = PidMap.this.alloc(count, out);
      for (int i = 0; i < k; i++) {
        record(out[i]);
      }
      return k;
    }

    /** Frees {@code vpid}, or says why it cannot be freed and changes nothing; with a reuse delay it cools down. */
    public PidspaceException free(int vpid) {
      PidspaceException refusal = checkFree(vpid);
      if (refusal == null) {
        clear(vpid);
        record(-vpid);
        if (reuseDelay > 0) {
          long until = clock + reuseDelay;
          cooled.add(vpid);
          cooledUntil.add(until);
          cooledBefore.add(coolingUntil.put(vpid, until));
        }
      }
      return refusal;
    }

    /**
     * Sets the run's clock (epoch millis): holds whose end has passed are released, vpids whose
     * reuse delay has passed are free for next-fit again, and vpids freed now cool down from it.
     */
    public void at(long now) {
      clock = now;
      coolingUntil.values().removeIf(until -> until <= now); // only decisions read them: nothing to record
      expireHolds(now);
    }

    /**
     * Compares the space with the vpids a container runtime sees {@code alive} (reconciliation,
     * as Kubernetes' repair loop does for its bitmap allocators). With {@code reports} above 0,
     * frees each leaked vpid that was also leaked in each of the {@code reports} reports before
     * this one; with 0 it only reports. Every report is remembered for the next ones.
     *
     * @return the report, or throws {@link PidspaceException} ({@code out-of-range},
     *     {@code bad-request}) and changes nothing when {@code alive} names a vpid outside
     *     {@code 1..pidMax-1} or one twice
     */
    public Reconciled reconcile(int[] alive, int reports) {
      Set<Integer> aliveSet = new HashSet<>();
      for (int v : alive) {
        if (v < 1 || v >= pidMax) {
          throw PidspaceException.outOfRange("alive vpids must be within 1.." + (pidMax - 1) + " (pid_max " + pidMax
              + " of space " + space + ")");
        }
        if (!aliveSet.add(v)) {
          throw PidspaceException.badRequest("alive must not name one vpid twice");
        }
      }
      IntStream.Builder leaked = IntStream.builder();
      forEachAllocated(v -> {
        if (!aliveSet.contains(v)) {
          leaked.add(v);
        }
      });
      int[] leakedNow = leaked.build().toArray();
      int[] unknown = aliveSet.stream().filter(v -> !isSet(v)).mapToInt(Integer::intValue).sorted().toArray();
      IntStream.Builder freed = IntStream.builder();
      if (reports > 0 && leakReports.size() >= reports) {
        List<Set<Integer>> previous = leakReports.stream().limit(reports).toList();
        for (int v : leakedNow) {
          if (previous.stream().allMatch(report -> report.contains(v))) {
            free(v);
            freed.add(v);
          }
        }
      }
      Set<Integer> report = new HashSet<>();
      for (int v : leakedNow) {
        report.add(v);
      }
      leakReports.addFirst(report);
      while (leakReports.size() > Math.max(reports, MAX_REPORTS)) {
        leakReports.removeLast();
      }
      return new Reconciled(leakedNow, unknown, freed.build().toArray());
    }

    /** Sets the reuse delay (millis, 0 for off): vpids freed from now on are skipped by next-fit that long. */
    public void setReuseDelay(long millis) {
      if (millis < 0 || millis > MAX_REUSE_DELAY) {
        throw PidspaceException.outOfRange("reuseDelay must be within 0.." + MAX_REUSE_DELAY / 3_600_000 + " h");
      }
      reuseDelay = millis;
      step(new ReuseDelaySet(millis));
    }

    /**
     * Allocates exactly {@code vpids} ({@code clone3(set_tid)}), all or nothing, without moving
     * {@code lastPid}; vpids of hold {@code hold} (0: none) are claimed from it.
     *
     * @return why not (nothing changed), or {@code null}
     */
    public PidspaceException allocAt(int[] vpids, int hold) {
      PidspaceException refusal = checkAllocAt(vpids, hold);
      if (refusal != null) {
        return refusal;
      }
      if (hold != 0) {
        touchHolds();
      }
      for (int v : vpids) {
        takeAt(v);
        record(AT | v);
      }
      return null;
    }

    /**
     * Holds {@code vpids} until {@code expiresAt} (epoch millis), all or nothing.
     *
     * @return the new hold's id
     * @throws PidspaceException and changes nothing when one is out of range, named twice, in use or held
     */
    public int hold(int[] vpids, long expiresAt) {
      PidspaceException refusal = checkExact(vpids, 0, true);
      if (refusal != null) {
        throw refusal;
      }
      touchHolds();
      Hold hold = new Hold(lastHold + 1, vpids.clone(), expiresAt);
      place(hold);
      step(new HoldPlaced(hold));
      return hold.id();
    }

    /** Releases hold {@code hold}: its vpids are free again. @return why not, or {@code null} */
    public PidspaceException release(int hold) {
      if (!holds.containsKey(hold)) {
        return PidspaceException.unknownHold(space, hold);
      }
      touchHolds();
      unplace(hold);
      step(new HoldReleased(hold));
      return null;
    }

    /** Releases every hold whose time is up at {@code now} (epoch millis). */
    public void expireHolds(long now) {
      List<Integer> expired = new ArrayList<>();
      holds.forEach((id, held) -> {
        if (held.expiresAt <= now) {
          expired.add(id);
        }
      });
      expired.forEach(this::release);
    }

    /**
     * Sets pid_max: up to {@code PID_MAX_LIMIT} any time, down only above the highest allocated
     * or held vpid. Lowered below {@code lastPid}, {@code lastPid} becomes {@code pidMax - 1}, so
     * next-fit wraps to the reserved floor as the seed does at its bound.
     *
     * @throws PidspaceException and changes nothing when it may not
     */
    public void setPidMax(int newPidMax) {
      PidspaceException refusal = checkPidMax(newPidMax);
      if (refusal != null) {
        throw refusal;
      }
      changePidMax(newPidMax);
      step(new PidMaxSet(newPidMax));
    }

    /**
     * Marks {@code vpid} allocated as a recorded alloc of it would be (it becomes {@code lastPid}).
     *
     * @return false, changing nothing, if it is taken, held or out of range
     */
    public boolean take(int vpid) {
      if (vpid <= 0 || vpid >= pidMax || isSet(vpid) || isHeld(vpid)) {
        return false;
      }
      set(vpid);
      lastPid = vpid;
      record(vpid);
      return true;
    }

    /** How many pid changes the run holds ({@link #change}). */
    public int size() {
      return n;
    }

    /** How many changes of other kinds (holds, pid_max, reuse delay) the run holds. */
    public int otherSteps() {
      return steps.size();
    }

    /** Its {@code i}th change, as {@link #changes()} lists them. */
    public int change(int i) {
      Objects.checkIndex(i, n);
      return changes[i];
    }

    /** What the run changed, in order: {@code +v} allocated by next-fit, {@code +(AT | v)} at, {@code -v} freed. */
    public int[] changes() {
      return Arrays.copyOf(changes, n);
    }

    /** The run's whole record in order: its pid changes between the steps that are not pid changes. */
    public List<Step> records() {
      List<Step> out = new ArrayList<>();
      int from = 0;
      for (int i = 0; i < steps.size(); i++) {
        int at = stepsAt.get(i);
        if (at > from) {
          out.add(new Pids(Arrays.copyOfRange(changes, from, at)));
          from = at;
        }
        out.add(steps.get(i));
      }
      if (n > from) {
        out.add(new Pids(Arrays.copyOfRange(changes, from, n)));
      }
      if (!cooled.isEmpty()) { // only decisions read them, so after the frees they follow is soon enough
        out.add(new Cooled(cooled.stream().mapToInt(Integer::intValue).toArray(),
            cooledUntil.stream().mapToLong(Long::longValue).toArray()));
      }
      return out;
    }

    /** Undoes the whole run, newest change first, and restores {@code lastPid}, pid_max and the holds. */
    public void rollback() {
      for (int i = n - 1; i >= 0; i--) {
        int c = changes[i];
        if (c > 0) {
          clear(c & ~AT);
        } else {
          set(-c);
        }
      }
      lastPid = lastPidBefore;
      pidMax = pidMaxBefore;
      reuseDelay = reuseDelayBefore;
      for (int i = cooled.size() - 1; i >= 0; i--) {
        Long before = cooledBefore.get(i);
        if (before == null) {
          coolingUntil.remove(cooled.get(i));
        } else {
          coolingUntil.put(cooled.get(i), before);
        }
      }
      cooled.clear();
      cooledUntil.clear();
      cooledBefore.clear();
      if (holdsBefore != null) {
        holds.clear();
        heldBy.clear();
        holdsBefore.forEach((id, held) -> place(new Hold(id, held.vpids.stream().mapToInt(Integer::intValue).toArray(),
            held.expiresAt)));
        lastHold = lastHoldBefore;
        holdsBefore = null;
      }
      n = 0;
      steps.clear();
      stepsAt.clear();
    }

    private void touchHolds() {
      if (holdsBefore == null) {
        holdsBefore = new TreeMap<>();
        holds.forEach((id, held) -> holdsBefore.put(id, held.copy()));
        lastHoldBefore = lastHold;
      }
    }

    private void step(Step step) {
      steps.add(step);
      stepsAt.add(n);
    }

    private void record(int change) {
      if (n == changes.length) {
        changes = Arrays.copyOf(changes, n * 2);
      }
      changes[n++] = change;
    }
  }

  /**
   * Applies what a {@link Run} recorded: {@code +v} marks {@code v} allocated and makes it
   * {@code lastPid}, {@code +(AT | v)} marks it allocated (claimed from its hold, if held),
   * {@code -v} frees it. Vpid 0 is never in a record.
   *
   * @throws IllegalStateException and changes nothing if the record does not fit this map: the
   *     caller's record of this space is corrupt
   */
  public void apply(int[] changes) {
    Run undo = new Run();
    for (int c : changes) {
      boolean at = c > 0 && (c & AT) != 0;
      int v = at ? c & ~AT : Math.abs(c);
      boolean fits = c > 0 ? v > 0 && v < pidMax && !isSet(v) : c < 0 && isAllocated(v);
      if (!fits) {
        undo.rollback();
        throw new IllegalStateException(name(v) + (c > 0 ? " cannot be marked allocated" : " cannot be marked free"));
      }
      if (at) {
        undo.touchHolds();
        takeAt(v);
      } else if (c > 0) {
        set(v);
        lastPid = v;
      } else {
        clear(v);
      }
      undo.record(c);
    }
  }

  /** Applies a stored {@link HoldPlaced}. @throws IllegalStateException if it does not fit */
  public void applyHold(Hold hold) {
    if (hold.id() <= 0 || holds.containsKey(hold.id()) || checkExact(hold.vpids(), 0, true) != null) {
      throw new IllegalStateException("hold " + hold.id() + " does not fit space " + space);
    }
    place(hold);
  }

  /** Restores the last hold id from a snapshot (released holds leave no other trace of it). */
  public void restoreLastHold(int last) {
    lastHold = Math.max(lastHold, last);
  }

  /** Applies a stored {@link HoldReleased}. @throws IllegalStateException if there is no such hold */
  public void applyRelease(int hold) {
    if (!holds.containsKey(hold)) {
      throw new IllegalStateException("space " + space + " has no hold " + hold + " to release");
    }
    unplace(hold);
  }

  /** Applies a stored {@link ReuseDelaySet}. */
  public void applyReuseDelay(long millis) {
    if (millis < 0 || millis > MAX_REUSE_DELAY) {
      throw new IllegalStateException("reuse delay " + millis + " does not fit space " + space);
    }
    reuseDelay = millis;
  }

  /** Applies a stored {@link Cooled}. */
  public void applyCooled(int[] vpids, long[] until) {
    if (vpids.length != until.length) {
      throw new IllegalStateException("a cooling record of space " + space + " is corrupt");
    }
    for (int i = 0; i < vpids.length; i++) {
      coolingUntil.put(vpids[i], until[i]);
    }
  }

  public long reuseDelay() {
    return reuseDelay;
  }

  /** The vpids still cooling down at the map's clock, ascending, with their ends: {@code [vpids, until]}. */
  public long[][] cooling() {
    int[] vpids = coolingUntil.entrySet().stream().filter(e -> e.getValue() > clock)
        .mapToInt(Map.Entry::getKey).sorted().toArray();
    long[][] out = new long[2][vpids.length];
    for (int i = 0; i < vpids.length; i++) {
      out[0][i] = vpids[i];
      out[1][i] = coolingUntil.get(vpids[i]);
    }
    return out;
  }

  /** Applies a stored {@link PidMaxSet}. @throws IllegalStateException if it does not fit */
  public void applyPidMax(int newPidMax) {
    if (checkPidMax(newPidMax) != null) {
      throw new IllegalStateException("pid_max " + newPidMax + " does not fit space " + space);
    }
    changePidMax(newPidMax);
  }

  /** Why {@code vpids} cannot be allocated at (claiming from {@code hold}, 0 for none), or {@code null}. */
  public PidspaceException checkAllocAt(int[] vpids, int hold) {
    if (hold != 0 && !holds.containsKey(hold)) {
      return PidspaceException.unknownHold(space, hold);
    }
    return checkExact(vpids, hold, false);
  }

  /** Range and duplicates, then in use, then held by a hold other than {@code hold} (any, for a new hold). */
  private PidspaceException checkExact(int[] vpids, int hold, boolean anyHoldRefuses) {
    if (vpids.length == 0) {
      return PidspaceException.badRequest("vpids must name at least one vpid");
    }
    Set<Integer> seen = new HashSet<>();
    for (int v : vpids) {
      if (v < 1 || v >= pidMax) {
        return PidspaceException.outOfRange("vpids must be within 1.." + (pidMax - 1) + " (pid_max " + pidMax
            + " of space " + space + ")");
      }
      if (!seen.add(v)) {
        return PidspaceException.badRequest("vpids must not name one vpid twice");
      }
    }
    List<Integer> inUse = new ArrayList<>();
    List<Integer> held = new ArrayList<>();
    for (int v : vpids) {
      if (isSet(v)) {
        inUse.add(v);
      } else if (heldBy.containsKey(v) && (anyHoldRefuses || heldBy.get(v) != hold)) {
        held.add(v);
      }
    }
    if (!inUse.isEmpty()) {
      return new PidspaceException(PidspaceException.Code.PID_IN_USE, named(inUse) + " in use");
    }
    if (!held.isEmpty()) {
      return new PidspaceException(PidspaceException.Code.PID_HELD, named(held) + " held for a restore in flight");
    }
    return null;
  }

  /** "vpid 7 of space 3 is" or "vpids 7, 9 of space 3 are", at most {@value #NAMED} named. */
  private String named(List<Integer> vpids) {
    StringBuilder text = new StringBuilder(vpids.size() == 1 ? "vpid " : "vpids ");
    for (int i = 0; i < Math.min(vpids.size(), NAMED); i++) {
      text.append(i == 0 ? "" : ", ").append(vpids.get(i));
    }
    if (vpids.size() > NAMED) {
      text.append(" and ").append(vpids.size() - NAMED).append(" more");
    }
    return text.append(" of space ").append(space).append(vpids.size() == 1 ? " is" : " are").toString();
  }

  private PidspaceException checkPidMax(int newPidMax) {
    try {
      layout.checkPidMax(newPidMax);
    } catch (PidspaceException outside) {
      return outside;
    }
    int highest = highestAllocated();
    int highestHeld = heldBy.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
    if (Math.max(highest, highestHeld) >= newPidMax) {
      boolean isHeld = highestHeld > highest;
      int v = Math.max(highest, highestHeld);
      return new PidspaceException(isHeld ? PidspaceException.Code.PID_HELD : PidspaceException.Code.PID_IN_USE,
          "pid_max of space " + space + " can go down to " + (v + 1) + " at the lowest: vpid " + v + " is "
              + (isHeld ? "held" : "allocated"));
    }
    return null;
  }

  private void changePidMax(int newPidMax) {
    pidMax = newPidMax;
    lastPid = Math.min(lastPid, newPidMax - 1);
  }

  /** The highest allocated vpid, 0 when none (vpid 0 of space 0 is not allocated). */
  private int highestAllocated() {
    for (int p = pages.length - 1; p >= 0; p--) {
      long[] page = pages[p];
      if (page == null || freeInPage[p] == BITS_PER_PAGE) {
        continue;
      }
      for (int w = WORDS_PER_PAGE - 1; w >= 0; w--) {
        if (page[w] != 0) {
          return (p << PAGE_SHIFT) | (w << 6) | (63 - Long.numberOfLeadingZeros(page[w]));
        }
      }
    }
    return 0;
  }

  private void takeAt(int v) {
    set(v);
    Integer hold = heldBy.remove(v);
    if (hold != null) {
      HeldVpids held = holds.get(hold);
      held.vpids.remove(v);
      if (held.vpids.isEmpty()) {
        holds.remove(hold); // fully claimed: the restore is done
      }
    }
  }

  private void place(Hold hold) {
    TreeSet<Integer> vpids = new TreeSet<>();
    for (int v : hold.vpids()) {
      vpids.add(v);
      heldBy.put(v, hold.id());
    }
    holds.put(hold.id(), new HeldVpids(vpids, hold.expiresAt()));
    lastHold = Math.max(lastHold, hold.id());
  }

  private void unplace(int hold) {
    holds.remove(hold).vpids.forEach(heldBy::remove);
  }

  /** The live holds, by id. */
  public List<Hold> holds() {
    List<Hold> out = new ArrayList<>();
    holds.forEach((id, held) -> out.add(new Hold(id, held.vpids.stream().mapToInt(Integer::intValue).toArray(),
        held.expiresAt)));
    return out;
  }

  /** The last hold id handed out: the next is one more. */
  public int lastHold() {
    return lastHold;
  }

  /** Whether a hold reserves {@code vpid}. */
  public boolean isHeld(int vpid) {
    return heldBy.containsKey(vpid);
  }

  /**
   * The allocated vpids as a RoaringBitmap in its portable format (a million live vpids of
   * 4,194,304 take about 512 KiB): what exports and snapshots store.
   */
  public byte[] allocatedBitmap() {
    RoaringBitmap bits = new RoaringBitmap();
    forEachAllocated(bits::add);
    bits.runOptimize();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(bits.serializedSizeInBytes());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      bits.serialize(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** This space as a portable document (export). */
  public SpaceImage image() {
    long[][] cooling = cooling();
    return new SpaceImage(SpaceImage.FORMAT, layout.shift(), pidMax, lastPid, allocatedBitmap(), holds(), lastHold,
        reuseDelay, Arrays.stream(cooling[0]).mapToInt(v -> (int) v).toArray(), cooling[1]);
  }

  /**
   * Space {@code space} exactly as {@code image} describes it (import). The document comes from
   * outside: every part is checked, and a refusal says which rule it broke, never its values.
   *
   * @throws PidspaceException {@code bad-request} (or {@code out-of-range} for pid_max) when the
   *     document cannot describe a space of this layout
   */
  public static PidMap fromImage(PidLayout layout, int space, SpaceImage image) {
    if (image.format() != SpaceImage.FORMAT) {
      throw PidspaceException.badRequest("the document's format must be " + SpaceImage.FORMAT);
    }
    if (image.shift() != layout.shift()) {
      throw PidspaceException.badRequest("the document's shift must be " + layout.shift() + ", this cluster's");
    }
    PidMap map = create(layout, space, image.pidMax());
    if (image.lastPid() < 0 || image.lastPid() >= image.pidMax()) {
      throw PidspaceException.badRequest("the document's lastPid must be within 0.." + (image.pidMax() - 1));
    }
    map.lastPid = image.lastPid();
    int[] allocated = decodeVpids(image.allocated(), layout);
    for (int i = 0; i < allocated.length; i++) {
      int v = allocated[i];
      if (v < 1 || v >= image.pidMax() || (i > 0 && v <= allocated[i - 1])) {
        throw PidspaceException.badRequest("the document's allocated vpids must be distinct and within 1..pidMax-1");
      }
      map.set(v);
    }
    if (image.holds() == null || image.lastHold() < 0) {
      throw PidspaceException.badRequest("the document's holds must be a list and lastHold at least 0");
    }
    for (Hold hold : image.holds()) {
      if (hold == null || hold.vpids() == null || hold.id() < 1 || hold.id() > image.lastHold()
          || map.holds.containsKey(hold.id())) {
        throw PidspaceException.badRequest("each hold of the document needs a distinct id within 1..lastHold");
      }
      PidspaceException refusal = map.checkExact(hold.vpids(), 0, true);
      if (refusal != null) {
        throw PidspaceException.badRequest("each hold of the document must name free vpids within 1..pidMax-1, "
            + "none twice and none in another hold");
      }
      map.place(hold);
    }
    map.lastHold = image.lastHold();
    if (image.reuseDelay() < 0 || image.reuseDelay() > MAX_REUSE_DELAY) {
      throw PidspaceException.badRequest("the document's reuseDelay must be within 0.." + MAX_REUSE_DELAY + " ms");
    }
    map.reuseDelay = image.reuseDelay();
    int[] cooling = image.cooling() == null ? new int[0] : image.cooling();
    long[] until = image.coolingUntil() == null ? new long[0] : image.coolingUntil();
    if (cooling.length != until.length) {
      throw PidspaceException.badRequest("the document's cooling vpids and their ends must pair up");
    }
    for (int i = 0; i < cooling.length; i++) {
      if (cooling[i] < 1 || cooling[i] >= image.pidMax()) {
        throw PidspaceException.badRequest("the document's cooling vpids must be within 1..pidMax-1");
      }
      map.coolingUntil.put(cooling[i], until[i]);
    }
    return map;
  }

  /** A portable RoaringBitmap from outside, read without trusting its header: ascending vpids. */
  private static int[] decodeVpids(byte[] bytes, PidLayout layout) {
    PidspaceException invalid = PidspaceException.badRequest("the document's allocated is not a portable RoaringBitmap");
    if (bytes == null || bytes.length < 4) {
      throw invalid;
    }
    // The header's container count sizes arrays before a byte of them is read: bound it first.
    ByteBuffer header = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int cookie = header.getInt();
    int containers = (cookie & 0xFFFF) == 12347 ? (cookie >>> 16) + 1
        : cookie == 12346 && bytes.length >= 8 ? header.getInt() : -1;
    if (containers < 0 || containers > (layout.pidMaxLimit() >>> 16) + 1) {
      throw invalid;
    }
    try {
      RoaringBitmap bits = new RoaringBitmap();
      bits.deserialize(ByteBuffer.wrap(bytes));
      return bits.toArray();
    } catch (IOException | RuntimeException corrupt) {
      throw invalid;
    }
  }

  /** Receives the refused entries of {@link #freeAll}. */
  @FunctionalInterface
  public interface Refusals {
    void refused(int index, PidspaceException reason);
  }

  public boolean isAllocated(int vpid) {
    return vpid > 0 && vpid < pidMax && isSet(vpid);
  }

  /** Calls {@code action} with every allocated vpid in ascending order (vpid 0 of space 0 excluded). */
  public void forEachAllocated(IntConsumer action) {
    for (int p = 0; p < pages.length; p++) {
      long[] page = pages[p];
      if (page == null || freeInPage[p] == BITS_PER_PAGE) {
        continue;
      }
      for (int w = 0; w < WORDS_PER_PAGE; w++) {
        long word = page[w];
        while (word != 0) {
          int v = (p << PAGE_SHIFT) | (w << 6) | Long.numberOfTrailingZeros(word);
          if (v != 0) {
            action.accept(v);
          }
          word &= word - 1;
        }
      }
    }
  }

  public int space() {
    return space;
  }

  public int pidMax() {
    return pidMax;
  }

  public int lastPid() {
    return lastPid;
  }

  public int reservedFloor() {
    return reservedFloor;
  }

  /** Live vpids (vpid 0 of space 0 is reserved and not counted). O(1). */
  public int allocated() {
    return allocated;
  }

  public int pagesInUse() {
    return pagesInUse;
  }

  public SpaceStats stats() {
    return new SpaceStats(space, pidMax, allocated, lastPid, pagesInUse);
  }

  private int collect(int from, int to, int count, int n, int[] out) {
    for (int v = from; n < count && (v = findUnheld(v, to)) != NONE; v++) {
      out[n++] = v;
    }
    return n;
  }

  /** Lowest clear bit in {@code [from, to)} that no hold reserves and that is not cooling down, or {@link #NONE}. */
  private int findUnheld(int from, int to) {
    int v = findFree(from, to);
    while (v != NONE && (!heldBy.isEmpty() && heldBy.containsKey(v) || !coolingUntil.isEmpty() && isCooling(v))) {
      v = findFree(v + 1, to);
    }
    return v;
  }

  private boolean isCooling(int v) {
    Long until = coolingUntil.get(v);
    return until != null && until > clock;
  }

  /** Lowest clear bit in {@code [from, to)}, or {@link #NONE}; scans whole words, skips full pages. */
  private int findFree(int from, int to) {
    int v = from;
    while (v < to) {
      int p = v >>> PAGE_SHIFT;
      long[] page = pages[p];
      if (page == null) {
        return v;
      }
      int pageStart = p << PAGE_SHIFT;
      if (freeInPage[p] != 0) {
        int w = (v & PAGE_MASK) >>> 6;
        long free = ~page[w] & (-1L << v);
        int wordsEnd = Math.min(to - pageStart + 63, BITS_PER_PAGE) >>> 6;
        while (true) {
          if (free != 0) {
            int found = pageStart | (w << 6) | Long.numberOfTrailingZeros(free);
            return found < to ? found : NONE;
          }
          if (++w >= wordsEnd) {
            break;
          }
          free = ~page[w];
        }
      }
      v = pageStart + BITS_PER_PAGE;
    }
    return NONE;
  }

  private boolean isSet(int v) {
    long[] page = pages[v >>> PAGE_SHIFT];
    return page != null && (page[(v & PAGE_MASK) >>> 6] & (1L << v)) != 0;
  }

  private void set(int v) {
    int p = v >>> PAGE_SHIFT;
    long[] page = pages[p];
    if (page == null) {
      page = pages[p] = new long[WORDS_PER_PAGE];
      pagesInUse++;
    }
    page[(v & PAGE_MASK) >>> 6] |= 1L << v;
    freeInPage[p]--;
    allocated++;
  }

  private void clear(int v) {
    int p = v >>> PAGE_SHIFT;
    pages[p][(v & PAGE_MASK) >>> 6] &= ~(1L << v);
    freeInPage[p]++;
    allocated--;
  }
}
