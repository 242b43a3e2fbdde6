package io.flowsight.enrichment.local;

import io.flowsight.schemas.Identity;
import java.net.InetAddress;
import java.time.Instant;
import java.util.Optional;

/**
 * What the sidecar asks at capture time: whose was this local IP at that instant? The answer goes
 * into FlowRecord.localIdentity and makes every record a heartbeat of that IP's owner. Empty when
 * not known: the sidecar then leaves localIdentity null rather than guess.
 *
 * <p>Implementations are thread-safe and cheap to call once per flow record.
 */
public interface LocalIdentityResolver extends AutoCloseable {

  Optional<Identity> identityOf(InetAddress localIp, Instant at);

  /** Stops watching, where the implementation watches anything. */
  @Override
  default void close() {}
}
