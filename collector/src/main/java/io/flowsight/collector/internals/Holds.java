package io.flowsight.collector.internals;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.internals.Messages.End;
import io.flowsight.collector.internals.Messages.HeldFlow;
import io.flowsight.collector.internals.Messages.Pending;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.schemas.AttributionStatus;

/** Putting flows on hold, shared by the processors that may hold a flow back. */
final class Holds {

  private final AttributionState state;
  private final CollectorSettings settings;
  private final CollectorMetrics metrics;

  Holds(AttributionState state, CollectorSettings settings, CollectorMetrics metrics) {
    this.state = state;
    this.settings = settings;
    this.metrics = metrics;
  }

  /**
   * Whether the flow may (still) be held: holding is on, and the flow was never held or its
   * hold-back is not over. A flow is held for at most the hold-back in all, both ends together.
   */
  boolean mayHold(InternalFlow flow, long now) {
    return !settings.holdBack().isZero() && (!flow.wasHeld() || now < flow.holdDeadline());
  }

  /**
   * Holds {@code flow} until an owner for {@code ip} is known or its hold-back ends.
   *
   * @return the announcement to send to the aggregation (so that the flow's window waits for it),
   *     the first time this flow is held; null after that
   */
  Pending hold(String ip, InternalFlow flow, End end, AttributionStatus reason, long now) {
    long deadline = flow.wasHeld() ? flow.holdDeadline() : now + settings.holdBack().toMillis();
    boolean announce = !flow.pendingAnnounced();
    InternalFlow held = flow.withHold(deadline, true);
    state.hold(ip, new HeldFlow(held, end, reason));
    metrics.hold(
        end == End.LOCAL ? CollectorMetrics.End.LOCAL : CollectorMetrics.End.REMOTE, reason);
    return announce ? new Pending(settings.windowStart(flow.endTime()), deadline) : null;
  }
}
