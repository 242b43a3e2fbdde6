package io.flowsight.sidecar.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * The sidecar's Prometheus metrics, all prefixed {@code flowsight_sidecar_}. What an on-call
 * engineer looks at first: {@code ringbuf_drops_total} and {@code output_dropped_total} (records
 * lost), {@code producer_errors_total} and {@code output_lost_at_shutdown_total} (records lost to
 * Kafka), {@code output_oldest_record_age_seconds} (how far behind delivery is), {@code hook_live}
 * (what is attached).
 */
public final class SidecarMetrics {

  private final PrometheusRegistry registry = new PrometheusRegistry();

  private final Counter eventsConsumed =
      Counter.builder()
          .name("flowsight_sidecar_events_consumed_total")
          .help("Kernel events read from the ring buffer, by type")
          .labelNames("type")
          .register(registry);
  private final Counter records =
      Counter.builder()
          .name("flowsight_sidecar_records_total")
          .help("Flow records emitted by the flow table, by kind")
          .labelNames("kind")
          .register(registry);
  private final Counter excluded =
      Counter.builder()
          .name("flowsight_sidecar_records_excluded_total")
          .help("Flow records not sent: both ends of the connection in --exclude blocks")
          .register(registry);
  private final Counter produced =
      Counter.builder()
          .name("flowsight_sidecar_records_produced_total")
          .help("Flow records acknowledged by Kafka")
          .register(registry);
  private final Counter producerErrors =
      Counter.builder()
          .name("flowsight_sidecar_producer_errors_total")
          .help(
              "Flow records lost because Kafka will never take them (too large, not authorized,"
                  + " refused by the serializer), by error class")
          .labelNames("error")
          .register(registry);
  private final Counter outputRetries =
      Counter.builder()
          .name("flowsight_sidecar_output_retries_total")
          .help(
              "Sends tried again with the same record because the broker or the schema registry"
                  + " did not answer (records kept, not lost), by cause: broker, registry")
          .labelNames("cause")
          .register(registry);
  private final Counter outputLostAtShutdown =
      Counter.builder()
          .name("flowsight_sidecar_output_lost_at_shutdown_total")
          .help(
              "Flow records still held when the sidecar stopped: Kafka did not take them within"
                  + " the close timeout")
          .register(registry);
  private final Counter outputDropped =
      Counter.builder()
          .name("flowsight_sidecar_output_dropped_total")
          .help("Flow records dropped because the output buffer was full (Kafka slow or down)")
          .register(registry);
  private final Counter lost =
      Counter.builder()
          .name("flowsight_sidecar_connections_vanished_total")
          .help(
              "Tracked connections whose socket disappeared without a close event (a dropped event)")
          .register(registry);
  private final Counter untracked =
      Counter.builder()
          .name("flowsight_sidecar_connections_over_capacity_total")
          .help(
              "Open connections found with no room in the flow table (--max-connections), once"
                  + " per connection: no INTERIM records while the table is full; their CLOSED"
                  + " record reports all of them")
          .register(registry);
  private final Counter partial =
      Counter.builder()
          .name("flowsight_sidecar_connections_partial_total")
          .help(
              "Connections open before a start without the previous run's state (first start or"
                  + " after a crash): their first record is partial, their earlier traffic is not"
                  + " in this run's records")
          .register(registry);
  private final Counter podLookups =
      Counter.builder()
          .name("flowsight_sidecar_pod_lookups_total")
          .help(
              "Flow records made (before --exclude) by what their socket's cgroup named (with a"
                  + " cgroup2 mount only): pod"
                  + " (a pod's, and the pod was known), node (the node's own processes, or a"
                  + " container without pod), unknown_cgroup (no cgroup id, or none such in the"
                  + " mount), unknown_pod (a pod's cgroup, but the pod is not known: not yet"
                  + " listed, deleted more than 5 minutes ago, or no --kubernetes-node)")
          .labelNames("result")
          .register(registry);
  private final Gauge hookLive =
      Gauge.builder()
          .name("flowsight_sidecar_hook_live")
          .help("1 when the kernel hook is attached, 0 when it could not be")
          .labelNames("hook")
          .register(registry);

  public PrometheusRegistry registry() {
    return registry;
  }

  /**
   * The current value of a metric, summed over the data points whose labels include {@code labels}
   * (name, value, name, value...): for tests and benchmarks that read the sidecar's own counts.
   */
  public double value(String name, String... labels) {
    String base = name.endsWith("_total") ? name.substring(0, name.length() - 6) : name;
    Labels wanted = Labels.of(labels);
    double sum = 0;
    for (MetricSnapshot snapshot : registry.scrape()) {
      if (!snapshot.getMetadata().getName().equals(base)) {
        continue;
      }
      for (DataPointSnapshot point : snapshot.getDataPoints()) {
        if (!wanted.stream()
            .allMatch(l -> l.getValue().equals(point.getLabels().get(l.getName())))) {
          continue;
        }
        if (point instanceof CounterSnapshot.CounterDataPointSnapshot c) {
          sum += c.getValue();
        } else if (point instanceof GaugeSnapshot.GaugeDataPointSnapshot g) {
          sum += g.getValue();
        }
      }
    }
    return sum;
  }

