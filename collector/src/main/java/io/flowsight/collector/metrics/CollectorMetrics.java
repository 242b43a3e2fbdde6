package io.flowsight.collector.metrics;

import io.flowsight.schemas.AttributionStatus;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The collector's Prometheus metrics, all prefixed {@code flowsight_collector_}. Thread-safe: every
 * stream thread counts into the same instance. What an on-call engineer looks at first: {@code
 * dead_letters_total} (bad or too-late input), {@code sequence_gaps_total} (records lost before the
 * collector), {@code records_after_close_total} (corrections on their way), {@code held_flows}
 * (owners not known yet), {@code consumer_lag_records} (falling behind) and {@code
 * attributions_total} by status (attribution quality).
 */
public final class CollectorMetrics {

  /** Which end of a flow an attribution is about. */
  public enum End {
    LOCAL,
    REMOTE
  }

  private final PrometheusRegistry registry;

  private final Counter recordsIn;
  private final Counter deadLetters;
  private final Counter sequenceGaps;
  private final Histogram deliveryDelay;
  private final Histogram evidenceDelay;
  private final Counter settledAnswersChanged;
  private final Counter labelsFromOtherSide;
  private final Counter misrouted;
  private final AtomicLong lastMisroutedAt = new AtomicLong(Long.MIN_VALUE);
  private final Counter attributions;
  private final Counter holds;
  private final Gauge held;
  private final Counter releases;
  private final Counter duplicates;
  private final Counter aggregatesOut;
  private final Counter flowsAggregated;
  private final Counter afterClose;
  private final Counter keyMismatch;
  private final Counter deadLettersUnwritten;
  private final Counter threadReplacements;
  private final Counter sendRetries;

  private final CounterDataPoint flowsIn;
  private final CounterDataPoint identitiesIn;
  private final CounterDataPoint[][] attributionPoints;
  private final Map<String, CounterDataPoint> deadLetterPoints = new ConcurrentHashMap<>();

  public CollectorMetrics() {
    this(new PrometheusRegistry());
  }

