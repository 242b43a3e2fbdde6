package io.flowsight.enrichment.ownership;

import java.time.Duration;

/**
 * How an {@link OwnershipHistory} merges, forgets and bounds what it holds.
 *
 * @param mergeGap heartbeats of the same owner whose ranges are at most this far apart extend one
 *     range instead of leaving a gap (default 5 minutes; a pod with little traffic still reports
 *     its probes every few seconds)
 * @param retention what ended longer than this before "now" is dropped; lookups before the
 *     resulting horizon answer EXPIRED (default 24 hours)
 * @param maxObservedRanges cap on heartbeat ranges kept per IP; past it the oldest are dropped and
 *     the horizon moves (default 16)
 * @param maxChangeEvents cap on change events kept per IP (the ASSIGN that still holds the IP is
 *     always kept, so the count may exceed this by one or two; default 16)
 */
public record HistoryPolicy(
    Duration mergeGap, Duration retention, int maxObservedRanges, int maxChangeEvents) {

  public static final HistoryPolicy DEFAULT =
      new HistoryPolicy(Duration.ofMinutes(5), Duration.ofHours(24), 16, 16);

  public HistoryPolicy {
    if (mergeGap == null || mergeGap.isNegative()) {
      throw new IllegalArgumentException("mergeGap must be zero or positive, not " + mergeGap);
    }
    if (retention == null || retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention must be positive, not " + retention);
    }
    if (maxObservedRanges < 1) {
      throw new IllegalArgumentException(
          "maxObservedRanges must be at least 1, not " + maxObservedRanges);
    }
    if (maxChangeEvents < 1) {
      throw new IllegalArgumentException(
          "maxChangeEvents must be at least 1, not " + maxChangeEvents);
    }
  }

  public HistoryPolicy withMergeGap(Duration gap) {
    return new HistoryPolicy(gap, retention, maxObservedRanges, maxChangeEvents);
  }

  public HistoryPolicy withRetention(Duration newRetention) {
    return new HistoryPolicy(mergeGap, newRetention, maxObservedRanges, maxChangeEvents);
  }

  public HistoryPolicy withCaps(int observedRanges, int changeEvents) {
    return new HistoryPolicy(mergeGap, retention, observedRanges, changeEvents);
  }
}
