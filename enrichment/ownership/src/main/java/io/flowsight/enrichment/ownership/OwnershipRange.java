package io.flowsight.enrichment.ownership;

import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.Identity;
import java.time.Instant;
import java.util.List;

/**
 * One range of a resolved {@link OwnershipHistory}: from {@code from} (inclusive) to {@code to}
 * (exclusive; null while open-ended), either one owner (status OWNER) or contradicting claims
 * (status CONFLICT, owner null, the claimants in contenders). Times between ranges are gaps.
 *
 * @param source where the owner came from: {@value OwnershipHistory#HEARTBEAT_SOURCE} for a
 *     sidecar's own report, else the change event's source (kubernetes, static...); null for a
 *     CONFLICT
 * @param sourceInstance the change event's source instance (cluster, file), where known
 */
public record OwnershipRange(
    Instant from,
    Instant to,
    AttributionStatus status,
    Identity owner,
    String source,
    String sourceInstance,
    List<Identity> contenders) {

  public OwnershipRange {
    contenders = List.copyOf(contenders);
  }

  public boolean contains(Instant t) {
    return !t.isBefore(from) && (to == null || t.isBefore(to));
  }

  @Override
  public String toString() {
    String what =
        status == AttributionStatus.OWNER
            ? Owners.describe(owner) + " via " + source
            : "CONFLICT " + contenders.stream().map(Owners::describe).toList();
    return "[" + from + ", " + (to == null ? "open" : to.toString()) + ") " + what;
  }
}
