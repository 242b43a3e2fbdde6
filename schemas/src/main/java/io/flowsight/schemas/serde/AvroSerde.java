package io.flowsight.schemas.serde;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** A Kafka {@link Serde} of one Avro specific record type in the Confluent wire format. */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

  private final AvroSerializer<T> serializer;
  private final AvroDeserializer<T> deserializer;

  public AvroSerde(SchemaRegistryClient registry, Class<T> type, boolean isKey) {
    this.serializer = new AvroSerializer<>(registry, isKey);
    this.deserializer = new AvroDeserializer<>(registry, type);
  }

  /** A value serde for {@code type} against the registry at {@code registryUrl}. */
  public static <T extends SpecificRecord> AvroSerde<T> forValues(
      String registryUrl, Class<T> type) {
    return new AvroSerde<>(
        new SchemaRegistryClient(RegistrySerdeConfig.of(registryUrl)), type, false);
  }

  @Override
  public Serializer<T> serializer() {
    return serializer;
  }

  @Override
  public Deserializer<T> deserializer() {
    return deserializer;
  }
}
