package io.flowsight.collector.internals;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.internals.HoldRule.Decision;
import io.flowsight.collector.internals.Messages.CidrChange;
import io.flowsight.collector.internals.Messages.End;
import io.flowsight.collector.internals.Messages.FlowToAggregate;
import io.flowsight.collector.internals.Messages.FlowToRemote;
import io.flowsight.collector.internals.Messages.Pending;
import io.flowsight.collector.internals.Messages.ToAggregate;
import io.flowsight.collector.internals.Messages.ToRemote;
import io.flowsight.collector.metrics.CollectorMetrics;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The second step of the attribution sub-topology, reading the remote-lookup repartition topic
 * (keyed by the remote IP, so this task's {@code ownership} store holds the remote IP's history):
 * attributes the remote end: with the owner decided for an earlier record of the same connection,
 * else with the label the other end's own sidecar gave the same connection when its record was read
 * here (this task attributes that sidecar's local IP), else from the remote IP's history at the
 * connection's start, once settled, or holds the flow back (see {@link HoldRule}); keeps this
 * task's copy of the CIDR tables.
 */
public final class RemoteLookupProcessor
    implements Processor<String, ToRemote, String, ToAggregate> {

  private final CollectorSettings settings;
  private final CollectorMetrics metrics;

  private ProcessorContext<String, ToAggregate> context;
  private AttributionState state;
  private Holds holds;
  private final EvidenceClock clock = new EvidenceClock();

  public RemoteLookupProcessor(CollectorSettings settings, CollectorMetrics metrics) {
    this.settings = settings;
    this.metrics = metrics;
  }

  @Override
  public void init(ProcessorContext<String, ToAggregate> context) {
    this.context = context;
    this.state = new AttributionState(context, settings.historyPolicy());
    this.holds = new Holds(state, settings, metrics);
  }

  @Override
  public void process(Record<String, ToRemote> record) {
    if (record.value() instanceof CidrChange c) {
      state.addCidrChange(c.change());
      return;
    }
    InternalFlow flow = ((FlowToRemote) record.value()).flow();
    String ip = flow.remoteIpText();
    long now = context.currentSystemTimeMs();
    EndAttribution known = state.connections().decided(flow, End.REMOTE);
    if (known != null) {
      // A later record of a connection whose remote end was decided: the same owner in every
      // window (a connection's rows must not change owners, nor split its counts).
      state.connections().putDecided(flow, End.REMOTE, known, now);
      forward(flow, known);
      return;
    }
    EndAttribution label =
        state.connections().otherSideLabel(flow, settings.dedupeTolerance().toMillis());
    if (label != null) {
      // The other end's sidecar labelled its end of this very connection: first-hand.
      metrics.labelFromOtherSide();
      state.connections().putDecided(flow, End.REMOTE, label, now);
      forward(flow, label);
      return;
    }
    Decision d =
        HoldRule.decide(
            state.history(ip),
            settings.historyPolicy(),
            state::cidrs,
            flow.remoteIp(),
            flow.connectionStartTime(),
            holds.settled(flow, clock.now(context)),
            holds.mayHold(flow, now));
    if (d.settle()) {
      holds.holdToSettle(ip, flow, End.REMOTE, d.holdReason(), now);
      return;
    }
    if (d.hold()) {
      Pending pending = holds.hold(ip, flow, End.REMOTE, d.holdReason(), now);
      if (pending != null) {
        context.forward(
            new Record<String, ToAggregate>(
                flow.aggregationKey(), pending, flow.sourceTimestamp()));
      }
      return;
    }
    state.connections().putDecided(flow, End.REMOTE, d.attribution(), now);
    forward(flow, d.attribution());
  }

  private void forward(InternalFlow flow, EndAttribution remote) {
    metrics.attributed(CollectorMetrics.End.REMOTE, remote.status());
    InternalFlow done = flow.withRemote(remote);
    long timestamp = done.sourceTimestamp();
    if (done.wasHeld()) {
      // Stamped with how far the inputs have been read: the aggregation's watermark follows it.
      timestamp = Math.min(Math.max(timestamp, clock.now(context)), context.currentSystemTimeMs());
    }
    context.forward(
        new Record<String, ToAggregate>(
            done.aggregationKey(), new FlowToAggregate(done), timestamp));
  }
}