  public CollectorMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    recordsIn =
        Counter.builder()
            .name("flowsight_collector_records_in_total")
            .help("Records read from the input topics, by input (flows, identities)")
            .labelNames("input")
            .register(registry);
    deadLetters =
        Counter.builder()
            .name("flowsight_collector_dead_letters_total")
            .help(
                "Records sent to the dead-letter topic, by reason (undecodable, invalid, too_late,"
                    + " key_mismatch)")
            .labelNames("reason")
            .register(registry);
    sequenceGaps =
        Counter.builder()
            .name("flowsight_collector_sequence_gaps_total")
            .help(
                "Flow records missing from the sidecars' numbered sequences (per run and local"
                    + " IP): records lost between a sidecar and the collector")
            .register(registry);
    deliveryDelay =
        Histogram.builder()
            .name("flowsight_collector_record_delivery_delay_seconds")
            .help(
                "Time from a flow record's endTime to its produce time (its sidecar's clock):"
                    + " minutes or hours after a broker outage the sidecar rode out")
            .classicOnly()
            .classicUpperBounds(1, 2, 5, 10, 20, 60, 300, 900, 3600, 6 * 3600, 24 * 3600)
            .register(registry);
    evidenceDelay =
        Histogram.builder()
            .name("flowsight_collector_evidence_delay_seconds")
            .help(
                "How late ownership evidence reaches the collector, by kind: identity (an"
                    + " IpIdentityChange, from its eventTime) and heartbeat (a flow record, from"
                    + " its endTime). --settle must cover the identity sources' tail")
            .labelNames("kind")
            .classicOnly()
            .classicUpperBounds(0.5, 1, 2, 5, 10, 20, 30, 35, 45, 60, 120, 300, 3600)
            .register(registry);
    settledAnswersChanged =
        Counter.builder()
            .name("flowsight_collector_settled_answers_changed_total")
            .help(
                "Evidence that changed who owned an IP at a time already past the settle delay"
                    + " (ends decided there before it arrived may be wrong), by kind of evidence:"
                    + " identity or heartbeat. Rising: raise --settle, or fix the late source")
            .labelNames("kind")
            .register(registry);
    misrouted =
        Counter.builder()
            .name("flowsight_collector_misrouted_records_total")
            .help(
                "Input records found in a partition their key does not map to under Java's"
                    + " default (murmur2) partitioner, by input (flows, identities): re-keyed"
                    + " through a repartition topic, not lost. A producer partitions differently:"
                    + " fix it (docs/collector.md, Partitioning contract)")
            .labelNames("input")
            .register(registry);
    labelsFromOtherSide =
        Counter.builder()
            .name("flowsight_collector_other_side_labels_total")
            .help(
                "Remote ends attributed with the label the other end's own sidecar gave the same"
                    + " connection")
            .register(registry);
    attributions =
        Counter.builder()
            .name("flowsight_collector_attributions_total")
            .help(
                "Final attribution of flow ends, by end (local, remote) and status (OWNER, CIDR:"
                    + " attributed; NEVER_SEEN, GAP, CONFLICT, EXPIRED: unattributed)")
            .labelNames("end", "status")
            .register(registry);
    holds =
        Counter.builder()
            .name("flowsight_collector_holds_total")
            .help(
                "Flows held back, by end and reason: SETTLING (every end looked up in a history"
                    + " waits for the settle delay), NEVER_SEEN or GAP (the owner is not known"
                    + " yet)")
            .labelNames("end", "reason")
            .register(registry);
    held =
        Gauge.builder()
            .name("flowsight_collector_held_flows")
            .help(
                "Flows held back now (this instance's tasks), by reason: SETTLING (waiting for"
                    + " the settle delay), NEVER_SEEN or GAP (waiting for an unknown owner)")
            .labelNames("reason")
            .register(registry);
    releases =
        Counter.builder()
            .name("flowsight_collector_hold_releases_total")
            .help(
                "Held flows released, by outcome: settled (the settle delay is over), resolved"
                    + " (the owner became known) or expired (the hold-back ran out)")
            .labelNames("outcome")
            .register(registry);
    duplicates =
        Counter.builder()
            .name("flowsight_collector_duplicate_observations_total")
            .help(
                "Flow records of the second end of a connection seen by both ends (not counted"
                    + " again; they set observedBy to BOTH)")
            .register(registry);
    aggregatesOut =
        Counter.builder()
            .name("flowsight_collector_aggregates_out_total")
            .help("Aggregates written to the output topic")
            .register(registry);
    flowsAggregated =
        Counter.builder()
            .name("flowsight_collector_flows_aggregated_total")
            .help(
                "Flow records that reached the aggregation with both ends attributed (or given"
                    + " up on), duplicates of connections seen by both ends included")
            .register(registry);
    afterClose =
        Counter.builder()
            .name("flowsight_collector_records_after_close_total")
            .help(
                "Flow records that started a row for a window already closed (records delivered"
                    + " after a broker outage, collector lag, a restart): they go out in one more"
                    + " row for that window, which Druid sums")
            .register(registry);
    keyMismatch =
        Counter.builder()
            .name("flowsight_collector_key_mismatch_total")
            .help(
                "Flow records whose key is not their local IP's text: aggregated, but their"
                    + " heartbeat is ignored (it would land in another partition's store)")
            .register(registry);
    deadLettersUnwritten =
        Counter.builder()
            .name("flowsight_collector_dead_letters_unwritten_total")
            .help(
                "Dead letters Kafka refused to store, by reason (too_large, invalid_record): the"
                    + " bad record is lost, the collector goes on")
            .labelNames("reason")
            .register(registry);
    threadReplacements =
        Counter.builder()
            .name("flowsight_collector_thread_replacements_total")
            .help(
                "Stream threads that failed and were replaced, by kind (infrastructure: broker or"
                    + " registry unreachable; fault: anything else)")
            .labelNames("kind")
            .register(registry);
    sendRetries =
        Counter.builder()
            .name("flowsight_collector_send_retries_total")
            .help(
                "Records Kafka did not take for a retriable reason (the broker away, a leader"
                    + " moving), by exception: the task's transaction is aborted and its input"
                    + " processed again, nothing is lost")
            .labelNames("cause")
            .register(registry);
    flowsIn = recordsIn.labelValues("flows");
    identitiesIn = recordsIn.labelValues("identities");
    AttributionStatus[] statuses = AttributionStatus.values();
    attributionPoints = new CounterDataPoint[End.values().length][statuses.length];
    for (End end : End.values()) {
      for (AttributionStatus s : statuses) {
        if (s == AttributionStatus.UNKNOWN) {
          continue; // the schema's default for symbols added later; the collector never sets it
        }
        attributionPoints[end.ordinal()][s.ordinal()] =
            attributions.labelValues(end.name().toLowerCase(Locale.ROOT), s.name());
      }
    }
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public void flowIn() {
    flowsIn.inc();
  }

