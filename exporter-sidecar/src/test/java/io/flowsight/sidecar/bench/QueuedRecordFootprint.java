package io.flowsight.sidecar.bench;

import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Measures the heap a flow record takes while it waits in the sidecar's output buffer, the figure
 * the default {@code --output-buffer} is sized from. Builds records the way the flow table does
 * (own address buffers and times per record; observer id, run id and identity shared), keeps
 * 200,000 of them reachable, and prints the retained heap per record after a full collection.
 *
 * <p>Run: see docs/benchmarks.md ("Sidecar output buffer footprint").
 */
public final class QueuedRecordFootprint {

  public static void main(String[] args) throws InterruptedException {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    String observer = "host-a.example";
    String run = UUID.randomUUID().toString();
    Identity identity =
        Identity.newBuilder()
            .setApp("frontend")
            .setCluster("prod")
            .setWorkloadName("frontend")
            .setInstanceId("i-0123456789")
            .setZone("zone-a")
            .setRegion("region-1")
            .build();
    long before = usedAfterGc();
    List<FlowRecord> held = new ArrayList<>(n);
    long base = System.currentTimeMillis();
    for (int i = 0; i < n; i++) {
      held.add(record(i, observer, run, identity, base));
    }
    long after = usedAfterGc();
    double perRecord = (after - before - 4.0 * n) / n; // less the list's reference per record
    System.out.printf(
        "records=%d retained_bytes=%d bytes_per_queued_record=%.0f%n",
        held.size(), after - before, perRecord);
  }

  public static FlowRecord record(
      int i, String observer, String run, Identity identity, long base) {
    byte[] local = {10, 1, (byte) (i >>> 8), (byte) i};
    byte[] remote = {10, 2, (byte) (i >>> 16), (byte) (i >>> 4)};
    return FlowRecord.newBuilder()
        .setObserverId(observer)
        .setSidecarRunId(run)
        .setSequence(i)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setAddressFamily(AddressFamily.IPV4)
        .setLocalIp(ByteBuffer.wrap(local))
        .setLocalPort(30000 + (i % 30000))
        .setRemoteIp(ByteBuffer.wrap(remote))
        .setRemotePort(443)
        .setSide(Side.CLIENT)
        .setServicePort(443)
        .setConnectionStartTime(Instant.ofEpochMilli(base + i))
        .setStartTime(Instant.ofEpochMilli(base + i))
        .setEndTime(Instant.ofEpochMilli(base + i + 250))
        .setBytesSent(1000 + i)
        .setBytesReceived(20000 + i)
        .setSegmentsSent(10)
        .setSegmentsReceived(20)
        .setRetransmits(0)
        .setSrttMicros(120)
        .setRttVarMicros(30)
        .setCongestionWindow(10)
        .setConnectLatencyMicros(150L)
        .setPid(4242)
        .setProcessName("java")
        .setCgroupId(12345L)
        .setContainerId(null)
        .setLocalIdentity(identity)
        .build();
  }

  private static long usedAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
