package io.pidspace.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RetryAfter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pidspace.api.SpaceListing;
import io.pidspace.core.FreeResult;
import io.pidspace.core.SpaceImage;
import io.pidspace.core.SpaceStats;
import java.util.Base64;
import java.util.List;

/** The JSON shapes the API answers with (docs/http.md); Jackson writes records field by field. */
final class ApiJson {

  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * Every 503 (a space between homes after a failover, a registry moving, an overloaded queue)
   * says when to come back: a failover takes a few seconds (README "Failover, measured"), and a
   * caller that retries after a second is answered soon after the space is back.
   */
  static final long RETRY_AFTER_SECONDS = 1;

  private ApiJson() {}

  /** An answer with {@code body} as JSON. */
  static HttpResponse response(StatusCode status, Object body) {
    try {
      HttpResponse response =
          HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body));
      return status.intValue() == StatusCodes.SERVICE_UNAVAILABLE.intValue()
          ? response.addHeader(RetryAfter.create(RETRY_AFTER_SECONDS))
          : response;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a " + body.getClass().getSimpleName() + " as JSON", e);
    }
  }

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

  record HoldId(String hold) {}

  /** A reconciliation report: allocated but not alive, alive but not allocated, freed now. */
  record Report(int[] leaked, int[] unknown, int[] freed) {}

  /** A hold in a document: its id (a string, as the API hands it out), its vpids, and its end in epoch millis. */
  record HoldJson(String id, int[] vpids, long expiresAt) {}

  /** A whole space as export gives it and import takes it; {@code allocated} is a portable RoaringBitmap in base64. */
  record Document(int format, int shift, int pidMax, int lastPid, String allocated, List<HoldJson> holds, int lastHold,
      long reuseDelay, Cooling cooling) {
    static Document of(SpaceImage image) {
      return new Document(image.format(), image.shift(), image.pidMax(), image.lastPid(),
          Base64.getEncoder().encodeToString(image.allocated()),
          image.holds().stream().map(h -> new HoldJson(Integer.toString(h.id()), h.vpids(), h.expiresAt())).toList(),
          image.lastHold(), image.reuseDelay(), new Cooling(image.cooling(), image.coolingUntil()));
    }
  }

  /** Vpids still cooling down after a free (reuse delay), each with its end in epoch millis. */
  record Cooling(int[] vpids, long[] until) {}

  record Refusal(int pid, String error, String message) {}

  record Freed(int[] freed, List<Refusal> refused) {
    static Freed of(FreeResult result) {
      return new Freed(result.freed(), result.refused().stream()
          .map(r -> new Refusal(r.pid(), r.code(), r.message()))
          .toList());
    }
  }
}
