package io.pidspace.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pidspace.faults.History.Kind;
import io.pidspace.faults.History.Op;
import io.pidspace.faults.History.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Recorded histories the checker must fail, and ones it must pass. Times are in seconds here. */
class CheckerTest {

  private final List<Op> history = new ArrayList<>();

  private void alloc(int client, long from, long to, Outcome outcome, int... pids) {
    history.add(new Op(client, Kind.ALLOC, outcome == Outcome.OK ? pids : new int[0], from, to, outcome, null, null));
  }

  private void free(int client, long from, long to, Outcome outcome, int pid) {
    free(client, from, to, outcome, pid, null);
  }

  private void free(int client, long from, long to, Outcome outcome, int pid, String error) {
    history.add(new Op(client, Kind.FREE, new int[] {pid}, from, to, outcome, error, null));
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
}
