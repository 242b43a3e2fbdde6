package io.flowsight.enrichment.ownership;

import io.flowsight.settings.Settings;
import java.time.Duration;

/**
 * How an {@link OwnershipHistory} bridges, compacts, forgets and answers near a boundary.
 *
 * @param mergeGap two heartbeat ranges of the same owner at most this far apart are read as one
 *     range (the owner kept the IP between them), unless another owner has any evidence in between
 *     (a heartbeat, an ASSIGN or UNASSIGN), or the owner's own UNASSIGN lies there (default 5
 *     minutes; a pod with little traffic still reports its probes every few seconds)
 * @param retention what ended longer than this before "now" is dropped; lookups before the
 *     resulting horizon answer EXPIRED (default 24 hours). The history is bounded by time only: an
 *     IP that changes owner often keeps every change of the retention
 * @param compactAfter heartbeat ranges that ended longer than this before the IP's latest evidence
 *     are stored already bridged (the bridging above, applied once instead of at every lookup), so
 *     that a busy IP keeps a handful of ranges instead of one per connection. Evidence for a time
 *     that arrives later than this can no longer split such a bridge: a later heartbeat of another
 *     owner inside it makes that time a CONFLICT, a later change event inside it is outweighed by
 *     the heartbeats (default 2 minutes: longer than the collector's settle delay)
 * @param boundaryMargin an owner is the answer only when it holds the IP for this long on both
 *     sides of the time looked up: near a change to another owner the answer is CONFLICT (both
 *     contenders), near a time nobody is known to hold the IP it is GAP. The flow's start is read
 *     on one host's clock and the boundary on another's, and clocks differ by a few hundred
 *     milliseconds (default 500 ms; zero turns it off)
 */
public record HistoryPolicy(
    Duration mergeGap, Duration retention, Duration compactAfter, Duration boundaryMargin) {

  /** The boundary margin's default, as the collector's {@code --boundary-margin} writes it. */
  public static final String DEFAULT_BOUNDARY_MARGIN = "500ms";

  public static final HistoryPolicy DEFAULT =
      new HistoryPolicy(
          Duration.ofMinutes(5),
          Duration.ofHours(24),
          Duration.ofMinutes(2),
          Settings.parseDuration(DEFAULT_BOUNDARY_MARGIN));

  public HistoryPolicy {
    if (mergeGap == null || mergeGap.isNegative()) {
      throw new IllegalArgumentException("mergeGap must be zero or positive, not " + mergeGap);
    }
    if (retention == null || retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention must be positive, not " + retention);
    }
    if (compactAfter == null || compactAfter.isNegative()) {
      throw new IllegalArgumentException(
          "compactAfter must be zero or positive, not " + compactAfter);
    }
    if (boundaryMargin == null || boundaryMargin.isNegative()) {
      throw new IllegalArgumentException(
          "boundaryMargin must be zero or positive, not " + boundaryMargin);
    }
  }

  public HistoryPolicy withMergeGap(Duration gap) {
    return new HistoryPolicy(gap, retention, compactAfter, boundaryMargin);
  }

  public HistoryPolicy withRetention(Duration newRetention) {
    return new HistoryPolicy(mergeGap, newRetention, compactAfter, boundaryMargin);
  }

  public HistoryPolicy withCompactAfter(Duration after) {
    return new HistoryPolicy(mergeGap, retention, after, boundaryMargin);
  }

  public HistoryPolicy withBoundaryMargin(Duration margin) {
    return new HistoryPolicy(mergeGap, retention, compactAfter, margin);
  }
}