  public void identityIn() {
    identitiesIn.inc();
  }

  /** A record went to the dead-letter topic; {@code reason} is one of the DLQ reasons. */
  public void deadLetter(String reason) {
    deadLetterPoints
        .computeIfAbsent(reason, r -> deadLetters.labelValues(r.replace('-', '_')))
        .inc();
  }

  /** {@code missing} sequence numbers were skipped by a sidecar run's records. */
  public void sequenceGap(long missing) {
    sequenceGaps.inc(missing);
  }

  /** A flow record's produce time minus its endTime, ms. */
  public void deliveryDelay(long ms) {
    deliveryDelay.observe(Math.max(0, ms) / 1000.0);
  }

  public void attributed(End end, AttributionStatus status) {
    attributionPoints[end.ordinal()][status.ordinal()].inc();
  }

  /**
   * A flow was put on hold, for {@code reason}: SETTLING (the settle delay), or the unknown owner's
   * status (NEVER_SEEN, GAP).
   */
  public void hold(End end, String reason) {
    holds.labelValues(end.name().toLowerCase(Locale.ROOT), reason).inc();
    heldDelta(reason, 1);
  }

  /** Held flows of a task appeared (restored) or went away (task closed): {@code delta}. */
  public void heldDelta(String reason, long delta) {
    GaugeDataPoint point = held.labelValues(reason);
    point.inc(delta);
  }

  /**
   * A held flow ({@code reason} as for {@link #hold}) was released: {@code outcome} settled (the
   * settle delay is over), resolved (the owner became known) or expired (the hold-back ran out).
   */
  public void released(String reason, String outcome) {
    heldDelta(reason, -1);
    releases.labelValues(outcome).inc();
  }

  /** An identity change's or a heartbeat's delay, ms. */
  public void evidenceDelay(boolean identity, long ms) {
    evidenceDelay
        .labelValues(identity ? "identity" : "heartbeat")
        .observe(Math.max(0, ms) / 1000.0);
  }

  public void settledAnswerChanged(boolean identity) {
    settledAnswersChanged.labelValues(identity ? "identity" : "heartbeat").inc();
  }

  /** An input record was in the wrong partition for its key (at {@code now}, epoch ms). */
  public void misrouted(boolean flows, long now) {
    misrouted.labelValues(flows ? "flows" : "identities").inc();
    lastMisroutedAt.set(now);
  }

  /**
   * A warning for {@code /health} while records arrive in the wrong partitions (the last one within
   * 10 minutes), else null.
   */
  public String misroutedWarning(long now) {
    long last = lastMisroutedAt.get();
    if (last == Long.MIN_VALUE || now - last > 10 * 60_000L) {
      return null;
    }
    return "input records arrive in partitions their keys do not map to under Java's default"
        + " (murmur2) partitioner (flowsight_collector_misrouted_records_total): they are re-keyed"
        + " through a repartition topic, at the cost of a hop; fix the producer's partitioner";
  }

  public void labelFromOtherSide() {
    labelsFromOtherSide.inc();
  }

  public void duplicate() {
    duplicates.inc();
  }

  public void flowAggregated() {
    flowsAggregated.inc();
  }

  public void aggregateOut() {
    aggregatesOut.inc();
  }

  public void recordAfterClose() {
    afterClose.inc();
  }

  public void keyMismatch() {
    keyMismatch.inc();
  }

  /** Kafka refused to store a dead letter ({@code reason}: too_large, invalid_record). */
  public void deadLetterUnwritten(String reason) {
    deadLettersUnwritten.labelValues(reason).inc();
  }

  /** A record's send failed for a retriable {@code cause}: its task is processed again. */
  public void sendRetried(String cause) {
    sendRetries.labelValues(cause).inc();
  }

  /** A stream thread failed and is replaced; {@code infrastructure}: the broker's or registry's. */
  public void threadReplaced(boolean infrastructure) {
    threadReplacements.labelValues(infrastructure ? "infrastructure" : "fault").inc();
  }
}
