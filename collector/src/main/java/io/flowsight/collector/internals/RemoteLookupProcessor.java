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
 * attributes the remote end at the connection's start time, or holds the flow back (see {@link
 * HoldRule}); keeps this task's copy of the CIDR tables.
 */
public final class RemoteLookupProcessor
    implements Processor<String, ToRemote, String, ToAggregate> {

  private final CollectorSettings settings;
  private final CollectorMetrics metrics;

  private ProcessorContext<String, ToAggregate> context;
  private AttributionState state;
  private Holds holds;

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
    Decision d =
        HoldRule.decide(
            state.history(ip),
            state::cidrs,
            flow.remoteIp(),
            flow.connectionStartTime(),
            settings.dedupeTolerance().toMillis(),
            holds.mayHold(flow, now));
    if (d.hold()) {
      Pending pending = holds.hold(ip, flow, End.REMOTE, d.holdReason(), now);
      if (pending != null) {
        context.forward(
            new Record<String, ToAggregate>(
                flow.aggregationKey(), pending, flow.sourceTimestamp()));
      }
      return;
    }
    metrics.attributed(CollectorMetrics.End.REMOTE, d.attribution().status());
    InternalFlow done = flow.withRemote(d.attribution());
    context.forward(
        new Record<String, ToAggregate>(
            done.aggregationKey(), new FlowToAggregate(done), done.sourceTimestamp()));
  }
}
