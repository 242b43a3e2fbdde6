package io.flowsight.enrichment.ownership;

import io.flowsight.schemas.AttributionStatus;
import java.time.Instant;
import java.util.Optional;

/**
 * The whole answer for one end of a flow: the IP's own history first, the CIDR tables after.
 *
 * <ul>
 *   <li>OWNER from the per-IP history wins;
 *   <li>CONFLICT stays CONFLICT (contradicting first-hand claims are surfaced, not hidden behind a
 *       block's name);
 *   <li>otherwise (NEVER_SEEN, GAP, EXPIRED) the longest CIDR block that had an owner at that time
 *       answers CIDR; when none does, the per-IP reason stands.
 * </ul>
 */
public final class Attributor {

  private Attributor() {}

  /**
   * @param history the IP's history, or null when the store has none
   * @param cidrs the CIDR tables
   * @param ip the address (4 or 16 bytes)
   * @param at the flow's start time
   */
  public static Attribution attribute(
      OwnershipHistory history, CidrTable cidrs, byte[] ip, Instant at) {
    return attribute(history, cidrs, ip, at, HistoryPolicy.DEFAULT);
  }

  /** The same, with the history answering under {@code policy}. */
  public static Attribution attribute(
      OwnershipHistory history, CidrTable cidrs, byte[] ip, Instant at, HistoryPolicy policy) {
    Attribution own =
        history == null
            ? Attribution.unattributed(AttributionStatus.NEVER_SEEN)
            : history.lookup(at, policy);
    if (own.status() == AttributionStatus.OWNER || own.status() == AttributionStatus.CONFLICT) {
      return own;
    }
    Optional<Attribution> block = cidrs.match(ip, at);
    return block.orElse(own);
  }
}
