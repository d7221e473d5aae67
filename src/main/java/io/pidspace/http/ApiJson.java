package io.pidspace.http;

import io.pidspace.core.FreeResult;
import io.pidspace.core.SpaceStats;
import java.util.List;

/** The JSON shapes the API answers with (docs/http.md); Jackson writes records field by field. */
final class ApiJson {

  private ApiJson() {}

  /** Every answer that is not a success: {@code error} is a stable code clients may match on. */
  record Error(String error, String message) {}

  record Space(int id, int pidMax, int allocated, int lastPid, int pagesInUse) {
    static Space of(SpaceStats stats) {
      return new Space(stats.space(), stats.pidMax(), stats.allocated(), stats.lastPid(), stats.pagesInUse());
    }
  }

  record Spaces(List<Space> spaces) {}

  record Pids(int[] pids) {}

  record Refusal(int pid, String error, String message) {}

  record Freed(int[] freed, List<Refusal> refused) {
    static Freed of(FreeResult result) {
      return new Freed(result.freed(), result.refused().stream()
          .map(r -> new Refusal(r.pid(), r.code(), r.message()))
          .toList());
    }
  }
}
