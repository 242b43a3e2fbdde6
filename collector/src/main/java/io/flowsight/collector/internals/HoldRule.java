package io.flowsight.collector.internals;

import io.flowsight.enrichment.ownership.Attribution;
import io.flowsight.enrichment.ownership.Attributor;
import io.flowsight.enrichment.ownership.CidrTable;
import io.flowsight.enrichment.ownership.OwnershipHistory;
import io.flowsight.enrichment.ownership.OwnershipRange;
import io.flowsight.schemas.AttributionStatus;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether an end of a flow can be attributed now, must wait, or goes out unattributed. Never a
 * guess:
 *
 * <ol>
 *   <li>The IP's history is looked up at the connection's start time {@code t}. OWNER and CONFLICT
 *       are final; so is EXPIRED (the history before t was dropped by retention).
 *   <li>GAP, where the next owner range begins within the start tolerance after t and is an OWNER
 *       range, gives that owner: the server's own observation of a connection begins at the end of
 *       the handshake, one round trip after the client's SYN, on another host's clock.
 *   <li>NEVER_SEEN (nothing known about the IP), or GAP while the history's evidence ({@link
 *       OwnershipHistory#lastEvidence()}) does not reach t + tolerance yet: the owner may simply
 *       not be reported yet, so the flow is held back, until new evidence for the IP resolves it or
 *       the hold-back ends.
 *   <li>Otherwise (GAP with evidence past t, or the hold-back is over) the end goes out
 *       unattributed with the reason, unless a CIDR block holds the IP at t (status CIDR).
 * </ol>
 */
public final class HoldRule {

  private HoldRule() {}

  /** Either the end's final attribution, or the reason to hold the flow back. */
  public record Decision(EndAttribution attribution, AttributionStatus holdReason) {
    public boolean hold() {
      return holdReason != null;
    }
  }

  /**
   * @param history the IP's history, null when nothing is known
   * @param cidrs the CIDR tables, asked only when the IP's own history gives no owner
   * @param ip the address
   * @param t the connection's start, epoch ms
   * @param toleranceMs the start tolerance
   * @param mayHold false when the flow's hold-back is over (or there is none)
   */
  public static Decision decide(
      OwnershipHistory history,
      Supplier<CidrTable> cidrs,
      byte[] ip,
      long t,
      long toleranceMs,
      boolean mayHold) {
    Instant at = Instant.ofEpochMilli(t);
    Attribution own =
        history == null
            ? Attribution.unattributed(AttributionStatus.NEVER_SEEN)
            : history.lookup(at);
    switch (own.status()) {
      case OWNER, CONFLICT -> {
        return new Decision(EndAttribution.of(own), null);
      }
      case GAP -> {
        Attribution ahead = startingWithin(history, t, toleranceMs);
        if (ahead != null) {
          return new Decision(EndAttribution.of(ahead), null);
        }
        Optional<Instant> evidence = history.lastEvidence();
        if (mayHold && (evidence.isEmpty() || evidence.get().toEpochMilli() < t + toleranceMs)) {
          return new Decision(null, AttributionStatus.GAP);
        }
      }
      case NEVER_SEEN -> {
        if (mayHold) {
          return new Decision(null, AttributionStatus.NEVER_SEEN);
        }
      }
      default -> {
        // EXPIRED, or CIDR (never answered by a per-IP history): final as it is.
      }
    }
    return new Decision(
        EndAttribution.of(Attributor.attribute(history, cidrs.get(), ip, at)), null);
  }

  /** The owner of a range beginning in (t, t + tolerance], or null. */
  private static Attribution startingWithin(OwnershipHistory history, long t, long toleranceMs) {
    if (toleranceMs <= 0) {
      return null;
    }
    List<OwnershipRange> ranges = history.ranges();
    for (OwnershipRange r : ranges) {
      long from = r.from().toEpochMilli();
      if (from <= t) {
        continue;
      }
      if (from - t <= toleranceMs && r.status() == AttributionStatus.OWNER) {
        return new Attribution(
            AttributionStatus.OWNER, r.owner(), r.source(), r.sourceInstance(), null, List.of());
      }
      return null;
    }
    return null;
  }
}
