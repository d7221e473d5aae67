package io.pidspace.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pidspace.faults.History.Kind;
import io.pidspace.faults.History.Op;
import io.pidspace.faults.History.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Recorded histories the checker must fail, and ones it must pass. Times are in seconds here. */
class CheckerTest {

  private final List<Op> history = new ArrayList<>();
  private int requests;
  private final Map<Integer, Integer> allocations = new HashMap<>();
  private final Map<String, Integer> generationByKey = new HashMap<>();

  /** An alloc of one attempt, a request of its own. */
  private void alloc(int client, long from, long to, Outcome outcome, int... pids) {
    attempt(client, "k" + requests++, from, to, outcome, null, pids);
  }

  /**
   * One attempt of the alloc keyed {@code key}; answered, its pids come with their next
   * generations (each pid's count of keys that got it), a key's again with the same ones.
   */
  private void attempt(int client, String key, long from, long to, Outcome outcome, String error, int... pids) {
    int[] answered = outcome == Outcome.OK ? pids : new int[0];
    int[] generations = new int[answered.length];
    for (int i = 0; i < answered.length; i++) {
      int pid = answered[i];
      generations[i] = generationByKey.computeIfAbsent(key + " " + pid, k -> allocations.merge(pid, 1, Integer::sum));
    }
    history.add(new Op(client, Kind.ALLOC, key, answered, generations, from, to, outcome, error, null));
  }

  private void free(int client, long from, long to, Outcome outcome, int pid) {
    free(client, from, to, outcome, pid, null);
  }

  private void free(int client, long from, long to, Outcome outcome, int pid, String error) {
    freeAttempt(client, "f" + requests++, from, to, outcome, pid, error);
  }

  /** One attempt of the free {@code request} of {@code pid}, generation 1. */
  private void freeAttempt(int client, String request, long from, long to, Outcome outcome, int pid, String error) {
    history.add(new Op(client, Kind.FREE, request, new int[] {pid}, new int[] {1}, from, to, outcome, error, null));
  }

  @Test
  void aPidAcknowledgedToTwoClientsWhileTheFirstHoldsIt_isADuplicate() {
    alloc(1, 0, 1, Outcome.OK, 5, 6);
    alloc(2, 2, 3, Outcome.OK, 6);
    Checker.Result r = Checker.check(history, Set.of(5, 6));
    assertEquals(1, r.duplicates().size(), r.toString());
    assertTrue(r.duplicates().get(0).startsWith("pid 6 held twice"), r.duplicates().get(0));
    assertFalse(r.safe());
  }

  @Test
  void aPidGivenOutAgainBeforeItsFreeWasSent_isADuplicate_evenIfTheFreeCameLater() {
    alloc(1, 0, 1, Outcome.OK, 5);
    alloc(2, 2, 3, Outcome.OK, 5);
    free(1, 4, 5, Outcome.OK, 5);
    assertEquals(1, Checker.check(history, Set.of(5)).duplicates().size());
  }

  @Test
  void twoAllocsInFlightTogether_neitherFreed_isADuplicate() {
    alloc(1, 0, 10, Outcome.OK, 5);
    alloc(2, 2, 3, Outcome.OK, 5);
    assertEquals(1, Checker.check(history, Set.of(5)).duplicates().size());
  }

  @Test
  void aPidReusedAfterAnAcknowledgedFree_isNoDuplicate_alsoWhenTheFreeAndTheAllocOverlap() {
    alloc(1, 0, 1, Outcome.OK, 5);
    free(1, 2, 6, Outcome.OK, 5);
    alloc(2, 3, 4, Outcome.OK, 5); // may have come after the free took effect
    Checker.Result r = Checker.check(history, Set.of(5));
    assertTrue(r.safe(), r.toString());
    assertEquals(Set.of(5), r.held());
    assertEquals(Set.of(), r.leaked());
  }

  @Test
  void aFreeOfUnknownOutcome_fencesItsOwnHold_soALaterHolderIsNoDuplicate() {
    alloc(1, 0, 1, Outcome.OK, 5);
    free(1, 2, 12, Outcome.UNKNOWN, 5); // took effect, the answer was lost
    alloc(2, 3, 4, Outcome.OK, 5);
    Checker.Result r = Checker.check(history, Set.of(5));
    assertTrue(r.safe(), r.toString());
    assertEquals(Set.of(5), r.held());
  }

