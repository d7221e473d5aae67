package io.pidspace.http;

import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.CacheControl;
import akka.http.javadsl.model.headers.CacheDirectives;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.pidspace.api.PidAuthority;
import io.pidspace.api.SpaceListing;
import io.pidspace.core.SpaceStats;
import io.pidspace.metrics.NodeMetrics;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The live dashboard of a node on the API port (docs/operations.md): {@code /dashboard} is a page
 * with its script and style from the jar (no network beyond this node), which polls
 * {@code /dashboard/data} and keeps the history it draws in the browser; the node keeps none.
 */
final class DashboardRoutes extends AllDirectives {

  private static final String ASSETS = "io/pidspace/http/dashboard";

  private final PidAuthority authority;
  private final NodeMetrics metrics;

  DashboardRoutes(PidAuthority authority, NodeMetrics metrics) {
    this.authority = authority;
    this.metrics = metrics;
  }

  Route route() {
    return pathPrefix("dashboard", () -> get(() -> concat(
        pathEnd(() -> getFromResource(ASSETS + "/index.html")),
        path("data", () -> respondWithHeader(CacheControl.create(CacheDirectives.NO_STORE), () ->
            completeWithFuture(data().exceptionally(failure -> ApiError.of(failure).response())))),
        getFromResourceDirectory(ASSETS))));
  }

  /**
   * Every space with its fill, and this node's counters: the page turns successive answers into
   * rates, percentiles and forecasts.
   *
   * @param latencyBounds upper bounds, in seconds, of the buckets of every API request's latency
   * @param latencyCounts requests per bucket (not cumulative) since the node started
   */
  record Data(long time, int maxSpaces, List<Cell> spaces, long allocated, long freed, double[] latencyBounds,
      long[] latencyCounts) {}

  /** One space: its fill, or the error code that says why it has none now. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Cell(int id, Integer pidMax, Integer allocated, String error) {
    static Cell of(SpaceListing listing) {
      SpaceStats s = listing.stats();
      return s != null
          ? new Cell(s.space(), s.pidMax(), s.allocated(), null)
          : new Cell(listing.id(), null, null, listing.error().code().wire());
    }
  }

  private CompletionStage<HttpResponse> data() {
    return authority.spaces().thenApply(spaces -> {
      ClassicHistogramBuckets buckets = metrics.requestLatencies();
      double[] bounds = new double[buckets.size() - 1]; // the last is +Inf, which JSON cannot write
      long[] counts = new long[buckets.size()];
      for (int i = 0; i < buckets.size(); i++) {
        counts[i] = buckets.getCount(i);
        if (i < bounds.length) {
          bounds[i] = buckets.getUpperBound(i);
        }
      }
      return ApiJson.response(StatusCodes.OK, new Data(System.currentTimeMillis(), authority.layout().maxSpaces(),
          spaces.stream().map(Cell::of).toList(), metrics.allocatedTotal(), metrics.freedTotal(), bounds, counts));
    });
  }
}
