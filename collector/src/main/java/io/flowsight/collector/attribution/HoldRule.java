package io.flowsight.collector.attribution;

import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.enrichment.ownership.Attribution;
import io.flowsight.enrichment.ownership.Attributor;
import io.flowsight.enrichment.ownership.CidrTable;
import io.flowsight.enrichment.ownership.HistoryPolicy;
import io.flowsight.enrichment.ownership.OwnershipHistory;
import io.flowsight.schemas.AttributionStatus;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether an end of a flow looked up in its IP's history can be decided now, must wait, or goes out
 * unattributed. Never a guess:
 *
 * <ol>
 *   <li>The IP's history is looked up at the connection's start time {@code t}. EXPIRED (the
 *       history before t was dropped by retention) is final at once.
 *   <li>Not settled yet (the evidence clock is not {@code settle} past t): hold, whatever the
 *       history answers now. An UNASSIGN, an ASSIGN or a heartbeat for a time before t can still be
 *       on its way, and any of them can change the answer.
 *   <li>Settled: OWNER and CONFLICT are final.
 *   <li>NEVER_SEEN (nothing known about the IP), or GAP while the history's evidence ({@link
 *       OwnershipHistory#lastEvidence()}) does not reach past t + the boundary margin: the owner
 *       may simply not be reported yet, so the flow is held on, until new evidence for the IP
 *       resolves it or the hold-back ends.
 *   <li>Otherwise (GAP with evidence past t, or the hold-back is over) the end goes out
 *       unattributed with the reason, unless a CIDR block holds the IP at t (status CIDR).
 * </ol>
 *
 * The end's own sidecar label (its record's localIdentity), and the label the other end's sidecar
 * gave the same connection, come before this rule: they are first-hand for exactly this connection.
 */
final class HoldRule {

  private HoldRule() {}

  /**
   * Either the end's final attribution, or the reason to hold the flow back.
   *
   * @param settle the flow waits for the settle delay (holdReason is then the answer so far)
   */
  record Decision(EndAttribution attribution, AttributionStatus holdReason, boolean settle) {
    boolean hold() {
      return holdReason != null;
    }
  }

  /**
   * @param history the IP's history, null when nothing is known
   * @param policy how the history answers (bridging, boundary margin)
   * @param cidrs the CIDR tables, asked only when the IP's own history gives no owner
   * @param ip the address
   * @param t the connection's start, epoch ms
   * @param settled whether the settle delay after t is over (always true without one)
   * @param mayHold false when the flow's hold-back is over (or there is none)
   */
  static Decision decide(
      OwnershipHistory history,
      HistoryPolicy policy,
      Supplier<CidrTable> cidrs,
      byte[] ip,
      long t,
      boolean settled,
      boolean mayHold) {
    Instant at = Instant.ofEpochMilli(t);
    Attribution own =
        history == null
            ? Attribution.unattributed(AttributionStatus.NEVER_SEEN)
            : history.lookup(at, policy);
    if (own.status() != AttributionStatus.EXPIRED && !settled && mayHold) {
      return new Decision(null, own.status(), true);
    }
    switch (own.status()) {
      case OWNER, CONFLICT -> {
        return new Decision(EndAttribution.of(own), null, false);
      }
      case GAP -> {
        // Evidence must reach past the boundary margin after t: a GAP within the margin may
        // still be filled by the heartbeats on their way.
        Optional<Instant> evidence = history.lastEvidence();
        long margin = policy.boundaryMargin().toMillis();
        if (mayHold && (evidence.isEmpty() || evidence.get().toEpochMilli() < t + margin)) {
          return new Decision(null, AttributionStatus.GAP, false);
        }
      }
      case NEVER_SEEN -> {
        if (mayHold) {
          return new Decision(null, AttributionStatus.NEVER_SEEN, false);
        }
      }
      default -> {
        // EXPIRED, or CIDR (never answered by a per-IP history): final as it is.
      }
    }
    return new Decision(
        EndAttribution.of(Attributor.attribute(history, cidrs.get(), ip, at, policy)), null, false);
  }
}
