package io.flowsight.collector.wire;

import io.flowsight.codec.Bin;
import io.flowsight.collector.output.Owner;
import io.flowsight.enrichment.ownership.Attribution;
import io.flowsight.schemas.AttributionStatus;

/**
 * How one end of a flow was attributed: the status and, for OWNER and CIDR, the owner (the
 * workload, or the CIDR block's identity).
 */
public record EndAttribution(AttributionStatus status, Owner owner) {

  public EndAttribution {
    if (status == null) {
      throw new IllegalArgumentException("status is required");
    }
    boolean attributed = status == AttributionStatus.OWNER || status == AttributionStatus.CIDR;
    if (attributed != (owner != null)) {
      throw new IllegalArgumentException(
          status + (attributed ? " needs an owner" : " cannot have an owner"));
    }
  }

  public static EndAttribution of(Attribution attribution) {
    return new EndAttribution(attribution.status(), Owner.of(attribution.identity()));
  }

  /** The row-key part of this end: the owner's fingerprint mixed with the status. */
  public long fingerprint() {
    long h = owner == null ? 0x9e3779b97f4a7c15L : owner.fingerprint();
    return (h ^ (status.ordinal() + 1L)) * 0x100000001b3L;
  }

  /**
   * Layout: u8 status (AttributionStatus ordinal); for OWNER and CIDR the owner's eight fields as
   * nstrings, in declaration order.
   */
  public void writeTo(Bin.Out out) {
    out.u8(status.ordinal());
    if (owner != null) {
      OwnerCodec.write(out, owner);
    }
  }

  /** Writes an attribution that may still be missing (255 = not attributed yet). */
  static void writeNullable(Bin.Out out, EndAttribution a) {
    if (a == null) {
      out.u8(255);
    } else {
      a.writeTo(out);
    }
  }

  /** Reads what {@link #writeTo} or {@link #writeNullable} wrote: null for "not attributed yet". */
  public static EndAttribution readNullable(Bin.In in) {
    int s = in.u8();
    if (s == 255) {
      return null;
    }
    AttributionStatus[] all = AttributionStatus.values();
    if (s >= all.length) {
      throw in.malformed("attribution status " + s + " is unknown");
    }
    AttributionStatus status = all[s];
    boolean attributed = status == AttributionStatus.OWNER || status == AttributionStatus.CIDR;
    return new EndAttribution(status, attributed ? OwnerCodec.read(in) : null);
  }
}
