package io.flowsight.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import io.flowsight.schemas.serde.SerdeException.Reason;
import io.flowsight.testing.SampleFlows;
import io.flowsight.testing.SchemaVersions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/**
 * The deserializer against records an older or newer producer wrote, and against poison that must
 * fail fast with its reason; the writer schemas come from a table instead of a registry (the
 * registry's side is in {@link RegistrySerdeIT}).
 */
class PoisonAndEvolutionTest {

  private static final int CURRENT = 1;
  private static final int OLDER = 2;
  private static final int NEWER = 3;
  private static final int UNPARSABLE = 4;
  private static final int WRONG_TYPE = 5;
  private static final int BEFORE_POD = 6;

  private final Schema older = SchemaVersions.older(FlowRecord.getClassSchema(), "localIdentity");
  private final Schema newer =
      SchemaVersions.newer(FlowRecord.getClassSchema(), "Protocol", "SCTP", "addedLater");
  private final Schema beforePod = SchemaVersions.without(FlowRecord.getClassSchema(), "pod");
  private final Map<Integer, AtomicInteger> lookups = new HashMap<>();
  private final AvroDeserializer<FlowRecord> deserializer =
      new AvroDeserializer<>(this::schemaById, FlowRecord.class);

  private Schema schemaById(int id) {
    lookups.computeIfAbsent(id, i -> new AtomicInteger()).incrementAndGet();
    return switch (id) {
      case CURRENT -> FlowRecord.getClassSchema();
      case OLDER -> older;
      case NEWER -> newer;
      case BEFORE_POD -> beforePod;
      case UNPARSABLE ->
          throw new SerdeException(
              Reason.UNPARSABLE_SCHEMA, "schema id 4 is not a valid Avro schema: cut short");
      case WRONG_TYPE -> Schema.create(Schema.Type.STRING);
      default -> throw new SerdeException(Reason.UNKNOWN_SCHEMA_ID, "no schema id " + id);
    };
  }

  @Test
  void shouldReadARecordOfAnOlderWriterWithTheNewFieldAtItsDefault() {
    FlowRecord record = new SampleFlows(3).next();
    GenericRecord old = SchemaVersions.convert(record, older);

    FlowRecord read = deserializer.deserialize("flows", SchemaVersions.wire(OLDER, older, old));

    assertThat(read.getLocalIdentity()).isNull();
    assertThat(read.getBytesReceived()).isEqualTo(record.getBytesReceived());
    assertThat(read.getObserverId()).isEqualTo(record.getObserverId());
    assertThat(read).isEqualTo(FlowRecord.newBuilder(record).setLocalIdentity(null).build());
  }

  @Test
  void shouldReadARecordOfTheVersionBeforeThePodWithNoPodAndEverythingElseAsWritten() {
    FlowRecord record = new SampleFlows(5).next();
    record.setContainerId("5e1f0c7a9b3d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f");
    GenericRecord old = SchemaVersions.convert(record, beforePod);

    FlowRecord read =
        deserializer.deserialize("flows", SchemaVersions.wire(BEFORE_POD, beforePod, old));

    assertThat(read.getPod()).isNull();
    assertThat(read).isEqualTo(record);
    // And a record of now, pod set, read back whole.
    record.setPod(
        Identity.newBuilder().setApp("checkout").setInstanceId("checkout-7d9f5-x2kq8").build());
    assertThat(
            deserializer.deserialize(
                "flows", SchemaVersions.wire(CURRENT, FlowRecord.getClassSchema(), record)))
        .isEqualTo(record);
  }

  @Test
  void shouldReadANewerWritersAddedEnumSymbolAsUnknownAndIgnoreItsAddedField() {
    FlowRecord record = new SampleFlows(4).next();
    GenericRecord tcp = SchemaVersions.convert(record, newer);
    tcp.put("addedLater", 42L);
    GenericRecord sctp = SchemaVersions.convert(record, newer);
    sctp.put("protocol", SchemaVersions.symbol(newer, "protocol", "SCTP"));

    FlowRecord readTcp = deserializer.deserialize("flows", SchemaVersions.wire(NEWER, newer, tcp));
    FlowRecord readSctp =
        deserializer.deserialize("flows", SchemaVersions.wire(NEWER, newer, sctp));

    assertThat(readTcp).isEqualTo(record);
    assertThat(readSctp.getProtocol()).isEqualTo(Protocol.UNKNOWN);
    assertThat(readSctp.getSide()).isEqualTo(Side.CLIENT);
    assertThat(readSctp.getBytesSent()).isEqualTo(record.getBytesSent());
  }

