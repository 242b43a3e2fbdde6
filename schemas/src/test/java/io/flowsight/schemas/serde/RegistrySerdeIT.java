package io.flowsight.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.serde.SerdeException.Reason;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.SampleFlows;
import io.flowsight.testing.SchemaVersions;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The registry serde against a real Kafka broker and a real schema registry. */
@ExtendWith(LocalStackExtension.class)
class RegistrySerdeIT {

  private static final int RECORDS = 10_000;

  @Test
  void shouldReadBackExactlyThe10000FlowRecordsItProduced(LocalStack stack) {
    String topic = stack.createTopic("flows-raw-v1", 3);
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    SampleFlows samples = new SampleFlows(42);
    List<FlowRecord> sent = new ArrayList<>(RECORDS);

    Map<String, Object> producerConfig = stack.producerConfig();
    // Configured by class name, as from a configuration file: Kafka builds and configures it.
    producerConfig.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    producerConfig.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, AvroSerializer.class);
    producerConfig.put("schema.registry.url", stack.registryUrl());
    try (KafkaProducer<String, FlowRecord> producer = new KafkaProducer<>(producerConfig)) {
      for (int i = 0; i < RECORDS; i++) {
        FlowRecord record = samples.next();
        sent.add(record);
        producer.send(new ProducerRecord<>(topic, record.getObserverId(), record));
      }
      producer.flush();
    }

