package io.flowsight.collector;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;

/** Small builders of input records for the topology tests. */
final class TestFlows {

  private TestFlows() {}

  static Identity app(String app) {
    return Identity.newBuilder()
        .setApp(app)
        .setCluster("prod-east")
        .setNamespace("shop")
        .setWorkloadKind("Deployment")
        .setWorkloadName(app)
        .setInstanceId(app + "-7d9f8b6c5-x2x7q")
        .setNode("node-1")
        .setZone("us-east-1a")
        .setRegion("us-east-1")
        .setAccount("123456789012")
        .setLabels(Map.of())
        .build();
  }

  /** A connection as seen by one end; fill in with the setters, then build. */
  static FlowRecord.Builder flow(
      Side side,
      String clientIp,
      int clientPort,
      String serverIp,
      int servicePort,
      Instant start,
      Instant end) {
    boolean client = side == Side.CLIENT;
    return FlowRecord.newBuilder()
        .setObserverId(client ? "client-host" : "server-host")
        .setSidecarRunId("run-1")
        .setSequence(0)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setAddressFamily(
            IpAddresses.parse(clientIp).length == 4 ? AddressFamily.IPV4 : AddressFamily.IPV6)
        .setLocalIp(buffer(client ? clientIp : serverIp))
        .setLocalPort(client ? clientPort : servicePort)
        .setRemoteIp(buffer(client ? serverIp : clientIp))
        .setRemotePort(client ? servicePort : clientPort)
        .setSide(side)
        .setServicePort(servicePort)
        .setConnectionStartTime(start)
        .setStartTime(start)
        .setEndTime(end)
        .setBytesSent(0)
        .setBytesReceived(0)
        .setSegmentsSent(0)
        .setSegmentsReceived(0)
        .setRetransmits(0)
        .setSrttMicros(0)
        .setRttVarMicros(0)
        .setCongestionWindow(10)
        .setLocalIdentity(null);
  }

  static IpIdentityChange change(
      IdentityAction action, String ip, Integer prefixLength, Identity who, Instant at) {
    byte[] address = IpAddresses.parse(ip);
    return IpIdentityChange.newBuilder()
        .setAddressFamily(address.length == 4 ? AddressFamily.IPV4 : AddressFamily.IPV6)
        .setIp(ByteBuffer.wrap(address))
        .setPrefixLength(prefixLength)
        .setAction(action)
        .setIdentity(who)
        .setEventTime(at)
        .setSource("kubernetes")
        .setSourceInstance("prod-east")
        .build();
  }

  static ByteBuffer buffer(String ip) {
    return ByteBuffer.wrap(IpAddresses.parse(ip));
  }
}