  @Test
  void aRefusedFreeEndsNothing_soALaterAllocOfThatPidIsADuplicate() {
    alloc(1, 0, 1, Outcome.OK, 5);
    free(1, 2, 3, Outcome.FAILED, 5, "unauthorized");
    alloc(2, 4, 5, Outcome.OK, 5);
    assertEquals(1, Checker.check(history, Set.of(5)).duplicates().size());
  }

  @Test
  void anAllocOfUnknownOutcome_isNoHold_whatItTookIsLeakedAndNoDuplicate() {
    alloc(1, 0, 10, Outcome.UNKNOWN); // stored vpid 5, the answer was lost
    alloc(1, 11, 12, Outcome.OK, 6);
    alloc(2, 13, 14, Outcome.OK, 7);
    Checker.Result r = Checker.check(history, Set.of(5, 6, 7));
    assertTrue(r.safe(), r.toString());
    assertEquals(Set.of(5), r.leaked());
    assertEquals(Set.of(6, 7), r.held());
    assertEquals(1, r.unknown());
  }

  @Test
  void anAcknowledgedAllocNotAllocatedAtTheEnd_isLost() {
    alloc(1, 0, 1, Outcome.OK, 5, 6);
    Checker.Result r = Checker.check(history, Set.of(5));
    assertEquals(1, r.lost().size(), r.toString());
    assertTrue(r.lost().get(0).startsWith("pid 6 "), r.lost().get(0));
    assertFalse(r.safe());
  }

  @Test
  void aFreeRefusedAsNotAllocatedWhileHeld_isLost() {
    alloc(1, 0, 1, Outcome.OK, 5);
    free(1, 2, 3, Outcome.FAILED, 5, "not-allocated");
    free(1, 4, 5, Outcome.OK, 5); // and freed "again" later: the end state alone would pass
    Checker.Result r = Checker.check(history, Set.of());
    assertEquals(1, r.lost().size(), r.toString());
  }

  @Test
  void aFreeOfUnknownOutcome_mayLeaveThePidEitherWay() {
    alloc(1, 0, 1, Outcome.OK, 5, 6);
    free(1, 2, 3, Outcome.UNKNOWN, 5);
    free(1, 2, 3, Outcome.UNKNOWN, 6);
    Checker.Result r = Checker.check(history, Set.of(5));
    assertTrue(r.safe(), r.toString());
    assertEquals(Set.of(5), r.leaked());
    assertEquals(Set.of(), r.held());
  }

  @Test
  void acknowledgedFreesCountedAllocated_areLeaked_andALeakLeftAfterTheRepair_isALostFree() {
    alloc(1, 0, 1, Outcome.OK, 5, 6, 7);
    free(1, 2, 3, Outcome.OK, 5);
    free(1, 2, 3, Outcome.OK, 6);
    Checker.Result before = Checker.check(history, Set.of(5, 6, 7, 9)); // 9: a crashed copy's reservation
    assertTrue(before.safe(), before.toString());
    assertEquals(Set.of(5, 6, 9), before.leaked());
    assertEquals(Set.of(7), before.held());
    Checker.Result after = Checker.check(history, Set.of(6, 7)); // the repair missed 6
    assertEquals(Set.of(6), after.leaked());
    assertEquals(List.of("pid 6 freed with an acknowledgement is still allocated after the repair"),
        Checker.lostFrees(history, after));
  }

  @Test
  void aCleanHistory_passesWithNothingLeaked() {
    alloc(1, 0, 1, Outcome.OK, 5);
    alloc(2, 0, 2, Outcome.OK, 6);
    free(1, 3, 4, Outcome.OK, 5);
    alloc(2, 5, 6, Outcome.OK, 5);
    alloc(1, 5, 6, Outcome.FAILED);
    Checker.Result r = Checker.check(history, Set.of(5, 6));
    assertTrue(r.safe(), r.toString());
    assertEquals(Set.of(), r.leaked());
    assertEquals(Set.of(5, 6), r.held());
    assertEquals(5, r.operations());
  }

  // Retries: an alloc retried with its key, a free retried with its generation.

