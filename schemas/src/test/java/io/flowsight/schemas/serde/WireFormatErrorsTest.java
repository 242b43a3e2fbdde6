package io.flowsight.schemas.serde;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.serde.SerdeException.Reason;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The errors the deserializer finds in the header alone, before it asks the registry anything. */
class WireFormatErrorsTest {

  // Nothing listens on port 1: a test that reached the registry would fail with
  // REGISTRY_UNREACHABLE.
  private final AvroDeserializer<FlowRecord> deserializer =
      new AvroDeserializer<>(
          new SchemaRegistryClient(RegistrySerdeConfig.of("http://127.0.0.1:1")), FlowRecord.class);

  @Test
  void shouldRefuseAWrongMagicByteAndSayWhatItSaw() {
    byte[] json = "{\"observerId\":\"x\"}".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> deserializer.deserialize("flows-raw-v1", json))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("starts with byte 0x7b, not the magic byte 0x00")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.WRONG_MAGIC_BYTE);
  }

  @Test
  void shouldRefuseARecordShorterThanTheHeader() {
    assertThatThrownBy(() -> deserializer.deserialize("flows-raw-v1", new byte[] {0, 0, 0}))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("is truncated: 3 bytes")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.TRUNCATED);
  }

  @Test
  void shouldSayTheRegistryIsUnreachableWhenItIs() {
    assertThatThrownBy(
            () -> deserializer.deserialize("flows-raw-v1", new byte[] {0, 0, 0, 0, 7, 2}))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("schema registry unreachable at http://127.0.0.1:1")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.REGISTRY_UNREACHABLE);
  }

  @Test
  void shouldPassNullThrough() {
    org.assertj.core.api.Assertions.assertThat(deserializer.deserialize("t", null)).isNull();
  }
}
