package io.flowsight.collector.output;

import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Protocol;
import java.util.List;

/**
 * One output row: the traffic between one client IP and one server IP on one service port in one
 * window, for one pair of owners. The fields are those of {@code AggregatedFlow.avsc}, with the
 * identities flattened for Druid (see {@link FlowAggregateJsonSerde} and docs/collector.md).
 *
 * <p>Within one window and 4-tuple there is one row per (client owner and status, server owner and
 * status): an IP that changed owner inside a window gives one row per owner.
 */
public record FlowAggregate(
    long windowStart,
    long windowEnd,
    Protocol protocol,
    AddressFamily addressFamily,
    String clientIp,
    String serverIp,
    int servicePort,
    Owner client,
    AttributionStatus clientAttribution,
    Owner server,
    AttributionStatus serverAttribution,
    ObservedBy observedBy,
    long connections,
    long failedConnections,
    long bytesClientToServer,
    long bytesServerToClient,
    long segmentsClientToServer,
    long segmentsServerToClient,
    long retransmits,
    Integer rttMinMicros,
    Integer rttMaxMicros,
    long rttSumMicros,
    long rttCount,
    List<Integer> ephemeralPorts,
    long ephemeralPortsOverflow,
    long firstSeen,
    long lastSeen,
    long flowRecords) {

  public FlowAggregate {
    ephemeralPorts = List.copyOf(ephemeralPorts);
  }

  /** The output topic's key: {@code PROTOCOL|clientIp|serverIp|servicePort}. */
  public String key() {
    return protocol.name() + '|' + clientIp + '|' + serverIp + '|' + servicePort;
  }
}