  @Test
  void anAllocRetriedWithItsKeyUntilAnswered_isOneAcknowledgedAlloc_nothingLeaked() {
    attempt(1, "a", 0, 8, Outcome.UNKNOWN, null); // stored, the answer lost
    attempt(1, "a", 9, 10, Outcome.FAILED, null); // connection refused: never reached a node
    attempt(1, "a", 11, 12, Outcome.OK, null, 5, 6); // the first answer's pids again
    attempt(1, "a", 13, 14, Outcome.OK, null, 5, 6); // and once more
    alloc(2, 15, 16, Outcome.OK, 7);
    Checker.Result r = Checker.check(history, Set.of(5, 6, 7));
    assertTrue(r.safe(), r.toString());
    assertEquals(Set.of(5, 6, 7), r.held());
    assertEquals(Set.of(), r.leaked());
    assertEquals(1, r.unknown());
    assertEquals(0, r.unresolved());
    assertEquals(5, r.operations());
  }

  @Test
  void aRetriedAllocAnsweredWhileAnotherClientHoldsThePid_isADuplicate() {
    alloc(1, 0, 1, Outcome.OK, 5);
    attempt(2, "b", 2, 10, Outcome.UNKNOWN, null);
    attempt(2, "b", 11, 12, Outcome.OK, null, 5); // client 1 never freed 5
    Checker.Result r = Checker.check(history, Set.of(5));
    assertEquals(1, r.duplicates().size(), r.toString());
    assertFalse(r.safe());
  }

  @Test
  void aRetriedAlloc_isHeldFromItsAnswer_soAFreeInFlightDuringItsFirstAttemptIsNoDuplicate() {
    alloc(1, 0, 1, Outcome.OK, 5);
    attempt(2, "b", 2, 10, Outcome.UNKNOWN, null);
    free(1, 3, 4, Outcome.OK, 5); // the free came first, then b's first attempt took 5
    attempt(2, "b", 11, 12, Outcome.OK, null, 5);
    Checker.Result r = Checker.check(history, Set.of(5));
    assertTrue(r.safe(), r.toString());
    assertEquals(Set.of(5), r.held());
  }

  @Test
  void aKeyedRetryAnsweringOtherPids_orARefusal_isARetryViolation() {
    attempt(1, "a", 0, 1, Outcome.OK, null, 5);
    attempt(1, "a", 2, 3, Outcome.OK, null, 6);
    attempt(2, "b", 0, 1, Outcome.OK, null, 7);
    attempt(2, "b", 2, 3, Outcome.FAILED, "space-exhausted");
    attempt(3, "c", 0, 1, Outcome.OK, null, 8);
    attempt(3, "c", 2, 3, Outcome.UNKNOWN, null); // an unknown answer says nothing
    Checker.Result r = Checker.check(history, Set.of(5, 6, 7, 8));
    assertEquals(2, r.retries().size(), r.toString());
    assertTrue(r.retries().get(0).startsWith("a retry of alloc a "), r.retries().get(0));
    assertFalse(r.safe());
  }

  @Test
  void anAllocUnknownInEveryAttempt_orRefusedAfterAnUnknownOne_isNoHold_andLeaksAtMost() {
    attempt(1, "a", 0, 8, Outcome.UNKNOWN, null);
    attempt(1, "a", 9, 17, Outcome.UNKNOWN, null);
    attempt(2, "b", 0, 8, Outcome.UNKNOWN, null);
    attempt(2, "b", 9, 10, Outcome.FAILED, "space-exhausted");
    alloc(3, 20, 21, Outcome.OK, 5); // a's or b's vpid, freed by reconcile: no duplicate
    Checker.Result r = Checker.check(history, Set.of(5, 6));
    assertTrue(r.safe(), r.toString());
    assertEquals(Set.of(6), r.leaked());
    assertEquals(2, r.unresolved());
    assertEquals(3, r.unknown());
  }

