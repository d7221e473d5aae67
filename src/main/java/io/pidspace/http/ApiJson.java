package io.pidspace.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.pidspace.api.SpaceListing;
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

  /** A space of the listing: its stats, or the error that says why it has none now. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Listed(int id, Integer pidMax, Integer allocated, Integer lastPid, Integer pagesInUse, String error,
      String message) {
    static Listed of(SpaceListing listing) {
      SpaceStats s = listing.stats();
      return s != null
          ? new Listed(s.space(), s.pidMax(), s.allocated(), s.lastPid(), s.pagesInUse(), null, null)
          : new Listed(listing.id(), null, null, null, null, listing.error().code().wire(), listing.error().getMessage());
    }
  }

  record Spaces(List<Listed> spaces) {}

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
