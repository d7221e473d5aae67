package io.pidspace.http;

import akka.http.javadsl.model.HttpResponse;
import io.pidspace.core.Failures;
import io.pidspace.metrics.NodeMetrics;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.util.EnumMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the API's answers count (docs/operations.md): each endpoint's latency, the refusals by
 * code, the pids handed out and freed. A refusal becomes its JSON error here, so each is counted
 * once, whichever path answered it.
 */
final class RequestMetrics {

  private static final Logger log = LoggerFactory.getLogger(RequestMetrics.class);

  private final NodeMetrics node;
  private final EnumMap<Endpoint, DistributionDataPoint> latencies = new EnumMap<>(Endpoint.class);

  RequestMetrics(NodeMetrics node) {
    this.node = node;
    for (Endpoint endpoint : Endpoint.values()) {
      latencies.put(endpoint, node.requestLatency(endpoint.method, endpoint.template));
    }
  }

  NodeMetrics node() {
    return node;
  }

  /**
   * {@code work}'s answer, or its JSON error (thrown or completed) made an answer by
   * {@code asError}; the time to the answer goes to {@code endpoint}'s latency histogram.
   */
  <T> CompletionStage<T> answered(Endpoint endpoint, Supplier<CompletionStage<T>> work, Function<HttpResponse, T> asError) {
    long start = System.nanoTime();
    DistributionDataPoint latency = latencies.get(endpoint);
    CompletionStage<T> response;
    try {
      response = work.get();
    } catch (RuntimeException | StackOverflowError refusal) {
      // No request can recurse deeply any more (RequestReader), but an Error that escapes a route
      // is fatal to the whole JVM (akka.jvm-exit-on-fatal-error); its stack has unwound by here.
      response = CompletableFuture.failedStage(refusal);
    }
    return response.handle((answered, failure) -> {
      latency.observe((System.nanoTime() - start) / 1e9);
      return failure == null ? answered : asError.apply(error(failure));
    });
  }

  /** The JSON error of {@code failure}, counted by its code. */
  HttpResponse error(Throwable failure) {
    ApiError error = ApiError.of(failure);
    node.refused(error.code());
    if (error.code().equals("internal")) { // a bug; space-unrecoverable, a 500 too, its space logs
      log.error("request failed unexpectedly", withoutMessage(Failures.unwrap(failure)));
    }
    return error.response();
  }

  void refused(String code) {
    node.refused(code);
  }

  void allocated(int pids) {
    node.allocated(pids);
  }

  void freed(int pids) {
    node.freed(pids);
  }

  /** The failure's type and where it happened, not its message: that may quote the request. */
  private static Throwable withoutMessage(Throwable failure) {
    Throwable bare = new Throwable(failure.getClass().getName());
    bare.setStackTrace(failure.getStackTrace());
    return bare;
  }
}
