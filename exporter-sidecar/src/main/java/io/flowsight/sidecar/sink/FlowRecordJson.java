package io.flowsight.sidecar.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;

/**
 * The JSON form of a {@link FlowRecord}: the schema's field names, IPs as text, times as ISO-8601
 * UTC strings, absent optional fields left out.
 */
public final class FlowRecordJson {

  private static final ObjectMapper JSON = new ObjectMapper();

  private FlowRecordJson() {}

  public static String toJson(FlowRecord r) {
    ObjectNode node = JSON.createObjectNode();
    node.put("observerId", r.getObserverId());
    node.put("sidecarRunId", r.getSidecarRunId());
    node.put("sequence", r.getSequence());
    node.put("kind", r.getKind().name());
    node.put("protocol", r.getProtocol().name());
    node.put("addressFamily", r.getAddressFamily().name());
    node.put("localIp", IpAddresses.toText(r.getLocalIp()));
    node.put("localPort", r.getLocalPort());
    node.put("remoteIp", IpAddresses.toText(r.getRemoteIp()));
    node.put("remotePort", r.getRemotePort());
    node.put("side", r.getSide().name());
    node.put("servicePort", r.getServicePort());
    node.put("connectionStartTime", r.getConnectionStartTime().toString());
    node.put("startTime", r.getStartTime().toString());
    node.put("endTime", r.getEndTime().toString());
    node.put("bytesSent", r.getBytesSent());
    node.put("bytesReceived", r.getBytesReceived());
    node.put("segmentsSent", r.getSegmentsSent());
    node.put("segmentsReceived", r.getSegmentsReceived());
    node.put("retransmits", r.getRetransmits());
    node.put("srttMicros", r.getSrttMicros());
    node.put("rttVarMicros", r.getRttVarMicros());
    node.put("congestionWindow", r.getCongestionWindow());
    node.put("partial", r.getPartial());
    if (r.getConnectLatencyMicros() != null) {
      node.put("connectLatencyMicros", r.getConnectLatencyMicros());
    }
    if (r.getPid() != null) {
      node.put("pid", r.getPid());
    }
    if (r.getProcessName() != null) {
      node.put("processName", r.getProcessName());
    }
    if (r.getCgroupId() != null) {
      node.put("cgroupId", r.getCgroupId());
    }
    if (r.getContainerId() != null) {
      node.put("containerId", r.getContainerId());
    }
    if (r.getLocalIdentity() != null) {
      node.set("localIdentity", identity(r.getLocalIdentity()));
    }
    if (r.getPod() != null) {
      node.set("pod", identity(r.getPod()));
    }
    return node.toString();
  }

  static ObjectNode identity(Identity identity) {
    ObjectNode node = JSON.createObjectNode();
    node.put("app", identity.getApp());
    putIfSet(node, "cluster", identity.getCluster());
    putIfSet(node, "namespace", identity.getNamespace());
    putIfSet(node, "workloadKind", identity.getWorkloadKind());
    putIfSet(node, "workloadName", identity.getWorkloadName());
    putIfSet(node, "instanceId", identity.getInstanceId());
    putIfSet(node, "node", identity.getNode());
    putIfSet(node, "zone", identity.getZone());
    putIfSet(node, "region", identity.getRegion());
    putIfSet(node, "account", identity.getAccount());
    if (!identity.getLabels().isEmpty()) {
      ObjectNode labels = node.putObject("labels");
      identity.getLabels().forEach(labels::put);
    }
    return node;
  }

  private static void putIfSet(ObjectNode node, String field, String value) {
    if (value != null) {
      node.put(field, value);
    }
  }
}
