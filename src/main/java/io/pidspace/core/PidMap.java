package io.pidspace.core;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * The state of one space, the seed's {@code pidmap_array} with its {@code last_pid} and what this
 * project adds: composed of its {@link PidBitmap} with the next-fit rule (DESIGN.md §1), its
 * {@link Holds}, its reuse delay ({@link Cooling}) and its {@link Reconciler}; {@link Draft} decides
 * requests and logs them to store and to undo ({@link DraftLog}); {@link ImageCodec} reads and writes
 * its {@link SpaceImage}. This class checks requests and records against the space. Not
 * thread-safe: one owner (an actor) at a time.
 *
 * <p>Exact vpids ({@code clone3(set_tid)}): {@link Draft#allocAt} takes named vpids, all or nothing,
 * and leaves {@code lastPid} where it is. {@link Hold Holds} reserve vpids that next-fit skips.
 * pid_max can change while the space lives ({@link Draft#setPidMax}).
 *
 * <p>Over 400 lines with {@link Draft}, which its callers name {@code PidMap.Draft}: both are the
 * contracts of what a space does; the work is done in the parts above.
 */
public final class PidMap {

  public static final int BITS_PER_PAGE = PidBitmap.BITS_PER_PAGE;
  public static final int NONE = PidBitmap.NONE;
  /**
   * Marks a {@code +v} of a record as an alloc-at: it does not move {@code lastPid}. Above every
   * vpid of every layout ({@code MAX_SHIFT} is 30), below the sign bit.
   */
  public static final int AT = 1 << 30;
  /** Reports a space remembers for reconciliation: more than any setting asks for. */
  public static final int MAX_REPORTS = 16;
  /** The longest reuse delay a space may have. */
  public static final long MAX_REUSE_DELAY = 86_400_000L;

  private final PidLayout layout;
  private final int space;
  final Holds holds = new Holds();
  final Cooling cooling = new Cooling();
  final PidBitmap bits;
  final Generations gens = new Generations();
  private final Reconciler reconciler = new Reconciler();
  final Checks checks;
  private final Replay replay;

  private PidMap(PidLayout layout, int space, int pidMax, int reservedFloor, int lastPid) {
    this.layout = layout;
    this.space = space;
    this.bits = new PidBitmap(layout.pidMaxLimit(), pidMax, reservedFloor, lastPid, holds, cooling);
    this.checks = new Checks(layout, space, bits, holds);
    this.replay = new Replay(space, bits, holds, cooling, checks, gens);
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
    map.bits.reserve(0); // vpid 0 is reserved, not a live process
    return map;
  }

  /**
   * Space {@code space} exactly as {@code image} describes it (import, and snapshots). The
   * document may come from outside: every part is checked, and a refusal says which rule it
   * broke, never its values.
   *
   * @throws PidspaceException {@code bad-request} (or {@code out-of-range} for pid_max) when the
   *     document cannot describe a space of this layout
   */
  public static PidMap fromImage(PidLayout layout, int space, SpaceImage image) {
    return ImageCodec.read(layout, space, image);
  }

  /** This space as a portable document (export, and snapshots). */
  public SpaceImage image() {
    return ImageCodec.image(this, layout);
  }

  /** Allocates one vpid by the rule; {@link #NONE} when the space is exhausted. */
  public int alloc() {
    int v = bits.alloc();
    if (v != NONE) {
      gens.bump(v);
    }
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
    return bits.peek(count, out);
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
      if (v <= 0 || v >= bits.pidMax() || bits.isSet(v)) {
        throw new IllegalStateException(checks.name(v) + " cannot be marked allocated: it is taken or out of range");
      }
    }
    for (int i = 0; i < n; i++) {
      bits.set(vpids[i]);
      gens.bump(vpids[i]);
    }
    if (n > 0) {
      bits.lastPid(vpids[n - 1]);
    }
  }

  /** Frees one vpid. @throws PidspaceException and changes nothing if it was not allocated */
  public void free(int vpid) {
    PidspaceException refusal = checks.checkFree(vpid);
    if (refusal != null) {
      throw refusal;
    }
    bits.clear(vpid);
  }

  /** Why {@code vpid} cannot be freed now, or {@code null} if it can. */
  public PidspaceException checkFree(int vpid) {
    return checks.checkFree(vpid);
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
      PidspaceException refusal = checks.checkFree(vpids[i]);
      if (refusal == null) {
        bits.clear(vpids[i]);
        n++;
      } else {
        refusals.refused(i, refusal);
      }
    }
    return n;
  }

  /** Receives the refused entries of {@link #freeAll}. */
  @FunctionalInterface
  public interface Refusals {
    void refused(int index, PidspaceException reason);
  }

  /**
   * Starts a draft: requests decided on this map one by one in arrival order, exactly as if each
   * came alone, not yet stored. The map changes as the draft goes; {@link Draft#changes()} is the record to
   * store, and {@link Draft#rollback()} puts the map back as it was, so an event-sourced owner
   * can store the record first and then {@link #apply} it.
   */
  public Draft draft() {
    return new Draft();
  }

  /** One step of a draft's record: what {@link Draft#records()} lists, in order. */
  public sealed interface Step {}

  /** {@code +v} allocated by next-fit, {@code +(AT | v)} allocated at, {@code -v} freed; see {@link #apply}. */
  public record Pids(int[] changes) implements Step {}

  public record HoldPlaced(Hold hold) implements Step {}

  /** Released by its owner or by expiry (a hold emptied by alloc-at claims goes by itself). */
  public record HoldReleased(int hold) implements Step {}

  public record PidMaxSet(int pidMax) implements Step {}

  public record ReuseDelaySet(long reuseDelay) implements Step {}

  /** Vpids freed in the draft while a reuse delay was on, each cooling down until its {@code until} (epoch millis). */
  public record Cooled(int[] vpids, long[] until) implements Step {}

  /**
   * Changes decided on the map and not stored yet (a space's coalesced runs may add to one until
   * its next write); see {@link #draft()}.
   */
  public final class Draft {
    private final DraftLog log = new DraftLog(bits, cooling);

    private Draft() {}

    /** As {@link PidMap#alloc(int, int[])}. */
    public int alloc(int count, int[] out) {
      int k = PidMap.this.alloc(count, out);
      for (int i = 0; i < k; i++) {
        log.record(out[i]);
      }
      return k;
    }

    /** Frees {@code vpid}, or says why it cannot be freed and changes nothing; with a reuse delay it cools down. */
    public PidspaceException free(int vpid) {
      return free(vpid, 0);
    }

    /**
     * As {@link #free(int)}, and refused ({@code stale-handle}) when {@code generation} (0: any)
     * is not the holder's ({@link PidMap#generation}).
     */
    public PidspaceException free(int vpid, int generation) {
      PidspaceException refusal = checks.checkFree(vpid);
      if (refusal == null && !gens.matches(vpid, generation)) {
        refusal = PidspaceException.staleHandle(checks.name(vpid));
      }
      if (refusal == null) {
        bits.clear(vpid);
        log.record(-vpid);
        if (cooling.delay() > 0) {
          long until = cooling.clock() + cooling.delay();
          log.cooled(vpid, until, cooling.put(vpid, until));
        }
      }
      return refusal;
    }

    /**
     * Sets the run's clock (epoch millis): holds whose end has passed are released, vpids whose
     * reuse delay has passed are free for next-fit again, and vpids freed now cool down from it.
     */
    public void at(long now) {
      cooling.at(now);
      expireHolds(now);
    }

    /**
     * Compares the space with the vpids a container runtime sees {@code alive}; with {@code reports}
     * above 0, frees (in this run) the vpids leaked in that many reports before this one too. See
     * {@link Reconciler#reconcile}, which says what it refuses.
     */
    public Reconciled reconcile(int[] alive, int reports) {
      return reconciler.reconcile(alive, reports, bits, space, this::free);
    }

    /** Sets the reuse delay (millis, 0 for off): vpids freed from now on are skipped by next-fit that long. */
    public void setReuseDelay(long millis) {
      if (millis < 0 || millis > MAX_REUSE_DELAY) {
        throw PidspaceException.outOfRange("reuseDelay must be within 0.." + MAX_REUSE_DELAY / 3_600_000 + " h");
      }
      cooling.delay(millis);
      log.step(new ReuseDelaySet(millis));
    }

    /**
     * Allocates exactly {@code vpids} ({@code clone3(set_tid)}), all or nothing, without moving
     * {@code lastPid}; vpids of hold {@code hold} (0: none) are claimed from it.
     *
     * @return why not (nothing changed), or {@code null}
     */
    public PidspaceException allocAt(int[] vpids, int hold) {
      if (hold != 0 && !holds.exists(hold)) {
        return PidspaceException.unknownHold(space, hold);
      }
      PidspaceException refusal = checks.checkExact(vpids, hold, false);
      if (refusal != null) {
        return refusal;
      }
      if (hold != 0) {
        log.touchHolds(holds);
      }
      for (int v : vpids) {
        bits.set(v);
        gens.bump(v);
        holds.claim(v);
        log.record(AT | v);
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
      PidspaceException refusal = checks.checkExact(vpids, 0, true);
      if (refusal != null) {
        throw refusal;
      }
      log.touchHolds(holds);
      Hold hold = new Hold(holds.lastHold() + 1, vpids.clone(), expiresAt);
      holds.place(hold);
      log.step(new HoldPlaced(hold));
      return hold.id();
    }

    /** Releases hold {@code hold}: its vpids are free again. @return why not, or {@code null} */
    public PidspaceException release(int hold) {
      if (!holds.exists(hold)) {
        return PidspaceException.unknownHold(space, hold);
      }
      log.touchHolds(holds);
      holds.remove(hold);
      log.step(new HoldReleased(hold));
      return null;
    }

    /** Releases every hold whose time is up at {@code now} (epoch millis). */
    public void expireHolds(long now) {
      holds.expiredAt(now).forEach(this::release);
    }

    /**
     * Sets pid_max: up to {@code PID_MAX_LIMIT} any time, down only above the highest allocated
     * or held vpid. Lowered below {@code lastPid}, {@code lastPid} becomes {@code pidMax - 1}, so
     * next-fit wraps to the reserved floor as the seed does at its bound.
     *
     * @throws PidspaceException and changes nothing when it may not
     */
    public void setPidMax(int newPidMax) {
      PidspaceException refusal = checks.checkPidMax(newPidMax);
      if (refusal != null) {
        throw refusal;
      }
      bits.bound(newPidMax);
      log.step(new PidMaxSet(newPidMax));
    }

    /**
     * Marks {@code vpid} allocated as a recorded alloc of it would be (it becomes {@code lastPid}).
     *
     * @return false, changing nothing, if it is taken, held or out of range
     */
    public boolean take(int vpid) {
      if (vpid <= 0 || vpid >= bits.pidMax() || bits.isSet(vpid) || holds.isHeld(vpid)) {
        return false;
      }
      bits.set(vpid);
      gens.bump(vpid); // as the alloc that may have happened unstored: its holder has this generation
      bits.lastPid(vpid);
      log.record(vpid);
      return true;
    }

    /** How many pid changes the run holds ({@link #change}). */
    public int size() {
      return log.size();
    }

    /** How many changes of other kinds (holds, pid_max, reuse delay) the run holds. */
    public int otherSteps() {
      return log.otherSteps();
    }

    /** Its {@code i}th change, as {@link #changes()} lists them. */
    public int change(int i) {
      return log.change(i);
    }

    /** What the run changed, in order: {@code +v} allocated by next-fit, {@code +(AT | v)} at, {@code -v} freed. */
    public int[] changes() {
      return log.changes();
    }

    /** The run's whole record in order: its pid changes between the steps that are not pid changes. */
    public List<Step> records() {
      return log.records();
    }

    /** Undoes the whole run, newest change first, and restores {@code lastPid}, pid_max and the holds. */
    public void rollback() {
      log.rollback(bits, holds, cooling, gens);
    }
  }

  /**
   * Applies what a {@link Draft} recorded: {@code +v} marks {@code v} allocated and makes it
   * {@code lastPid}, {@code +(AT | v)} marks it allocated (claimed from its hold, if held),
   * {@code -v} frees it. Vpid 0 is never in a record.
   *
   * @throws IllegalStateException and changes nothing if the record does not fit this map: the
   *     caller's record of this space is corrupt
   */
  public void apply(int[] changes) {
    replay.pids(changes);
  }

  /** Applies a stored {@link HoldPlaced}. @throws IllegalStateException if it does not fit */
  public void applyHold(Hold hold) {
    replay.hold(hold);
  }

  /** Applies a stored {@link HoldReleased}. @throws IllegalStateException if there is no such hold */
  public void applyRelease(int hold) {
    replay.release(hold);
  }

  /** Applies a stored {@link ReuseDelaySet}. */
  public void applyReuseDelay(long millis) {
    replay.reuseDelay(millis);
  }

  /** Applies a stored {@link Cooled}. */
  public void applyCooled(int[] vpids, long[] until) {
    replay.cooled(vpids, until);
  }

  /** Applies a stored {@link PidMaxSet}. @throws IllegalStateException if it does not fit */
  public void applyPidMax(int newPidMax) {
    replay.pidMax(newPidMax);
  }

  public long reuseDelay() {
    return cooling.delay();
  }

  /** The vpids still cooling down at the map's clock, ascending, with their ends: {@code [vpids, until]}. */
  public long[][] cooling() {
    return cooling.list();
  }

  /** The live holds, by id. */
  public List<Hold> holds() {
    return holds.list();
  }

  /** The last hold id handed out: the next is one more. */
  public int lastHold() {
    return holds.lastHold();
  }

  /** Whether a hold reserves {@code vpid}. */
  public boolean isHeld(int vpid) {
    return holds.isHeld(vpid);
  }

  /**
   * How many times {@code vpid} was allocated (mod 2^31), which its holder was answered with; 0
   * when unknown (allocated before generations were kept) or never allocated.
   */
  public int generation(int vpid) {
    return gens.get(vpid);
  }

  public boolean isAllocated(int vpid) {
    return vpid > 0 && vpid < bits.pidMax() && bits.isSet(vpid);
  }

  /** Calls {@code action} with every allocated vpid in ascending order (vpid 0 of space 0 excluded). */
  public void forEachAllocated(IntConsumer action) {
    bits.forEach(action);
  }

  public int space() {
    return space;
  }

  public int pidMax() {
    return bits.pidMax();
  }

  public int lastPid() {
    return bits.lastPid();
  }

  /** Live vpids (vpid 0 of space 0 is reserved and not counted). O(1). */
  public int allocated() {
    return bits.count();
  }

  public int pagesInUse() {
    return bits.pagesInUse();
  }

  public SpaceStats stats() {
    return new SpaceStats(space, bits.pidMax(), bits.count(), bits.lastPid(), bits.pagesInUse());
  }
}
