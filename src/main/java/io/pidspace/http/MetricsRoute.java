package io.pidspace.http;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.ClusterActorRefProvider;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.ShardRegion;
import akka.cluster.typed.Cluster;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.management.javadsl.ManagementRouteProvider;
import akka.management.javadsl.ManagementRouteProviderSettings;
import io.pidspace.api.PidAuthority;
import io.pidspace.api.SpaceListing;
import io.pidspace.core.SpaceStats;
import io.pidspace.metrics.NodeMetrics;
import io.pidspace.space.SpaceService;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code /metrics} on the management port, in the Prometheus text format (docs/operations.md).
 * Akka Management loads it from {@code akka.management.http.routes} (pidspace-node.conf). The
 * instruments of {@link NodeMetrics} are written as they are; the state that lives elsewhere is
 * read for each scrape: every space's fill (the registry's listing, as {@code GET /v1/spaces}
 * has it), the cluster's members, the shards and spaces this node hosts, where the registry runs.
 */
public final class MetricsRoute extends AllDirectives implements ManagementRouteProvider {

  /** text/plain; version=0.0.4; charset=utf-8 */
  private static final ContentType TEXT_FORMAT = ContentTypes.parse(PrometheusTextFormatWriter.CONTENT_TYPE);
  private static final PrometheusTextFormatWriter WRITER = PrometheusTextFormatWriter.create();

  private final ActorSystem<?> system;
  private final PidAuthority authority;
  private final NodeMetrics metrics;

  public MetricsRoute(ExtendedActorSystem classic) {
    this.system = Adapter.toTyped(classic);
    this.authority = PidAuthority.get(system);
    this.metrics = NodeMetrics.get(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return path("metrics", () -> get(() -> completeWithFuture(scrape())));
  }

  /**
   * Everything that answers: a registry or shard region that does not leaves its gauges out (and
   * says so), while the node's own figures, wanted most just then, are still written.
   */
  private CompletionStage<HttpResponse> scrape() {
    CompletableFuture<List<SpaceListing>> spaces = authority.spaces().toCompletableFuture().exceptionally(failure -> null);
    CompletableFuture<ShardRegion.CurrentShardRegionState> shards = hostedShards().exceptionally(failure -> null);
    return spaces.thenCombine(shards, (listing, hosted) -> {
      List<MetricSnapshot> all = new ArrayList<>();
      metrics.registry().scrape().forEach(all::add);
      all.addAll(spaceGauges(listing));
      all.add(unrecoverableGauge(hosted));
      all.addAll(clusterGauges(hosted));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        WRITER.write(out, new MetricSnapshots(all));
      } catch (IOException e) {
        throw new UncheckedIOException(e); // a byte array does not fail
      }
      return HttpResponse.create().withEntity(HttpEntities.create(TEXT_FORMAT, out.toByteArray()));
    });
  }

  /**
   * Per space, labelled by its id (at most max-spaces, 512): a space that did not answer is left
   * out and counted. {@code listing} null: the registry did not answer.
   */
  private static List<MetricSnapshot> spaceGauges(List<SpaceListing> listing) {
    GaugeSnapshot answered = gauge("pidspace_registry_answered", "1 when the registry listed the spaces for this scrape")
        .dataPoint(point(Labels.EMPTY, listing == null ? 0 : 1)).build();
    if (listing == null) {
      return List.of(answered);
    }
    GaugeSnapshot.Builder allocated = gauge("pidspace_space_allocated", "Pids allocated in the space");
    GaugeSnapshot.Builder pidMax = gauge("pidspace_space_pid_max", "The space's pid_max: vpids below it can be handed out");
    GaugeSnapshot.Builder free = gauge("pidspace_space_free", "pid_max minus allocated");
    int unanswered = 0;
    for (SpaceListing space : listing) {
      SpaceStats s = space.stats();
      if (s == null) {
        unanswered++;
        continue;
      }
      Labels labels = Labels.of("space", Integer.toString(s.space()));
      allocated.dataPoint(point(labels, s.allocated()));
      pidMax.dataPoint(point(labels, s.pidMax()));
      free.dataPoint(point(labels, s.pidMax() - s.allocated()));
    }
    return List.of(answered, allocated.build(), pidMax.build(), free.build(),
        gauge("pidspace_spaces", "Spaces the registry knows").dataPoint(point(Labels.EMPTY, listing.size())).build(),
        gauge("pidspace_spaces_unanswered", "Spaces that did not answer within pidspace.list-timeout for this scrape")
            .dataPoint(point(Labels.EMPTY, unanswered)).build());
  }

