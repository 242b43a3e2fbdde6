package io.flowsight.sidecar.sink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

class FlowRecordWriterTest {

  private static final DatumWriter<FlowRecord> AVRO =
      new SpecificDatumWriter<>(FlowRecord.SCHEMA$, SpecificData.getForSchema(FlowRecord.SCHEMA$));

  @Test
  void isWrittenForTheFlowRecordSchemaOfThisBuild() {
    assertEquals(
        Long.toHexString(FlowRecordWriter.WRITTEN_FOR),
        Long.toHexString(FlowRecordWriter.fingerprint(FlowRecord.SCHEMA$)),
        "FlowRecord.avsc changed: make FlowRecordWriter write it field by field in the schema's"
            + " order, then set WRITTEN_FOR to the new fingerprint");
  }

  @Test
  void writesTheSameBytesAsAvroForEveryKindOfValue() throws IOException {
    Identity full = identity("checkout", Map.of("team", "payments", "tier", "1"), true);
    Identity bare = identity("batch", Map.of(), false);
    FlowRecord allSet = record(new Random(1), full);
    allSet.setPod(identity("checkout-pod", Map.of(), true));
    FlowRecord allNull = record(new Random(2), null);
    allNull.setConnectLatencyMicros(null);
    allNull.setPid(null);
    allNull.setProcessName(null);
    allNull.setCgroupId(null);
    allNull.setContainerId(null);
    allNull.setPod(null);
    FlowRecord extremes = record(new Random(3), bare);
    extremes.setSequence(Long.MAX_VALUE);
    extremes.setBytesSent(Long.MAX_VALUE);
    extremes.setBytesReceived(0);
    extremes.setSrttMicros(Integer.MAX_VALUE);
    extremes.setRttVarMicros(Integer.MIN_VALUE);
    extremes.setConnectLatencyMicros(Long.MIN_VALUE);
    extremes.setPid(0);
    extremes.setProcessName("ünïcødé ✓ 名前");
    extremes.setLocalIp(ByteBuffer.wrap(new byte[16]));
    extremes.setEndTime(Instant.ofEpochMilli(-1));
    FlowWriterCase[] cases = {
      new FlowWriterCase("every optional set", allSet),
      new FlowWriterCase("every optional null", allNull),
      new FlowWriterCase("extreme values, IPv6, unicode", extremes),
    };
    FlowRecordWriter writer = new FlowRecordWriter();
    for (FlowWriterCase c : cases) {
      assertArrayEquals(encode(AVRO, c.record()), encode(writer, c.record()), c.name());
    }
  }

  @Test
  void writesTheSameBytesAsAvroForRandomRecordsAndChangingIdentities() throws IOException {
    Random random = new Random(42);
    List<Identity> identities = new ArrayList<>();
    identities.add(null);
    for (int i = 0; i < 5; i++) {
      identities.add(identity("app-" + i, Map.of("k" + i, "v" + i), i % 2 == 0));
    }
    FlowRecordWriter writer = new FlowRecordWriter();
    String observer = "node-1";
    String run = "2f0c0a7e-1b7a-4b1e-9d55-8c3f0c9e1a11";
    for (int i = 0; i < 10_000; i++) {
      FlowRecord r = record(random, identities.get(random.nextInt(identities.size())));
      // The pod changes independently of the local identity (a host-network pod's records carry
      // the node as local identity), and is often the local identity itself (a pod's own IP).
      r.setPod(
          random.nextBoolean()
              ? r.getLocalIdentity()
              : identities.get(random.nextInt(identities.size())));
      if (i % 1000 == 999) {
        run = "run-" + i; // a new run id: the cached bytes must follow
      }
      r.setObserverId(observer);
      r.setSidecarRunId(run);
      assertArrayEquals(encode(AVRO, r), encode(writer, r), "record " + i + ": " + r);
    }
  }

  @Test
  void refusesAnotherSchema() {
    assertNull(FlowRecordWriter.forSchema(IpIdentityChange.SCHEMA$));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new FlowRecordWriter().setSchema(IpIdentityChange.SCHEMA$));
    assertEquals(true, e.getMessage().contains("IpIdentityChange"), e.getMessage());
  }

  private record FlowWriterCase(String name, FlowRecord record) {}

  private static byte[] encode(DatumWriter<FlowRecord> writer, FlowRecord record)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    writer.write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private static Identity identity(String app, Map<String, String> labels, boolean full) {
    Identity.Builder b = Identity.newBuilder().setApp(app).setLabels(new LinkedHashMap<>(labels));
    if (full) {
      b.setCluster("prod-eu")
          .setNamespace("shop")
          .setWorkloadKind("Deployment")
          .setWorkloadName(app)
          .setInstanceId(app + "-7d9f")
          .setNode("node-1")
          .setZone("eu-west-1a")
          .setRegion("eu-west-1")
          .setAccount("1234");
    }
    return b.build();
  }

  /** A random record; its pod is null (the tests set it). */
  private static FlowRecord record(Random random, Identity identity) {
    boolean v6 = random.nextBoolean();
    byte[] local = new byte[v6 ? 16 : 4];
    byte[] remote = new byte[v6 ? 16 : 4];
    random.nextBytes(local);
    random.nextBytes(remote);
    long end = 1_700_000_000_000L + random.nextInt(1_000_000_000);
    FlowRecord r = new FlowRecord();
    r.setObserverId("node-" + random.nextInt(3));
    r.setSidecarRunId("run-" + random.nextInt(3));
    r.setSequence(random.nextLong() >>> random.nextInt(64));
    r.setKind(FlowKind.values()[random.nextInt(FlowKind.values().length)]);
    r.setProtocol(Protocol.values()[random.nextInt(Protocol.values().length)]);
    r.setAddressFamily(v6 ? AddressFamily.IPV6 : AddressFamily.IPV4);
    r.setLocalIp(ByteBuffer.wrap(local));
    r.setLocalPort(random.nextInt(65536));
    r.setRemoteIp(ByteBuffer.wrap(remote));
    r.setRemotePort(random.nextInt(65536));
    r.setSide(Side.values()[random.nextInt(Side.values().length)]);
    r.setServicePort(random.nextInt(65536));
    r.setConnectionStartTime(Instant.ofEpochMilli(end - random.nextInt(3_600_000)));
    r.setStartTime(Instant.ofEpochMilli(end - random.nextInt(60_000)));
    r.setEndTime(Instant.ofEpochMilli(end));
    r.setBytesSent(random.nextLong() >>> random.nextInt(64));
    r.setBytesReceived(random.nextLong() >>> random.nextInt(64));
    r.setSegmentsSent(random.nextInt(1_000_000));
    r.setSegmentsReceived(random.nextInt(1_000_000));
    r.setRetransmits(random.nextInt(100));
    r.setSrttMicros(random.nextInt(1_000_000));
    r.setRttVarMicros(random.nextInt(100_000));
    r.setCongestionWindow(random.nextInt(10_000));
    r.setConnectLatencyMicros(random.nextBoolean() ? null : (long) random.nextInt(1_000_000));
    r.setPid(random.nextBoolean() ? null : random.nextInt(4_194_304));
    r.setProcessName(random.nextBoolean() ? null : "proc-" + random.nextInt(100));
    r.setCgroupId(random.nextBoolean() ? null : random.nextLong());
    r.setContainerId(random.nextBoolean() ? null : Long.toHexString(random.nextLong()));
    r.setLocalIdentity(identity);
    r.setPartial(random.nextBoolean());
    return r;
  }
}
