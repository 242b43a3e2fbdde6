package io.flowsight.collector.aggregation;

import io.flowsight.codec.Bin;
import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.collector.wire.Messages.FlowToAggregate;
import io.flowsight.collector.wire.Messages.Pending;
import io.flowsight.collector.wire.Messages.ToAggregate;
import io.flowsight.schemas.FlowKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The aggregation sub-topology, reading the aggregation repartition topic (keyed by {@code
 * PROTOCOL|clientIp|serverIp|servicePort}): counts each connection once ({@link Dedupe}), sums the
 * flows of each window into rows ({@link Row}), and emits every row once, when its window closes.
 *
 * <h2>When a window closes</h2>
 *
 * A wall-clock punctuation (every few seconds) emits, then deletes, the rows of the windows whose
 * end plus the grace is past the task's <i>watermark</i>. Per partition of the flows topic the
 * flows came from, the task tracks the latest produce time (the sidecar's Kafka timestamp) of the
 * flows it has received, moved forward by the wall-clock time since that partition's last flow; the
 * watermark is the smallest of these, and never past the wall clock. Caught up, flows arrive as
 * they are produced and the watermark is the wall clock: rows reach Druid about grace + a few
 * seconds after their window's end, and an idle partition does not stall them (its estimate moves
 * with the wall clock). Behind (a restart, a failover, a burst), the flows being processed are old
 * and the watermark stays with the slowest input partition, so windows do not close under a backlog
 * that still has flows for them (as long as no partition's backlog pauses longer than the grace). A
 * task that has seen no flow since it started holds its watermark 10 s behind the wall clock.
 *
 * <p>Rows of a 4-tuple and window also wait for that window's held flows: the attribution side
 * announces each flow it holds back ({@link Pending}), and the flow, when released, settles the
 * announcement. They wait at most until the hold-back's end plus a margin.
 *
 * <p>A flow that reaches a window already emitted (the collector was behind by more than the grace
 * and the flow was not yet processed) is not lost: it starts a new row for that window, emitted at
 * the next punctuation; the rows add up (Druid sums them).
 */
public final class AggregateProcessor
    implements Processor<String, ToAggregate, String, FlowAggregate> {

  static final String DEDUPE = "dedupe";
  static final String ROWS = "rows";
  static final String PENDING = "pending";

  private final CollectorSettings settings;
  private final CollectorMetrics metrics;
  private final long windowMs;
  private final long graceMs;
  private final long pendingMarginMs;
  private final long startupQuietMs;

  private ProcessorContext<String, FlowAggregate> context;
  private Dedupe dedupe;
  private KeyValueStore<Bytes, Row> rows;
  private KeyValueStore<Bytes, byte[]> pending;

  private long startedAt;
  private boolean seenFlows;

  /** Per partition of the flows topic: latest produce time seen, and when (wall clock). */
  private long[] maxSourceTimestamp;

  private long[] lastFlowAt;

  /** Windows starting before this were closed by the last emission (window + grace passed). */
  private long closedBefore = Long.MIN_VALUE;

  public AggregateProcessor(CollectorSettings settings, CollectorMetrics metrics) {
    this.settings = settings;
    this.metrics = metrics;
    this.windowMs = settings.window().toMillis();
    // Every end looked up in a history is decided only after the settle delay: windows wait for it.
    this.graceMs = settings.grace().toMillis() + settings.effectiveSettle().toMillis();
    // A released flow crosses one repartition topic after the release check that freed it.
    this.pendingMarginMs =
        settings.holdCheckInterval().toMillis() + 2 * settings.emitInterval().toMillis() + 10_000;
    this.startupQuietMs = 10_000;
  }

  @Override
  public void init(ProcessorContext<String, FlowAggregate> context) {
    this.context = context;
    WindowStore<Bytes, byte[]> dedupeStore = context.getStateStore(DEDUPE);
    this.dedupe =
        new Dedupe(
            dedupeStore, settings.dedupeTolerance().toMillis(), settings.dedupeEpoch().toMillis());
    this.rows = context.getStateStore(ROWS);
    this.pending = context.getStateStore(PENDING);
    this.startedAt = context.currentSystemTimeMs();
    this.seenFlows = false;
    this.maxSourceTimestamp = new long[settings.partitions()];
    this.lastFlowAt = new long[settings.partitions()];
    Arrays.fill(maxSourceTimestamp, Long.MIN_VALUE);
    this.closedBefore = Long.MIN_VALUE;
    context.schedule(settings.emitInterval(), PunctuationType.WALL_CLOCK_TIME, this::emitClosed);
  }

  @Override
  public void process(Record<String, ToAggregate> record) {
    if (record.value() instanceof Pending p) {
      Bytes key = Row.windowKey(p.windowStart(), record.key());
      long[] count = decodePending(pending.get(key));
      pending.put(key, encodePending(count[0] + 1, Math.max(count[1], p.deadline())));
      return;
    }
    InternalFlow f = ((FlowToAggregate) record.value()).flow();
    metrics.flowAggregated();
    long now = context.currentSystemTimeMs();
    long window = settings.windowStart(f.endTime());
    String aggKey = record.key();
    boolean awaited = false;
    if (f.pendingAnnounced()) {
      // Held for an unknown owner: its window waited for it; its produce time is long past.
      awaited = settle(Row.windowKey(window, aggKey));
    } else {
      seenFlows = true;
      // A flow held only for the settle delay carries the evidence time it was released at: how
      // far its partition had been read then.
      long progress = f.wasHeld() ? Math.min(now, record.timestamp()) : f.sourceTimestamp();
      int p = f.originPartition();
      if (p >= maxSourceTimestamp.length) {
        // More partitions than configured (added since the start): track them too.
        int n = p + 1;
        maxSourceTimestamp = Arrays.copyOf(maxSourceTimestamp, n);
        lastFlowAt = Arrays.copyOf(lastFlowAt, n);
        for (int i = 0; i < n; i++) {
          if (lastFlowAt[i] == 0) {
            maxSourceTimestamp[i] = Long.MIN_VALUE;
          }
        }
      }
      maxSourceTimestamp[p] = Math.max(maxSourceTimestamp[p], progress);
      lastFlowAt[p] = now;
    }
    long clientFp = f.client().fingerprint();
    long serverFp = f.server().fingerprint();
    Bytes rowKey = Row.rowKey(window, aggKey, clientFp, serverFp);
    boolean failed = f.kind() == FlowKind.FAILED_CONNECT;
    boolean counted = true;
    boolean newConnection = true;
    if (!failed) {
      Dedupe.Verdict v = dedupe.lookup(f);
      Dedupe.Entry e = v.entry();
      counted = v.counted();
      if (counted) {
        newConnection = e.countIn(window);
        e.lastCountedWindow = window;
        e.lastRowClientFp = clientFp;
        e.lastRowServerFp = serverFp;
      } else {
        metrics.duplicate();
        // The other end's record: the row of the counting end's latest record was seen by both.
        Bytes countedRow =
            Row.rowKey(e.lastCountedWindow, aggKey, e.lastRowClientFp, e.lastRowServerFp);
        Row row = rows.get(countedRow);
        if (row == null) {
          row = rows.get(rowKey);
          countedRow = rowKey;
        }
        if (row != null && (row.sides & Row.SEEN_BY_BOTH) == 0) {
          row.markSeenByBoth();
          rows.put(countedRow, row);
        }
      }
      dedupe.save(f, v);
    }
    if (!counted) {
      return;
    }
    Row row = rows.get(rowKey);
    if (row == null) {
      row = Row.start(window, f);
      if (window < closedBefore && !awaited) {
        metrics.recordAfterClose();
      }
    }
    row.add(f, newConnection, settings.maxPorts());
    rows.put(rowKey, row);
  }

  /** A held flow arrived: one announcement fewer. Returns whether one was pending. */
  private boolean settle(Bytes windowKey) {
    long[] count = decodePending(pending.get(windowKey));
    if (count[0] <= 1) {
      pending.delete(windowKey);
    } else {
      pending.put(windowKey, encodePending(count[0] - 1, count[1]));
    }
    return count[0] > 0;
  }

  /** Emits and deletes the rows of the windows closed by the watermark. */
  private void emitClosed(long now) {
    long watermark;
    if (seenFlows) {
      watermark = now;
      for (int p = 0; p < maxSourceTimestamp.length; p++) {
        if (maxSourceTimestamp[p] != Long.MIN_VALUE) {
          watermark = Math.min(watermark, maxSourceTimestamp[p] + (now - lastFlowAt[p]));
        }
      }
    } else if (now - startedAt >= startupQuietMs) {
      watermark = now - startupQuietMs;
    } else {
      return;
    }
    // Windows starting before this are closed: start + window + grace <= watermark.
    long closedBefore = watermark - graceMs - windowMs + 1;
    if (closedBefore <= 0) {
      return; // no window of a valid flow (times after 1970) is closed yet
    }
    this.closedBefore = Math.max(this.closedBefore, closedBefore);
    List<KeyValue<Bytes, Row>> due = new ArrayList<>();
    try (KeyValueIterator<Bytes, Row> it =
        rows.range(Row.windowsBefore(0), Row.windowsBefore(closedBefore))) {
      while (it.hasNext()) {
        due.add(it.next());
      }
    }
    Bytes waitingWindow = null;
    boolean waiting = false;
    for (KeyValue<Bytes, Row> e : due) {
      Bytes windowKey = Row.windowKey(Row.windowOf(e.key), Row.aggregationKeyOf(e.key, true));
      if (!windowKey.equals(waitingWindow)) {
        waitingWindow = windowKey;
        waiting = waitsForHeldFlows(windowKey, now);
      }
      if (waiting) {
        continue;
      }
      FlowAggregate aggregate = e.value.toAggregate(windowMs);
      context.forward(new Record<>(aggregate.key(), aggregate, now));
      metrics.aggregateOut();
      rows.delete(e.key);
    }
    dropStalePending(closedBefore, now);
  }

  private boolean waitsForHeldFlows(Bytes windowKey, long now) {
    long[] count = decodePending(pending.get(windowKey));
    return count[0] > 0 && now < count[1] + pendingMarginMs;
  }

  /** Announcements of closed windows whose hold-back (and margin) is long over. */
  private void dropStalePending(long closedBefore, long now) {
    List<Bytes> stale = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it =
        pending.range(Row.windowsBefore(0), Row.windowsBefore(closedBefore))) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> e = it.next();
        if (now >= decodePending(e.value)[1] + pendingMarginMs) {
          stale.add(e.key);
        }
      }
    }
    stale.forEach(pending::delete);
  }

  /**
   * Value of the {@value #PENDING} store (key {@link Row#windowKey}): uvarint count of the
   * announcements pending, zlong latest hold-back deadline (epoch ms). No version byte. A missing
   * value reads as {count 0, deadline Long.MIN_VALUE}.
   */
  static long[] decodePending(byte[] bytes) {
    if (bytes == null) {
      return new long[] {0, Long.MIN_VALUE};
    }
    Bin.In in = new Bin.In(bytes, "pending count");
    return new long[] {in.uvarint(), in.zlong()};
  }

  static byte[] encodePending(long count, long deadline) {
    return new Bin.Out(12).uvarint(count).zlong(deadline).toByteArray();
  }
}