  @Test
  void aFreeRetriedAfterAnUnknownAttempt_refusedNotAllocatedOrStale_tookEffectTheFirstTime() {
    alloc(1, 0, 1, Outcome.OK, 5, 6, 7);
    freeAttempt(1, "f5", 2, 10, Outcome.UNKNOWN, 5, null);
    freeAttempt(1, "f5", 11, 12, Outcome.FAILED, 5, "not-allocated");
    freeAttempt(1, "f6", 2, 10, Outcome.UNKNOWN, 6, null);
    alloc(2, 3, 4, Outcome.OK, 6); // 6 freed by f6's first attempt and handed out again
    freeAttempt(1, "f6", 11, 12, Outcome.FAILED, 6, "stale-handle");
    freeAttempt(1, "f7", 2, 10, Outcome.UNKNOWN, 7, null);
    freeAttempt(1, "f7", 11, 12, Outcome.OK, 7, null);
    Checker.Result r = Checker.check(history, Set.of(6));
    assertTrue(r.safe(), r.toString());
    assertEquals(Set.of(6), r.held());
    assertEquals(Set.of(), r.leaked());
    assertEquals(0, r.unresolved());
    Checker.Result stillAllocated = Checker.check(history, Set.of(5, 6)); // the free of 5 was lost after all
    assertTrue(stillAllocated.safe());
    assertEquals(Set.of(5), stillAllocated.leaked());
    assertEquals(List.of("pid 5 freed with an acknowledgement is still allocated after the repair"),
        Checker.lostFrees(history, stillAllocated));
  }

  @Test
  void aFreeRefusedStaleOrNotAllocatedAtItsFirstAnsweredAttempt_whileHeld_isLost() {
    alloc(1, 0, 1, Outcome.OK, 5, 6);
    freeAttempt(1, "f5", 2, 3, Outcome.FAILED, 5, null); // never reached a node
    freeAttempt(1, "f5", 4, 5, Outcome.FAILED, 5, "stale-handle");
    freeAttempt(1, "f6", 2, 3, Outcome.FAILED, 6, "not-allocated");
    Checker.Result r = Checker.check(history, Set.of(5, 6));
    assertEquals(2, r.lost().size(), r.toString());
    assertTrue(r.lost().stream().anyMatch(l -> l.startsWith("pid 5 ") && l.contains("stale-handle")), r.toString());
    assertFalse(r.safe());
  }

  @Test
  void aFreeRefusedOtherwiseAfterAnUnknownAttempt_staysUnknown_soItFencesNothingMore() {
    alloc(1, 0, 1, Outcome.OK, 5);
    freeAttempt(1, "f", 2, 10, Outcome.UNKNOWN, 5, null);
    freeAttempt(1, "f", 11, 12, Outcome.FAILED, 5, "unauthorized");
    alloc(2, 13, 14, Outcome.OK, 5); // the first attempt may have freed it
    Checker.Result r = Checker.check(history, Set.of(5));
    assertTrue(r.safe(), r.toString());
    assertEquals(1, r.unresolved());
  }

  @Test
  void aPidHeldTwice_isADuplicate_evenWhenTheFirstHoldersFreeWasRetried() {
    alloc(1, 0, 1, Outcome.OK, 5);
    alloc(2, 2, 3, Outcome.OK, 5); // given out again while client 1 holds it
    freeAttempt(1, "f", 4, 10, Outcome.UNKNOWN, 5, null);
    freeAttempt(1, "f", 11, 12, Outcome.FAILED, 5, "stale-handle"); // true: client 2's allocation holds it
    Checker.Result r = Checker.check(history, Set.of(5));
    assertEquals(1, r.duplicates().size(), r.toString());
    assertFalse(r.safe());
  }

  @Test
  void aPidAnsweredAGenerationNotAboveAnEarlierAllocs_isAGenerationViolation() {
    history.add(new Op(1, Kind.ALLOC, "a", new int[] {5, 6}, new int[] {1, 1}, 0, 1, Outcome.OK, null, null));
    free(1, 2, 3, Outcome.OK, 5);
    free(1, 2, 3, Outcome.OK, 6);
    history.add(new Op(2, Kind.ALLOC, "b", new int[] {5}, new int[] {1}, 4, 5, Outcome.OK, null, null)); // reset
    history.add(new Op(2, Kind.ALLOC, "c", new int[] {6}, new int[] {2}, 4, 5, Outcome.OK, null, null)); // bumped
    Checker.Result r = Checker.check(history, Set.of(5, 6));
    assertEquals(1, r.generations().size(), r.toString());
    assertTrue(r.generations().get(0).startsWith("pid 5 answered generation 1 after generation 1"), r.generations().get(0));
    assertFalse(r.safe());
  }
}
