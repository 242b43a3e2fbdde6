package io.flowsight.enrichment.ownership;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import java.time.Instant;
import java.util.Optional;

/**
 * A sidecar's first-hand claim: the IP {@code ip} (canonical text form, the history's key) belonged
 * to {@code owner} from {@code from} to {@code to}.
 */
public record Heartbeat(String ip, Identity owner, Instant from, Instant to) {

  /**
   * The heartbeat in a flow record: its local IP belonged to its localIdentity over [startTime,
   * endTime]. Empty when the sidecar did not know its identity.
   */
  public static Optional<Heartbeat> of(FlowRecord record) {
    if (record.getLocalIdentity() == null) {
      return Optional.empty();
    }
    return Optional.of(
        new Heartbeat(
            IpAddresses.toText(record.getLocalIp()),
            record.getLocalIdentity(),
            record.getStartTime(),
            record.getEndTime()));
  }

  /** Adds this heartbeat to {@code history} (the history of {@link #ip()}). */
  public OwnershipHistory applyTo(OwnershipHistory history, HistoryPolicy policy) {
    return history.withHeartbeat(owner, from, to, policy);
  }
}
