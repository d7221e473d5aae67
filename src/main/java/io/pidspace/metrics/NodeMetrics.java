package io.pidspace.metrics;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The instruments of one actor system (Prometheus Java client 1.x), bumped where the work
 * happens: the HTTP routes count requests, pids and refusals; durable spaces report their journal
 * writes ({@link SpaceMetrics}). Gauges of state that lives elsewhere (spaces, cluster) are read
 * when {@code /metrics} is scraped, not kept here. Every label has a bounded set of values: a
 * route template, a refusal code.
 *
 * <p>Bumping an instrument is a striped add, no lock and no allocation: the hot path stays cheap.
 * Histograms are classic only (fixed buckets) and keep no exemplars.
 */
public final class NodeMetrics implements Extension, SpaceMetrics {

  private static final ExtensionId<NodeMetrics> ID = new ExtensionId<>() {
    @Override
    public NodeMetrics createExtension(ActorSystem<?> system) {
      return new NodeMetrics();
    }
  };

  /** Request latency, seconds: from well under a millisecond (memory) to the 18 s request timeout. */
  private static final double[] LATENCY_BOUNDS =
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20};
  /** Pids one journal write changes: one request up to max-batch (10,000 by default). */
  private static final double[] PIDS_BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 10000};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Histogram requests = Histogram.builder()
      .name("pidspace_http_request_duration_seconds")
      .help("Time from a request's route to its answer, by method and route template")
      .labelNames("method", "route")
      .classicOnly().classicUpperBounds(LATENCY_BOUNDS).withoutExemplars()
      .register(registry);
  private final Counter allocated = Counter.builder()
      .name("pidspace_pids_allocated_total")
      .help("Pids this node's API handed out")
      .withoutExemplars()
      .register(registry);
  private final Counter freed = Counter.builder()
      .name("pidspace_pids_freed_total")
      .help("Pids this node's API freed")
      .withoutExemplars()
      .register(registry);
  private final Counter refusals = Counter.builder()
      .name("pidspace_refusals_total")
      .help("Requests this node's API refused, by error code (docs/http.md)")
      .labelNames("code")
      .withoutExemplars()
      .register(registry);
  private final Histogram journalWrites = Histogram.builder()
      .name("pidspace_journal_write_duration_seconds")
      .help("Time from a space's persist to its event stored, for the spaces this node hosts")
      .classicOnly().classicUpperBounds(LATENCY_BOUNDS).withoutExemplars()
      .register(registry);
  private final Histogram pidsPerWrite = Histogram.builder()
      .name("pidspace_journal_write_pids")
      .help("Pids one stored event changes: the group commit's batch size")
      .classicOnly().classicUpperBounds(PIDS_BOUNDS).withoutExemplars()
      .register(registry);

  // Kept here, not read from the spaces at a scrape: an unrecoverable space stops after a few
  // restarts (restart-backoff.max-restarts) and is not running when the scrape comes.
  private final Set<Integer> unrecoverable = ConcurrentHashMap.newKeySet();

  private NodeMetrics() {}

  /** The instruments of {@code system}, made on first use. */
  public static NodeMetrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /** The latency histogram of one route; look it up once, observe on every request. */
  public DistributionDataPoint requestLatency(String method, String route) {
    return requests.labelValues(method, route);
  }

  public void allocated(int pids) {
    allocated.inc(pids);
  }

  public void freed(int pids) {
    freed.inc(pids);
  }

  /** {@code code} is one of the API's stable error codes: a bounded set. */
  public void refused(String code) {
    refusals.labelValues(code).inc();
  }

  @Override
  public void stored(int pids, long nanos) {
    journalWrites.observe(nanos / 1e9);
    pidsPerWrite.observe(pids);
  }

  @Override
  public void unrecoverable(int space, boolean unrecoverable) {
    if (unrecoverable) {
      this.unrecoverable.add(space);
    } else {
      this.unrecoverable.remove(space);
    }
  }

  /** The spaces whose last recovery on this node failed on unreadable data; a copy. */
  public Set<Integer> unrecoverableSpaces() {
    return Set.copyOf(unrecoverable);
  }

  public long allocatedTotal() {
    return allocated.getLongValue();
  }

  public long freedTotal() {
    return freed.getLongValue();
  }

  /** Requests per bucket (not cumulative) of every route's latency added up, with the buckets' upper bounds. */
  public ClassicHistogramBuckets requestLatencies() {
    long[] counts = new long[LATENCY_BOUNDS.length + 1];
    for (HistogramSnapshot.HistogramDataPointSnapshot route : requests.collect().getDataPoints()) {
      ClassicHistogramBuckets buckets = route.getClassicBuckets();
      for (int i = 0; i < buckets.size(); i++) {
        counts[i] += buckets.getCount(i);
      }
    }
    double[] bounds = new double[counts.length];
    System.arraycopy(LATENCY_BOUNDS, 0, bounds, 0, LATENCY_BOUNDS.length);
    bounds[LATENCY_BOUNDS.length] = Double.POSITIVE_INFINITY;
    return ClassicHistogramBuckets.of(bounds, counts);
  }
}