  @Test
  void shouldRefuseALengthPrefixClaimingGigabytesAtOnce() {
    byte[] good = SchemaVersions.wire(CURRENT, FlowRecord.getClassSchema(), sample());
    // The body starts with observerId: its length, a zigzag varint. 3 GiB: 6442450944 zigzagged.
    byte[] poison = withFirstLength(good, 3L << 30);

    long started = System.nanoTime();
    assertThatThrownBy(() -> deserializer.deserialize("flows", poison))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("beyond the decoder's limit")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.LIMIT_EXCEEDED);
    assertThat(System.nanoTime() - started).isLessThan(1_000_000_000L);
    // Just past the limit is refused as well; a string at the limit would be read (and be cut).
    assertThatThrownBy(
            () ->
                deserializer.deserialize("flows", withFirstLength(good, AvroLimits.MAX_LENGTH + 1)))
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.LIMIT_EXCEEDED);
    assertThat(AvroLimits.install()).isTrue();
  }

  @Test
  void shouldNameAnUnparsableSchemaAndNotAskForItAgain() {
    byte[] bytes = SchemaVersions.wire(UNPARSABLE, FlowRecord.getClassSchema(), sample());

    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> deserializer.deserialize("flows", bytes))
          .isInstanceOf(SerdeException.class)
          .hasMessageContaining("schema id 4 is not a valid Avro schema")
          .extracting(e -> ((SerdeException) e).reason())
          .isEqualTo(Reason.UNPARSABLE_SCHEMA);
    }
    assertThat(lookups.get(UNPARSABLE)).hasValue(1);
  }

  @Test
  void shouldNameASchemaOfAnotherTypeAndNotAskForItAgain() {
    byte[] bytes = SchemaVersions.wire(WRONG_TYPE, Schema.create(Schema.Type.STRING), "hello");

    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> deserializer.deserialize("flows", bytes))
          .isInstanceOf(SerdeException.class)
          .hasMessageContaining("schema id 5 is a string, which cannot be read as")
          .hasMessageContaining("io.flowsight.schemas.FlowRecord")
          .extracting(e -> ((SerdeException) e).reason())
          .isEqualTo(Reason.WRONG_SCHEMA);
    }
    assertThat(lookups.get(WRONG_TYPE)).hasValue(1);
  }

  @Test
  void shouldAskForAnUnknownIdOnlyOnceInAWhile() {
    byte[] bytes = SchemaVersions.wire(99, FlowRecord.getClassSchema(), sample());

    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> deserializer.deserialize("flows", bytes))
          .extracting(e -> ((SerdeException) e).reason())
          .isEqualTo(Reason.UNKNOWN_SCHEMA_ID);
    }
    assertThat(lookups.get(99)).hasValue(1);
  }

  private static FlowRecord sample() {
    return new SampleFlows(5).next();
  }

  /** {@code wire} with its first Avro length (observerId's) replaced by {@code length}. */
  private static byte[] withFirstLength(byte[] wire, long length) {
    int at = 5;
    int old = 0;
    while ((wire[at + old] & 0x80) != 0) {
      old++;
    }
    old++;
    byte[] varint = zigzagVarint(length);
    byte[] out = new byte[wire.length - old + varint.length];
    System.arraycopy(wire, 0, out, 0, at);
    System.arraycopy(varint, 0, out, at, varint.length);
    System.arraycopy(wire, at + old, out, at + varint.length, wire.length - at - old);
    return out;
  }

  private static byte[] zigzagVarint(long value) {
    long n = (value << 1) ^ (value >> 63);
    byte[] buffer = new byte[10];
    int i = 0;
    while ((n & ~0x7fL) != 0) {
      buffer[i++] = (byte) ((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    buffer[i++] = (byte) n;
    return java.util.Arrays.copyOf(buffer, i);
  }
}