    Map<Long, FlowRecord> received = new HashMap<>();
    List<byte[]> rawValues = new ArrayList<>();
    AvroDeserializer<FlowRecord> deserializer = new AvroDeserializer<>(registry, FlowRecord.class);
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            stack.consumerConfig(), new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (received.size() < RECORDS && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          FlowRecord flow = deserializer.deserialize(topic, r.value());
          assertThat(r.key()).isEqualTo(flow.getObserverId());
          assertThat(received.put(flow.getSequence(), flow)).as("duplicate sequence").isNull();
          rawValues.add(r.value());
        }
      }
      // Nothing beyond the 10,000 arrives.
      assertThat(consumer.poll(Duration.ofSeconds(2))).isEmpty();
    }

    assertThat(received).hasSize(RECORDS);
    for (FlowRecord expected : sent) {
      assertThat(received.get(expected.getSequence())).isEqualTo(expected);
    }
    int registeredId = registry.idFor(topic + "-value", FlowRecord.getClassSchema());
    assertThat(rawValues)
        .allSatisfy(
            value -> {
              assertThat(value[0]).isZero();
              assertThat(ByteBuffer.wrap(value, 1, 4).getInt()).isEqualTo(registeredId);
            });
    assertThat(registry.compatibility(topic + "-value")).isEqualTo("BACKWARD");
  }

  @Test
  void shouldRefuseAnIncompatibleSchemaChangeWithAClearError(LocalStack stack) {
    String subject = stack.uniqueTopic("flows-raw-v1") + "-value";
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    Schema v1 = FlowRecord.getClassSchema();
    int v1Id = registry.idFor(subject, v1);

    // A new required field without a default: readers of v2 cannot read records written with v1.
    Schema incompatible = withExtraField(v1, SchemaBuilder.builder().longType(), null);
    assertThatThrownBy(() -> registry.idFor(subject, incompatible))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining(
            "refused schema io.flowsight.schemas.FlowRecord under subject " + subject)
        .hasMessageContaining("incompatible")
        .hasMessageContaining("compatibility BACKWARD")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.INCOMPATIBLE_SCHEMA);

    // The same field with a default is a compatible change and gets a new id.
    Schema compatible = withExtraField(v1, SchemaBuilder.builder().longType(), 0L);
    int v2Id = registry.idFor(subject, compatible);
    assertThat(v2Id).isNotEqualTo(v1Id);
    // A second client (no cache) finds the same ids.
    SchemaRegistryClient fresh =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    assertThat(fresh.idFor(subject, v1)).isEqualTo(v1Id);
    assertThat(fresh.idFor(subject, compatible)).isEqualTo(v2Id);
    assertThat(fresh.schemaById(v1Id)).isEqualTo(v1);
  }

  @Test
  void shouldReadRecordsWrittenWithAnOlderCompatibleSchema(LocalStack stack) {
    String topic = stack.uniqueTopic("flows-raw-v1");
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    FlowRecord record = new SampleFlows(7).next();
    byte[] bytes = new AvroSerializer<FlowRecord>(registry, false).serialize(topic, record);

    FlowRecord read =
        new AvroDeserializer<>(
                new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl())),
                FlowRecord.class)
            .deserialize(topic, bytes);

    assertThat(read).isEqualTo(record);
  }

  @Test
  void shouldReadARecordOfAnOlderWriterRegisteredBeforeTheCurrentSchema(LocalStack stack) {
    String topic = stack.uniqueTopic("flows-raw-v1");
    String subject = topic + "-value";
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    // The version before: no localIdentity, enums without their UNKNOWN default.
    Schema older = SchemaVersions.older(FlowRecord.getClassSchema(), "localIdentity");
    int olderId = registry.idFor(subject, older);
    // The current schema is a compatible (BACKWARD) successor of it: the registry accepts it.
    int currentId = registry.idFor(subject, FlowRecord.getClassSchema());
    assertThat(currentId).isNotEqualTo(olderId);
    FlowRecord record = new SampleFlows(11).next();
    byte[] bytes = SchemaVersions.wire(olderId, older, SchemaVersions.convert(record, older));

    // A reader that knows nothing but the id in the record (no cache).
    FlowRecord read =
        new AvroDeserializer<>(
                new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl())),
                FlowRecord.class)
            .deserialize(topic, bytes);

    assertThat(read).isEqualTo(FlowRecord.newBuilder(record).setLocalIdentity(null).build());
  }

  @Test
  void shouldReadARecordOfANewerWriterWithAnAddedFieldAndEnumSymbol(LocalStack stack) {
    String topic = stack.uniqueTopic("flows-raw-v1");
    String subject = topic + "-value";
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    registry.idFor(subject, FlowRecord.getClassSchema());
    // The next version: Protocol gains SCTP, the record a long field with a default.
    Schema newer = SchemaVersions.newer(FlowRecord.getClassSchema(), "Protocol", "SCTP", "ecn");
    int newerId = registry.idFor(subject, newer);
    FlowRecord record = new SampleFlows(12).next();
    GenericRecord tcp = SchemaVersions.convert(record, newer);
    tcp.put("ecn", 3L);
    GenericRecord sctp = SchemaVersions.convert(record, newer);
    sctp.put("protocol", SchemaVersions.symbol(newer, "protocol", "SCTP"));
    AvroDeserializer<FlowRecord> current =
        new AvroDeserializer<>(
            new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl())),
            FlowRecord.class);

    FlowRecord readTcp = current.deserialize(topic, SchemaVersions.wire(newerId, newer, tcp));
    FlowRecord readSctp = current.deserialize(topic, SchemaVersions.wire(newerId, newer, sctp));

    assertThat(readTcp).isEqualTo(record);
    assertThat(readSctp.getProtocol()).isEqualTo(Protocol.UNKNOWN);
    assertThat(FlowRecord.newBuilder(readSctp).setProtocol(Protocol.TCP).build()).isEqualTo(record);
  }

  @Test
  void shouldNameAWriterSchemaOfAnotherType(LocalStack stack) {
    String topic = stack.uniqueTopic("flows-raw-v1");
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    int stringId = registry.idFor(topic + "-other-value", Schema.create(Schema.Type.STRING));
    byte[] bytes = SchemaVersions.wire(stringId, Schema.create(Schema.Type.STRING), "hello");

    assertThatThrownBy(
            () -> new AvroDeserializer<>(registry, FlowRecord.class).deserialize(topic, bytes))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("schema id " + stringId + " is a string")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.WRONG_SCHEMA);
  }

  @Test
  void shouldNameAnUnknownSchemaId(LocalStack stack) {
    AvroDeserializer<FlowRecord> deserializer =
        new AvroDeserializer<>(
            new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl())),
            FlowRecord.class);
    byte[] bytes = {0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0, 2, 4, 6};

    assertThatThrownBy(() -> deserializer.deserialize("t", bytes))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("schema id 2147483632")
        .hasMessageContaining("does not know")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.UNKNOWN_SCHEMA_ID);
  }

  @Test
  void shouldNameATruncatedRecord(LocalStack stack) {
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    String topic = stack.uniqueTopic("flows-raw-v1");
    byte[] whole =
        new AvroSerializer<FlowRecord>(registry, false).serialize(topic, new SampleFlows(1).next());
    byte[] cut = Arrays.copyOf(whole, 40);

    assertThatThrownBy(
            () -> new AvroDeserializer<>(registry, FlowRecord.class).deserialize(topic, cut))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("is truncated")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.TRUNCATED);
  }

  @Test
  void shouldRefuseAnUnregisteredSchemaWhenAutoRegistrationIsOff(LocalStack stack) {
    SchemaRegistryClient registry =
        new SchemaRegistryClient(
            RegistrySerdeConfig.fromMap(
                Map.of(
                    "schema.registry.url", stack.registryUrl(), "auto.register.schemas", "false")));
    String topic = stack.uniqueTopic("flows-raw-v1");

    assertThatThrownBy(
            () ->
                new AvroSerializer<FlowRecord>(registry, false)
                    .serialize(topic, new SampleFlows(1).next()))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("is not registered under subject " + topic + "-value")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.SCHEMA_NOT_REGISTERED);
  }

  private static Schema withExtraField(Schema base, Schema type, Object defaultValue) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : base.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    fields.add(
        new Schema.Field("addedInV2", type, "a field added by a later version", defaultValue));
    return Schema.createRecord(base.getName(), base.getDoc(), base.getNamespace(), false, fields);
  }
}
