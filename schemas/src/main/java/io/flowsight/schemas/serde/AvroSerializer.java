package io.flowsight.schemas.serde;

import io.flowsight.schemas.serde.SerdeException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro specific records in the Confluent wire format, registering (or looking up) their
 * schema under {@code <topic>-value} (or {@code -key}) once per schema.
 *
 * <p>Built either with a registry client, or with the no-argument constructor and {@link
 * #configure} from a Kafka client configuration (see {@link RegistrySerdeConfig} for the keys).
 */
public final class AvroSerializer<T extends SpecificRecord> implements Serializer<T> {

  private SchemaRegistryClient registry;
  private boolean isKey;
  private final Map<Schema, DatumWriter<T>> writers =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Function<Schema, DatumWriter<T>> writerFactory;

  /** Per-thread output buffer and encoder, reused from record to record. */
  private static final class Buffer {
    final ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    BinaryEncoder encoder;
  }

  private static final ThreadLocal<Buffer> BUFFERS = ThreadLocal.withInitial(Buffer::new);

  /** The cached id of the schema last written to the topic last written to. */
  private volatile Cached last;

  private record Cached(String topic, Schema schema, int id) {}

  /** For Kafka's reflective construction; {@link #configure} must be called before use. */
  public AvroSerializer() {
    this.writerFactory = AvroSerializer::specificWriter;
  }

  public AvroSerializer(SchemaRegistryClient registry, boolean isKey) {
    this(registry, isKey, AvroSerializer::specificWriter);
  }

  /**
   * With the writer of each schema made by {@code writerFactory}, for a record type that has a
   * faster writer of its own (bound to its schema by a test); the writers are shared by every
   * thread that serializes.
   */
  public AvroSerializer(
      SchemaRegistryClient registry,
      boolean isKey,
      Function<Schema, DatumWriter<T>> writerFactory) {
    this.registry = registry;
    this.isKey = isKey;
    this.writerFactory = writerFactory;
  }

  /** Avro's own writer of the generated class of {@code schema}. */
  public static <T> DatumWriter<T> specificWriter(Schema schema) {
    return new SpecificDatumWriter<>(schema, SpecificData.getForSchema(schema));
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    this.registry = new SchemaRegistryClient(RegistrySerdeConfig.fromMap(configs));
    this.isKey = isKey;
  }

  @Override
  public byte[] serialize(String topic, T record) {
    if (record == null) {
      return null;
    }
    if (registry == null) {
      throw new SerdeException(
          Reason.BAD_CONFIGURATION, "AvroSerializer used before configure() was called");
    }
    Schema schema = record.getSchema();
    int id = schemaId(topic, schema);
    Buffer buffer = BUFFERS.get();
    ByteArrayOutputStream out = buffer.out;
    out.reset();
    out.write(WireFormat.MAGIC_BYTE);
    // Schema id, big-endian.
    out.write(id >>> 24);
    out.write(id >>> 16);
    out.write(id >>> 8);
    out.write(id);
    // Buffered: the encoder writes varints into its own array and hands the stream whole chunks;
    // the direct encoder calls the stream's synchronized write(int) once per byte.
    buffer.encoder = EncoderFactory.get().binaryEncoder(out, buffer.encoder);
    try {
      writer(schema).write(record, buffer.encoder);
      buffer.encoder.flush();
    } catch (IOException | RuntimeException e) {
      throw new SerdeException(
          Reason.MALFORMED,
          "cannot encode a " + schema.getFullName() + " for topic " + topic + ": " + e,
          e);
    }
    return out.toByteArray();
  }

  private int schemaId(String topic, Schema schema) {
    Cached cached = last;
    if (cached != null && cached.schema == schema && cached.topic.equals(topic)) {
      return cached.id;
    }
    int id = registry.idFor(WireFormat.subject(topic, isKey), schema);
    last = new Cached(topic, schema, id);
    return id;
  }

  private DatumWriter<T> writer(Schema schema) {
    return writers.computeIfAbsent(schema, writerFactory);
  }
}
