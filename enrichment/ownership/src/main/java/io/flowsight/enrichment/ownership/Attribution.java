package io.flowsight.enrichment.ownership;

import io.flowsight.enrichment.Cidr;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.Identity;
import java.util.List;

/**
 * The answer to "who owned IP x at time t": an owner (status OWNER), the CIDR block that holds x
 * (status CIDR), or no owner and why (NEVER_SEEN, GAP, CONFLICT, EXPIRED). Never a guess.
 *
 * @param identity the owner (OWNER) or the block's identity (CIDR); null otherwise
 * @param source where it came from ({@value OwnershipHistory#HEARTBEAT_SOURCE}, kubernetes,
 *     static...); null when unattributed
 * @param sourceInstance which instance of the source, where known
 * @param block the matching CIDR block (status CIDR only)
 * @param contenders the identities whose claims contradict (status CONFLICT only)
 */
public record Attribution(
    AttributionStatus status,
    Identity identity,
    String source,
    String sourceInstance,
    Cidr block,
    List<Identity> contenders) {

  public Attribution {
    contenders = contenders == null ? List.of() : List.copyOf(contenders);
  }

  public static Attribution unattributed(AttributionStatus reason) {
    if (reason == AttributionStatus.OWNER || reason == AttributionStatus.CIDR) {
      throw new IllegalArgumentException(reason + " is not a reason to be unattributed");
    }
    return new Attribution(reason, null, null, null, null, List.of());
  }

  static Attribution of(OwnershipRange range) {
    if (range.status() == AttributionStatus.CONFLICT) {
      return new Attribution(
          AttributionStatus.CONFLICT, null, null, null, null, range.contenders());
    }
    return new Attribution(
        AttributionStatus.OWNER,
        range.owner(),
        range.source(),
        range.sourceInstance(),
        null,
        List.of());
  }

  static Attribution cidr(Cidr block, OwnershipRange range) {
    return new Attribution(
        AttributionStatus.CIDR,
        range.owner(),
        range.source(),
        range.sourceInstance(),
        block,
        List.of());
  }

  /** True for OWNER and CIDR: an identity is known. */
  public boolean isAttributed() {
    return identity != null;
  }
}
