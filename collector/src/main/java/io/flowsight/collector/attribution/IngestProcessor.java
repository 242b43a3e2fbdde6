package io.flowsight.collector.attribution;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.Topics;
import io.flowsight.collector.attribution.HoldRule.Decision;
import io.flowsight.collector.attribution.Routed.DeadLettered;
import io.flowsight.collector.attribution.Routed.ToAggregation;
import io.flowsight.collector.attribution.Routed.ToRemoteLookup;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.collector.output.Owner;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.collector.wire.Messages.CidrChange;
import io.flowsight.collector.wire.Messages.FlowToAggregate;
import io.flowsight.collector.wire.Messages.FlowToRemote;
import io.flowsight.collector.wire.Messages.Pending;
import io.flowsight.collector.wire.Messages.ToAggregate;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.ownership.OwnershipHistory;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.FlowRecordHeaders;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.serde.SerdeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * The first step of the attribution sub-topology, reading both co-partitioned inputs (the raw
 * bytes, so that a record that does not decode becomes a dead letter instead of stopping the
 * application):
 *
 * <ul>
 *   <li>a flow record: decode and validate; note its place in its sidecar run's sequence (gaps are
 *       counted); reject it as too late when it ended longer than the late horizon ago; add its
 *       heartbeat (local IP, local identity, [startTime, endTime]) to the local IP's ownership
 *       history, and retry the flows held for that IP; attribute the local end (the record's own
 *       label, else the local IP's history, else hold it back); send it on, keyed by the remote IP,
 *       to the remote lookup. A record is never rejected for arriving after its window was emitted:
 *       it goes out in an additional row;
 *   <li>an identity change: for a single IP, add it to the IP's history and retry the flows held
 *       for the IP; for a CIDR block, send it to every partition's copy of the CIDR tables.
 * </ul>
 *
 * A wall-clock punctuation releases the held flows whose hold-back is over (unattributed with the
 * reason, or with a CIDR block's identity), another applies the histories' retention.
 */
public final class IngestProcessor implements Processor<byte[], byte[], String, Routed> {

  private final Topics topics;
  private final CollectorSettings settings;
  private final CollectorMetrics metrics;
  private final Deserializer<FlowRecord> flowDecoder;
  private final Deserializer<IpIdentityChange> identityDecoder;

  private ProcessorContext<String, Routed> context;
  private AttributionState state;
  private Holds holds;
  private SequenceTracker sequences;
  private final EvidenceClock clock = new EvidenceClock();
  private final boolean rerouted;

  /**
   * Offsets of records read from the re-keying repartition topic are moved by this much, so that
   * their ids ({@link InternalFlow#originId()}) never equal those of the flows topic's records.
   */
  static final long REROUTED_OFFSET_BASE = 1L << 62;

  static final byte TAG_FLOW = 0;
  static final byte TAG_IDENTITY = 1;

  public IngestProcessor(Topics topics, CollectorSettings settings, CollectorMetrics metrics) {
    this(topics, settings, metrics, false);
  }

  /**
   * @param rerouted this instance reads the re-keying repartition topic (records that reached a
   *     wrong partition of an input, now in the right one): it does not check partitions again, and
   *     leaves the punctuations and the held-flow gauge to the instance reading the inputs
   */
  public IngestProcessor(
      Topics topics, CollectorSettings settings, CollectorMetrics metrics, boolean rerouted) {
    this.rerouted = rerouted;
    this.topics = topics;
    this.settings = settings;
    this.metrics = metrics;
    this.flowDecoder = topics.flows().valueSerde().deserializer();
    this.identityDecoder = topics.identities().valueSerde().deserializer();
  }

  @Override
  public void init(ProcessorContext<String, Routed> context) {
    this.context = context;
    this.state = new AttributionState(context, settings.historyPolicy());
    this.holds = new Holds(state, settings, metrics);
    this.sequences = new SequenceTracker(context.getStateStore(SequenceTracker.STORE), metrics);
    if (rerouted) {
      return;
    }
    // This processor accounts for the task's held flows in the gauge (restored ones included).
    state.heldByReason().forEach(metrics::heldDelta);
    context.schedule(
        settings.holdCheckInterval(), PunctuationType.WALL_CLOCK_TIME, this::releaseDue);
    context.schedule(
        settings.ownershipSweepInterval(),
        PunctuationType.WALL_CLOCK_TIME,
        now -> {
          state.sweep(Instant.ofEpochMilli(now));
          sequences.forgetRunsIdleSince(now - settings.lateHorizon().toMillis());
        });
    context.schedule(
        Duration.ofMinutes(1),
        PunctuationType.WALL_CLOCK_TIME,
        now ->
            state.connections().forgetOlderThan(now - settings.connectionRetention().toMillis()));
  }

  @Override
  public void close() {
    if (state != null && !rerouted) {
      try {
        state.heldByReason().forEach((reason, count) -> metrics.heldDelta(reason, -count));
      } catch (RuntimeException e) {
        // The stores may already be closed when a task is closed dirty: the gauge is only a gauge.
      }
    }
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    clock.now(context); // samples the task's stream time as the records are read
    RecordMetadata meta =
        context
            .recordMetadata()
            .orElseThrow(() -> new IllegalStateException("a source record without metadata"));
    if (rerouted) {
      byte[] tagged = record.value();
      if (tagged == null || tagged.length == 0) {
        return; // never written so
      }
      byte[] value = Arrays.copyOfRange(tagged, 1, tagged.length);
      Record<byte[], byte[]> original = record.withValue(value);
      if (tagged[0] == TAG_FLOW) {
        processFlow(original, meta, meta.offset() + REROUTED_OFFSET_BASE);
      } else {
        processIdentity(original, meta);
      }
      return;
    }
    boolean flows = meta.topic().equals(topics.flows().name());
    if (record.key() != null && record.value() != null && misrouted(record.key(), meta)) {
      metrics.misrouted(flows, context.currentSystemTimeMs());
      byte[] tagged = new byte[record.value().length + 1];
      tagged[0] = flows ? TAG_FLOW : TAG_IDENTITY;
      System.arraycopy(record.value(), 0, tagged, 1, record.value().length);
      context.forward(
          new Record<String, Routed>(
              null,
              new Routed.Misrouted(record.key(), tagged),
              record.timestamp(),
              record.headers()));
      return;
    }
    if (flows) {
      processFlow(record, meta, meta.offset());
    } else {
      processIdentity(record, meta);
    }
  }

  /**
   * Whether the record is not in the partition its key maps to under Java's default partitioner
   * (murmur2 of the key bytes, modulo the partition count): a producer that partitions otherwise
   * would put an IP's records where its history is not.
   */
  private boolean misrouted(byte[] key, RecordMetadata meta) {
    int expected = Utils.toPositive(Utils.murmur2(key)) % settings.partitions();
    return expected != meta.partition();
  }

  // ---- flows -----------------------------------------------------------------------------------

  private void processFlow(Record<byte[], byte[]> record, RecordMetadata meta, long offset) {
    metrics.flowIn();
    if (record.value() == null) {
      deadLetter(record, meta, DeadLetter.INVALID, "a flow record without a value (tombstone)");
      return;
    }
    FlowRecord r;
    try {
      r = flowDecoder.deserialize(meta.topic(), record.value());
    } catch (SerdeException e) {
      rethrowIfInfrastructure(e);
      deadLetter(record, meta, DeadLetter.UNDECODABLE, e.reason() + ": " + e.getMessage());
      return;
    } catch (RuntimeException e) {
      deadLetter(record, meta, DeadLetter.UNDECODABLE, e.toString());
      return;
    }
    long now = context.currentSystemTimeMs();
    long producedAt = producedAt(record);
    String problem = FlowValidation.problem(r);
    if (problem == null) {
      problem = FlowValidation.producedBeforeItsEnd(r, producedAt);
    }
    if (problem != null) {
      deadLetter(record, meta, DeadLetter.INVALID, problem);
      return;
    }
    sequences.observe(record.key(), r, now);
    metrics.deliveryDelay(producedAt - r.getEndTime().toEpochMilli());
    long age = now - r.getEndTime().toEpochMilli();
    if (age > settings.lateHorizon().toMillis()) {
      deadLetter(
          record,
          meta,
          DeadLetter.TOO_LATE,
          "endTime "
              + r.getEndTime()
              + " is "
              + Duration.ofMillis(age).withNanos(0)
              + " old, older than the late horizon "
              + settings.lateHorizon()
              + " (produced at "
              + Instant.ofEpochMilli(producedAt)
              + ")");
      return;
    }
    String localIp = IpAddresses.toText(r.getLocalIp());
    boolean keyMatches = record.key() != null && localIp.equals(utf8(record.key()));
    if (!keyMatches) {
      metrics.keyMismatch();
    }
    // The produce time drives the emission watermark downstream, and the timestamps of the
    // repartitioned records (the dedupe store's stream time): never past this collector's clock.
    long sourceTimestamp = Math.min(producedAt, now);
    InternalFlow flow = InternalFlow.of(r, meta.partition(), offset, sourceTimestamp);
    // This partition's store owns the local IP only when the record is keyed by it.
    OwnershipHistory localHistory = keyMatches ? state.history(localIp) : null;
    if (keyMatches && r.getLocalIdentity() != null) {
      metrics.evidenceDelay(false, now - r.getEndTime().toEpochMilli());
      OwnershipHistory before = localHistory == null ? OwnershipHistory.empty() : localHistory;
      OwnershipHistory after =
          before.withHeartbeat(
              r.getLocalIdentity(), r.getStartTime(), r.getEndTime(), settings.historyPolicy());
      if (after != before) {
        long settledBefore = settledBefore();
        if (r.getStartTime().toEpochMilli() < settledBefore
            && OwnershipHistory.takesAnOwnerAway(
                before, after, settledBefore, settings.historyPolicy())) {
          metrics.settledAnswerChanged(false);
        }
        state.putHistory(localIp, after);
        localHistory = after;
      }
      // The label answers this connection's other side (held here for its remote end), the new
      // heartbeat the flows held for this IP.
      state
          .connections()
          .putLabel(
              flow,
              new EndAttribution(AttributionStatus.OWNER, Owner.of(r.getLocalIdentity())),
              now);
      retryHeld(localIp, localHistory, now);
    }
    if (r.getLocalIdentity() != null) {
      // The sidecar's own label: first-hand, and exactly the flow's time.
      metrics.attributed(CollectorMetrics.End.LOCAL, AttributionStatus.OWNER);
      toRemote(
          flow.withLocal(
              new EndAttribution(AttributionStatus.OWNER, Owner.of(r.getLocalIdentity()))));
      return;
    }
    attributeLocal(flow, localIp, localHistory, now);
  }

  /** Times before this are past the settle delay: ends there may have been decided. */
  private long settledBefore() {
    long evidenceNow = clock.now(context);
    return evidenceNow == Long.MIN_VALUE
        ? Long.MIN_VALUE
        : evidenceNow - settings.effectiveSettle().toMillis();
  }

  private void attributeLocal(
      InternalFlow flow, String localIp, OwnershipHistory history, long now) {
    Holds.Outcome o = holds.attribute(flow, End.LOCAL, localIp, history, clock.now(context), now);
    if (o.decided() != null) {
      metrics.attributed(CollectorMetrics.End.LOCAL, o.decided().status());
      toRemote(flow.withLocal(o.decided()));
    } else if (o.announce() != null) {
      toAggregation(flow.aggregationKey(), o.announce(), flow.sourceTimestamp());
    }
  }

  /** When the sidecar produced the record: its header, else (older producers) its timestamp. */
  private static long producedAt(Record<byte[], byte[]> record) {
    Header header = record.headers().lastHeader(FlowRecordHeaders.PRODUCED_AT);
    return FlowRecordHeaders.producedAt(header == null ? null : header.value(), record.timestamp());
  }

  // ---- identity changes ------------------------------------------------------------------------

  private void processIdentity(Record<byte[], byte[]> record, RecordMetadata meta) {
    metrics.identityIn();
    if (record.value() == null) {
      return; // a tombstone of a compacted identity topic: nothing to apply
    }
    IpIdentityChange change;
    try {
      change = identityDecoder.deserialize(meta.topic(), record.value());
    } catch (SerdeException e) {
      rethrowIfInfrastructure(e);
      deadLetter(record, meta, DeadLetter.UNDECODABLE, e.reason() + ": " + e.getMessage());
      return;
    } catch (RuntimeException e) {
      deadLetter(record, meta, DeadLetter.UNDECODABLE, e.toString());
      return;
    }
    String problem = FlowValidation.problem(change);
    if (problem != null) {
      deadLetter(record, meta, DeadLetter.INVALID, problem);
      return;
    }
    String ip = IpAddresses.toText(change.getIp());
    String target = change.getPrefixLength() == null ? ip : ip + "/" + change.getPrefixLength();
    if (record.key() == null || !target.equals(utf8(record.key()))) {
      // Applied here it would sit in a partition that never looks the IP up.
      deadLetter(
          record,
          meta,
          DeadLetter.KEY_MISMATCH,
          "the key is not the change's target "
              + target
              + ": it must be keyed by the IP's (or block's) canonical text to reach the"
              + " partition that attributes the IP");
      return;
    }
    if (change.getPrefixLength() != null) {
      context.forward(
          new Record<String, Routed>(
              target, new ToRemoteLookup(new CidrChange(change)), record.timestamp()));
      return;
    }
    long now = context.currentSystemTimeMs();
    metrics.evidenceDelay(true, now - change.getEventTime().toEpochMilli());
    OwnershipHistory before = state.history(ip);
    if (before == null) {
      before = OwnershipHistory.empty();
    }
    OwnershipHistory after = before.withChange(change, settings.historyPolicy());
    if (after != before) {
      if (OwnershipHistory.takesAnOwnerAway(
          before, after, settledBefore(), settings.historyPolicy())) {
        metrics.settledAnswerChanged(true);
      }
      state.putHistory(ip, after);
      retryHeld(ip, after, now);
    }
  }

  // ---- held flows ------------------------------------------------------------------------------

  /**
   * New evidence for {@code ip}: the flows held for it may be attributable now. A flow still
   * waiting to settle is decided early only by its other side's own label (first-hand, for exactly
   * this connection); the others wait for the settle delay.
   */
  private void retryHeld(String ip, OwnershipHistory history, long now) {
    if (state.heldCount(ip) == 0) {
      return;
    }
    for (HeldFlow h : state.heldFor(ip)) {
      InternalFlow flow = h.flow();
      if (h.settling()) {
        EndAttribution label = otherSideLabel(h);
        if (label != null) {
          state.release(ip, h);
          metrics.released(h.metricsReason(), "resolved");
          metrics.labelFromOtherSide();
          decided(h, label, now);
        }
        continue;
      }
      Decision d = decide(h, history, true, holds.mayHold(flow, now));
      if (!d.hold()) {
        state.release(ip, h);
        metrics.released(h.metricsReason(), "resolved");
        decided(h, d.attribution(), now);
      }
    }
  }

  /**
   * Decides the held flows whose settle delay is over (on the evidence clock), and releases the
   * held flows whose hold-back is over (on the wall clock): their end goes out as it stands now.
   */
  private void releaseDue(long now) {
    for (AttributionState.Due due : state.settled(clock.now(context))) {
      HeldFlow h = due.flow();
      InternalFlow flow = h.flow();
      state.release(due.ip(), h);
      metrics.released(h.metricsReason(), "settled");
      EndAttribution label = otherSideLabel(h);
      if (label != null) {
        metrics.labelFromOtherSide();
        decided(h, label, now);
        continue;
      }
      Decision d = decide(h, state.history(due.ip()), true, holds.mayHold(flow, now));
      if (d.hold()) {
        // Settled, and the owner is still unknown: wait on for it, announced to the aggregation.
        Pending pending = holds.hold(due.ip(), flow, h.waitingFor(), d.holdReason(), now);
        if (pending != null) {
          toAggregation(flow.aggregationKey(), pending, flow.sourceTimestamp());
        }
      } else {
        decided(h, d.attribution(), now);
      }
    }
    for (AttributionState.Due due : state.due(now)) {
      HeldFlow h = due.flow();
      EndAttribution label = otherSideLabel(h);
      state.release(due.ip(), h);
      metrics.released(h.metricsReason(), "expired");
      if (label != null) {
        decided(h, label, now);
      } else {
        decided(h, decide(h, state.history(due.ip()), true, false).attribution(), now);
      }
    }
  }

  private Decision decide(HeldFlow h, OwnershipHistory history, boolean settled, boolean mayHold) {
    InternalFlow flow = h.flow();
    byte[] address = h.waitingFor() == End.LOCAL ? flow.localIp() : flow.remoteIp();
    return HoldRule.decide(
        history,
        settings.historyPolicy(),
        state::cidrs,
        address,
        flow.connectionStartTime(),
        settled,
        mayHold);
  }

  /** For a flow waiting for its remote end: the label the other side's sidecar gave it. */
  private EndAttribution otherSideLabel(HeldFlow h) {
    return h.waitingFor() == End.REMOTE
        ? state.connections().otherSideLabel(h.flow(), settings.dedupeTolerance().toMillis())
        : null;
  }

  /** An end decided from the histories: kept for the connection's later records, and sent on. */
  private void decided(HeldFlow h, EndAttribution attribution, long now) {
    state.connections().putDecided(h.flow(), h.waitingFor(), attribution, now);
    proceed(h, attribution);
  }

  private void proceed(HeldFlow h, EndAttribution attribution) {
    InternalFlow flow = h.flow();
    if (h.waitingFor() == End.LOCAL) {
      metrics.attributed(CollectorMetrics.End.LOCAL, attribution.status());
      toRemote(flow.withLocal(attribution));
    } else {
      metrics.attributed(CollectorMetrics.End.REMOTE, attribution.status());
      InternalFlow done = flow.withRemote(attribution);
      toAggregation(done.aggregationKey(), new FlowToAggregate(done), clock.stamp(context, done));
    }
  }

  // ---- output ----------------------------------------------------------------------------------

  /**
   * Stamped with the flow's end (never past its produce time), as its raw record was: the remote
   * lookup's task measures the settle delay on these timestamps, and a backlog produced in a burst
   * after an outage must not move its evidence clock to the time of the burst.
   */
  private void toRemote(InternalFlow flow) {
    context.forward(
        new Record<String, Routed>(
            flow.remoteIpText(),
            new ToRemoteLookup(new FlowToRemote(flow)),
            Math.min(flow.endTime(), flow.sourceTimestamp())));
  }

  private void toAggregation(String key, ToAggregate message, long timestamp) {
    context.forward(new Record<String, Routed>(key, new ToAggregation(message), timestamp));
  }

  private void deadLetter(
      Record<byte[], byte[]> record, RecordMetadata meta, String reason, String detail) {
    metrics.deadLetter(reason);
    DeadLetter letter =
        new DeadLetter(
            reason,
            detail,
            meta.topic(),
            meta.partition(),
            meta.offset(),
            record.timestamp(),
            context.currentSystemTimeMs(),
            record.key(),
            record.value());
    context.forward(
        new Record<String, Routed>(
            null, new DeadLettered(letter), record.timestamp(), letter.headers()));
  }

  /** A registry that cannot be reached is not a bad record: fail, and retry after a restart. */
  private static void rethrowIfInfrastructure(SerdeException e) {
    switch (e.reason()) {
      case REGISTRY_UNREACHABLE, REGISTRY_ERROR, REGISTRY_REFUSED, BAD_CONFIGURATION -> throw e;
      default -> {
        // The record itself is bad.
      }
    }
  }

  private static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
