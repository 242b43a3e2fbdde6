package io.flowsight.testing;

import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.Random;

/** Realistic {@link FlowRecord}s for tests and benchmarks, reproducible from a seed. */
public final class SampleFlows {

  private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");

  private final Random random;
  private final String runId;
  private long sequence;

  public SampleFlows(long seed) {
    this.random = new Random(seed);
    this.runId = new java.util.UUID(random.nextLong(), random.nextLong()).toString();
  }

  /** The next record: a CLIENT-side CLOSED IPv4 connection with every optional field set. */
  public FlowRecord next() {
    long seq = sequence++;
    Instant start = EPOCH.plusMillis(seq * 7);
    Instant end = start.plusMillis(1 + random.nextInt(5_000));
    int servicePort = new int[] {443, 8080, 9092, 5432, 6379}[random.nextInt(5)];
    int ephemeral = 32768 + random.nextInt(28232);
    return FlowRecord.newBuilder()
        .setObserverId("i-0" + Long.toHexString(random.nextLong() & 0xffffffffL))
        .setSidecarRunId(runId)
        .setSequence(seq)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setAddressFamily(AddressFamily.IPV4)
        .setLocalIp(ipv4(10, 1, random.nextInt(256), random.nextInt(256)))
        .setLocalPort(ephemeral)
        .setRemoteIp(ipv4(10, 2, random.nextInt(256), random.nextInt(256)))
        .setRemotePort(servicePort)
        .setSide(Side.CLIENT)
        .setServicePort(servicePort)
        .setConnectionStartTime(start)
        .setStartTime(start)
        .setEndTime(end)
        .setBytesSent(random.nextInt(1 << 20))
        .setBytesReceived(random.nextInt(1 << 24))
        .setSegmentsSent(1 + random.nextInt(1000))
        .setSegmentsReceived(1 + random.nextInt(10000))
        .setRetransmits(random.nextInt(4))
        .setSrttMicros(50 + random.nextInt(50_000))
        .setRttVarMicros(10 + random.nextInt(5_000))
        .setCongestionWindow(10 + random.nextInt(100))
        .setConnectLatencyMicros((long) 100 + random.nextInt(10_000))
        .setPid(1000 + random.nextInt(30000))
        .setProcessName("java")
        .setCgroupId(random.nextLong() & Long.MAX_VALUE)
        .setContainerId(null)
        .setLocalIdentity(
            Identity.newBuilder()
                .setApp("checkout")
                .setCluster("prod-east")
                .setNamespace("shop")
                .setWorkloadKind("Deployment")
                .setWorkloadName("checkout")
                .setInstanceId("checkout-7d9f8b6c5-x2x7q")
                .setNode("node-17")
                .setZone("us-east-1a")
                .setRegion("us-east-1")
                .setAccount("123456789012")
                .setLabels(Map.of("team", "payments"))
                .build())
        .build();
  }

  private static ByteBuffer ipv4(int a, int b, int c, int d) {
    return ByteBuffer.wrap(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
  }
}