  /**
   * Labelled children of the per-event and per-record counters, looked up once per label value:
   * {@code labelValues} builds a label list and hashes it, on the kernel consumer's path.
   */
  private final Map<String, CounterDataPoint> eventsConsumedByType = new ConcurrentHashMap<>();

  private final Map<String, CounterDataPoint> recordsByKind = new ConcurrentHashMap<>();

  public void eventConsumed(String type) {
    eventsConsumedByType.computeIfAbsent(type, eventsConsumed::labelValues).inc();
  }

  public void recordEmitted(String kind) {
    recordsByKind.computeIfAbsent(kind, records::labelValues).inc();
  }

  private final Map<String, CounterDataPoint> podLookupsByResult = new ConcurrentHashMap<>();

  /** A record's pod lookup: pod, node, unknown_cgroup or unknown_pod. */
  public void podLookup(String result) {
    podLookupsByResult.computeIfAbsent(result, podLookups::labelValues).inc();
  }

  public void recordExcluded() {
    excluded.inc();
  }

  public void recordProduced() {
    produced.inc();
  }

  public void producerError(String error) {
    producerErrors.labelValues(error).inc();
  }

  public void outputRetry(String cause) {
    outputRetries.labelValues(cause).inc();
  }

  public void outputLostAtShutdown(long records) {
    outputLostAtShutdown.inc(records);
  }

  public void outputOldestRecordAge(DoubleSupplier seconds) {
    GaugeWithCallback.builder()
        .name("flowsight_sidecar_output_oldest_record_age_seconds")
        .help(
            "Age (from its endTime) of the oldest flow record Kafka has not acknowledged yet,"
                + " seconds; 0 when none is held")
        .callback(callback -> callback.call(seconds.getAsDouble()))
        .register(registry);
  }

  public void outputDropped() {
    outputDropped.inc();
  }

  public void connectionVanished() {
    lost.inc();
  }

  public void connectionUntracked() {
    untracked.inc();
  }

  public void connectionPartial() {
    partial.inc();
  }

  public void connectionsUntracked(DoubleSupplier untrackedNow) {
    GaugeWithCallback.builder()
        .name("flowsight_sidecar_connections_untracked")
        .help(
            "Open connections the last snapshot found with no room in the flow table"
                + " (--max-connections)")
        .callback(callback -> callback.call(untrackedNow.getAsDouble()))
        .register(registry);
  }

  public void snapshotDecodeErrors(DoubleSupplier errors) {
    CounterWithCallback.builder()
        .name("flowsight_sidecar_snapshot_decode_errors_total")
        .help(
            "Socket snapshots (iter/tcp output) that could not be decoded and were skipped: the"
                + " open connections report at the next good snapshot")
        .callback(callback -> callback.call(errors.getAsDouble()))
        .register(registry);
  }

  public void hook(String hook, boolean live) {
    hookLive.labelValues(hook).set(live ? 1 : 0);
  }

  public void outputBufferFill(DoubleSupplier fill) {
    GaugeWithCallback.builder()
        .name("flowsight_sidecar_output_buffer_fill_ratio")
        .help("Fill of the output buffer in front of Kafka, 0 to 1")
        .callback(callback -> callback.call(fill.getAsDouble()))
        .register(registry);
  }

  public void connectionsTracked(DoubleSupplier tracked) {
    GaugeWithCallback.builder()
        .name("flowsight_sidecar_connections_tracked")
        .help("Connections in the flow table now")
        .callback(callback -> callback.call(tracked.getAsDouble()))
        .register(registry);
  }

  /**
   * The kernel side's own counters (summed over CPUs), read at scrape time: events submitted by
   * type, opening transitions recorded in the socket map, ring buffer drops, socket map full.
   */
  public void kernelCounters(Supplier<Map<String, Long>> counters) {
    CounterWithCallback.builder()
        .name("flowsight_sidecar_kernel_counter_total")
        .help(
            "Counters kept by the eBPF program: events (submitted: close + listen), ringbuf_drops"
                + " (ring buffer full: events lost), sock_map_full, close and listen events, and"
                + " the transitions recorded without an event (active_open, active_established,"
                + " passive_established)")
        .labelNames("counter")
        .callback(callback -> counters.get().forEach((name, value) -> callback.call(value, name)))
        .register(registry);
  }
}