  /**
   * The spaces whose recovery failed on unreadable data on this node and that have not recovered
   * here since: in a cluster, of the shards this node still hosts ({@code hosted}, when its
   * region answered), so a shard that moved away takes its count along.
   */
  private GaugeSnapshot unrecoverableGauge(ShardRegion.CurrentShardRegionState hosted) {
    Set<Integer> spaces = metrics.unrecoverableSpaces();
    long count = spaces.size();
    if (hosted != null && !spaces.isEmpty()) {
      Set<String> shards = new HashSet<>();
      hosted.getShards().forEach(shard -> shards.add(shard.shardId()));
      count = spaces.stream().filter(space -> shards.contains(SpaceService.shardOf(system, space))).count();
    }
    return gauge("pidspace_spaces_unrecoverable",
        "Spaces on this node whose snapshot or an event cannot be read: they answer space-unrecoverable (docs/operations.md)")
        .dataPoint(point(Labels.EMPTY, count)).build();
  }

  /** {@code hosted} null: not a cluster, or the shard region did not answer; its gauges are left out. */
  private List<MetricSnapshot> clusterGauges(ShardRegion.CurrentShardRegionState hosted) {
    if (!clustered()) {
      return List.of();
    }
    Cluster cluster = Cluster.get(system);
    ClusterEvent.CurrentClusterState state = cluster.state();
    Map<String, Integer> byStatus = new TreeMap<>();
    Member oldest = null;
    for (Member member : state.getMembers()) {
      byStatus.merge(member.status().toString().toLowerCase(), 1, Integer::sum);
      if (member.status() == MemberStatus.up() && (oldest == null || member.isOlderThan(oldest))) {
        oldest = member;
      }
    }
    GaugeSnapshot.Builder members = gauge("pidspace_cluster_members", "Members of the cluster by status, as this node sees them");
    byStatus.forEach((status, n) -> members.dataPoint(point(Labels.of("status", status), n)));
    List<MetricSnapshot> gauges = new ArrayList<>(List.of(members.build(),
        gauge("pidspace_cluster_unreachable", "Members this node finds unreachable")
            .dataPoint(point(Labels.EMPTY, state.getUnreachable().size())).build()));
    if (hosted != null) {
      gauges.add(gauge("pidspace_shards", "Shards of spaces this node hosts")
          .dataPoint(point(Labels.EMPTY, hosted.getShards().size())).build());
      gauges.add(gauge("pidspace_spaces_hosted", "Spaces running on this node (durable ones leave when idle)")
          .dataPoint(point(Labels.EMPTY, hosted.getShards().stream().mapToInt(s -> s.getEntityIds().size()).sum()))
          .build());
    }
    // The registry is a Cluster Singleton, which Akka runs on the oldest Up member.
    boolean here = oldest != null && oldest.equals(cluster.selfMember());
    gauges.add(gauge("pidspace_registry_local", "1 when the space registry runs on this node").dataPoint(point(Labels.EMPTY, here ? 1 : 0)).build());
    if (oldest != null) {
      gauges.add(gauge("pidspace_registry_node", "The member the space registry runs on (the oldest Up member)")
          .dataPoint(point(Labels.of("node", oldest.address().toString()), 1)).build());
    }
    return gauges;
  }

  private boolean clustered() {
    return Adapter.toClassic(system).provider() instanceof ClusterActorRefProvider;
  }

  /** This node's shards of spaces and the spaces in them; null when the system is not a cluster. */
  private CompletableFuture<ShardRegion.CurrentShardRegionState> hostedShards() {
    if (!clustered()) {
      return CompletableFuture.completedFuture(null);
    }
    return SpaceService.hostedShards(system, authority.settings().listTimeout());
  }

  private static GaugeSnapshot.Builder gauge(String name, String help) {
    return GaugeSnapshot.builder().name(name).help(help);
  }

  private static GaugeDataPointSnapshot point(Labels labels, double value) {
    return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
  }
}
