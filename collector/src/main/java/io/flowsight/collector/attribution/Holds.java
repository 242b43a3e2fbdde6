package io.flowsight.collector.attribution;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.collector.wire.Messages.Pending;
import io.flowsight.enrichment.ownership.OwnershipHistory;
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

  /** What became of an end: decided, or held (with the announcement to send, if any). */
  record Outcome(EndAttribution decided, Pending announce) {}

  /**
   * Attributes one end of {@code flow} with what this task holds for {@code ip}, or holds the flow:
   * the decision kept for the connection's earlier records, else (a remote end) the label the other
   * end's own sidecar gave the same connection, else the IP's history once the settle delay is over
   * ({@link HoldRule}). A decision is kept for the connection's later records.
   */
  Outcome attribute(
      InternalFlow flow, End end, String ip, OwnershipHistory history, long evidenceNow, long now) {
    ConnectionEnds connections = state.connections();
    EndAttribution known = connections.decided(flow, end);
    if (known == null && end == End.REMOTE) {
      known = connections.otherSideLabel(flow, settings.dedupeTolerance().toMillis());
      if (known != null) {
        metrics.labelFromOtherSide();
      }
    }
    if (known != null) {
      connections.putDecided(flow, end, known, now);
      return new Outcome(known, null);
    }
    HoldRule.Decision d =
        HoldRule.decide(
            history,
            settings.historyPolicy(),
            state::cidrs,
            end == End.LOCAL ? flow.localIp() : flow.remoteIp(),
            flow.connectionStartTime(),
            settled(flow, evidenceNow),
            mayHold(flow, now));
    if (d.settle()) {
      holdToSettle(ip, flow, end, d.holdReason(), now);
      return new Outcome(null, null);
    }
    if (d.hold()) {
      return new Outcome(null, hold(ip, flow, end, d.holdReason(), now));
    }
    connections.putDecided(flow, end, d.attribution(), now);
    return new Outcome(d.attribution(), null);
  }

  /** Whether the settle delay after the flow's start is over at {@code evidenceNow}. */
  boolean settled(InternalFlow flow, long evidenceNow) {
    return settings.effectiveSettle().isZero() || evidenceNow >= settleAt(flow);
  }

  /** The evidence time from which the flow's ends may be decided. */
  long settleAt(InternalFlow flow) {
    return flow.connectionStartTime() + settings.effectiveSettle().toMillis();
  }

  /**
   * Holds {@code flow} until an owner for {@code ip} is known or its hold-back ends.
   *
   * @return the announcement to send to the aggregation (so that the flow's window waits for it),
   *     the first time this flow is announced; null after that
   */
  Pending hold(String ip, InternalFlow flow, End end, AttributionStatus reason, long now) {
    long deadline = flow.wasHeld() ? flow.holdDeadline() : now + settings.holdBack().toMillis();
    boolean announce = !flow.pendingAnnounced();
    InternalFlow held = flow.withHold(deadline, true);
    HeldFlow h = new HeldFlow(held, end, reason);
    state.hold(ip, h);
    metrics.hold(metricsEnd(end), h.metricsReason());
    return announce ? new Pending(settings.windowStart(flow.endTime()), deadline) : null;
  }

  /**
   * Holds {@code flow} until the settle delay after its start is over (or its hold-back ends). No
   * announcement: every window waits for the settle delay anyway.
   */
  void holdToSettle(String ip, InternalFlow flow, End end, AttributionStatus answerNow, long now) {
    long deadline = flow.wasHeld() ? flow.holdDeadline() : now + settings.holdBack().toMillis();
    HeldFlow h =
        new HeldFlow(
            flow.withHold(deadline, flow.pendingAnnounced()), end, answerNow, settleAt(flow));
    state.hold(ip, h);
    metrics.hold(metricsEnd(end), h.metricsReason());
  }

  static CollectorMetrics.End metricsEnd(End end) {
    return end == End.LOCAL ? CollectorMetrics.End.LOCAL : CollectorMetrics.End.REMOTE;
  }
}
