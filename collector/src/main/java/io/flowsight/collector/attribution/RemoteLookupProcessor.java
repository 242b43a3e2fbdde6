package io.flowsight.collector.attribution;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.collector.wire.Messages.CidrChange;
import io.flowsight.collector.wire.Messages.FlowToAggregate;
import io.flowsight.collector.wire.Messages.FlowToRemote;
import io.flowsight.collector.wire.Messages.ToAggregate;
import io.flowsight.collector.wire.Messages.ToRemote;
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
    Holds.Outcome o =
        holds.attribute(flow, End.REMOTE, ip, state.history(ip), clock.now(context), now);
    if (o.decided() != null) {
      metrics.attributed(CollectorMetrics.End.REMOTE, o.decided().status());
      InternalFlow done = flow.withRemote(o.decided());
      context.forward(
          new Record<String, ToAggregate>(
              done.aggregationKey(), new FlowToAggregate(done), clock.stamp(context, done)));
    } else if (o.announce() != null) {
      context.forward(
          new Record<String, ToAggregate>(
              flow.aggregationKey(), o.announce(), flow.sourceTimestamp()));
    }
  }
}
