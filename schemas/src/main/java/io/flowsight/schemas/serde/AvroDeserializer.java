package io.flowsight.schemas.serde;

import io.flowsight.schemas.serde.SerdeException.Reason;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;
import org.apache.avro.SystemLimitException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads records in the Confluent wire format into an Avro specific record class. The writer's
 * schema is fetched from the registry by the id in the record (once per id) and resolved against
 * the reader's class, so records written with an older compatible schema read fine.
 *
 * <p>Every malformed input fails with a {@link SerdeException} naming what is wrong: a wrong magic
 * byte, a truncated record, a length beyond {@link AvroLimits}, an unknown schema id, a schema the
 * registry returns but that does not parse or is not of the reader's type, an unreachable registry.
 * What is wrong with a schema id is remembered: a schema that does not parse, or does not fit the
 * reader, is not fetched again for every record that names it; an unknown id is asked again after
 * {@link #UNKNOWN_ID_RETRY_NANOS} (the registry may have been restored meanwhile).
 */
public final class AvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {

  /** Key of the reader class when built by Kafka from a configuration map. */
  public static final String READER_CLASS = "flowsight.avro.reader.class";

  /** How long an unknown schema id is answered from memory before the registry is asked again. */
  static final long UNKNOWN_ID_RETRY_NANOS = 30_000_000_000L;

  static {
    // Before the first record is decoded: Avro reads its limits once.
    AvroLimits.install();
  }

  private WriterSchemas registry;
  private Schema readerSchema;
  private SpecificData model;
  private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

  /**
   * Schema ids that cannot be read, with the failure to repeat: for good, or until {@code
   * retryAtNanos} ({@link System#nanoTime()}).
   */
  private final Map<Integer, Refused> refused = new ConcurrentHashMap<>();

  private record Refused(SerdeException failure, boolean permanent, long retryAtNanos) {}

  /** For Kafka's reflective construction; {@link #configure} must be called before use. */
  public AvroDeserializer() {}

  public AvroDeserializer(WriterSchemas registry, Class<T> readerClass) {
    this.registry = registry;
    setReaderClass(readerClass);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    this.registry = new SchemaRegistryClient(RegistrySerdeConfig.fromMap(configs));
    Object className = configs.get(READER_CLASS);
    if (className == null) {
      throw new SerdeException(
          Reason.BAD_CONFIGURATION,
          READER_CLASS
              + " is missing: set it to the Avro class to read, e.g. "
              + "io.flowsight.schemas.FlowRecord");
    }
    try {
      @SuppressWarnings("unchecked")
      Class<T> cls =
          className instanceof Class<?> c
              ? (Class<T>) c
              : (Class<T>) Class.forName(className.toString().trim());
      setReaderClass(cls);
    } catch (ClassNotFoundException | ClassCastException e) {
      throw new SerdeException(
          Reason.BAD_CONFIGURATION,
          READER_CLASS + "=" + className + " is not an Avro specific record class on the classpath",
          e);
    }
  }

  private void setReaderClass(Class<T> readerClass) {
    this.model = SpecificData.getForClass(readerClass);
    this.readerSchema = model.getSchema(readerClass);
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    if (registry == null) {
      throw new SerdeException(
          Reason.BAD_CONFIGURATION, "AvroDeserializer used before configure() was called");
    }
    if (data.length < WireFormat.HEADER_SIZE) {
      throw new SerdeException(
          Reason.TRUNCATED,
          "record from topic "
              + topic
              + " is truncated: "
              + data.length
              + " bytes, but the wire format's header alone is "
              + WireFormat.HEADER_SIZE);
    }
    if (data[0] != WireFormat.MAGIC_BYTE) {
      throw new SerdeException(
          Reason.WRONG_MAGIC_BYTE,
          String.format(
              "record from topic %s starts with byte 0x%02x, not the magic byte 0x00 of the"
                  + " Confluent wire format: it was not written by a schema-registry serializer"
                  + " (plain JSON starts with 0x7b)",
              topic, data[0] & 0xff));
    }
    int id = ByteBuffer.wrap(data, 1, 4).getInt(); // big-endian
    DatumReader<T> reader = reader(id);
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(
                data, WireFormat.HEADER_SIZE, data.length - WireFormat.HEADER_SIZE, null);
    T record;
    try {
      record = reader.read(null, decoder);
    } catch (SystemLimitException | UnsupportedOperationException e) {
      // UnsupportedOperationException: Avro's check of a length beyond what a Java array holds.
      throw new SerdeException(
          Reason.LIMIT_EXCEEDED,
          "record from topic "
              + topic
              + " (schema id "
              + id
              + ", "
              + data.length
              + " bytes) has a length or count prefix beyond the decoder's limit: "
              + e.getMessage(),
          e);
    } catch (EOFException | ArrayIndexOutOfBoundsException e) {
      throw truncated(topic, id, data.length, e);
    } catch (IOException | AvroRuntimeException | IllegalArgumentException e) {
      if (e.getCause() instanceof EOFException) {
        throw truncated(topic, id, data.length, e);
      }
      throw new SerdeException(
          Reason.MALFORMED,
          "record from topic " + topic + " does not decode with schema id " + id + ": " + e,
          e);
    }
    try {
      if (!decoder.isEnd()) {
        throw new SerdeException(
            Reason.MALFORMED,
            "record from topic "
                + topic
                + " has bytes left after its Avro body (schema id "
                + id
                + "): it was written with another schema than the one its header names");
      }
    } catch (IOException e) {
      throw new SerdeException(Reason.MALFORMED, "cannot read record from topic " + topic, e);
    }
    return record;
  }

  private static SerdeException truncated(String topic, int id, int length, Exception e) {
    return new SerdeException(
        Reason.TRUNCATED,
        "record from topic "
            + topic
            + " is truncated: its Avro body (schema id "
            + id
            + ") ends early after "
            + length
            + " bytes",
        e);
  }

  private DatumReader<T> reader(int id) {
    DatumReader<T> reader = readers.get(id);
    if (reader != null) {
      return reader;
    }
    Refused known = refused.get(id);
    if (known != null && (known.permanent() || System.nanoTime() - known.retryAtNanos() < 0)) {
      throw known.failure();
    }
    try {
      reader = readers.computeIfAbsent(id, this::newReader);
      refused.remove(id);
      return reader;
    } catch (SerdeException e) {
      switch (e.reason()) {
        case UNPARSABLE_SCHEMA, WRONG_SCHEMA ->
            // A schema id's content never changes: this id stays unreadable.
            refused.put(id, new Refused(e, true, 0));
        case UNKNOWN_SCHEMA_ID ->
            refused.put(id, new Refused(e, false, System.nanoTime() + UNKNOWN_ID_RETRY_NANOS));
        default -> {
          // The registry's trouble, not the id's: ask again with the next record.
        }
      }
      throw e;
    }
  }

  private DatumReader<T> newReader(int id) {
    Schema writerSchema = registry.schemaById(id);
    SchemaPairCompatibility fit =
        SchemaCompatibility.checkReaderWriterCompatibility(readerSchema, writerSchema);
    if (fit.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      throw new SerdeException(
          Reason.WRONG_SCHEMA,
          "schema id "
              + id
              + " is "
              + describe(writerSchema)
              + ", which cannot be read as "
              + readerSchema.getFullName()
              + ": "
              + fit.getResult().getIncompatibilities().stream()
                  .map(i -> i.getType() + " at " + i.getLocation() + " (" + i.getMessage() + ")")
                  .findFirst()
                  .orElse(fit.getDescription()));
    }
    return new SpecificDatumReader<>(writerSchema, readerSchema, model);
  }

  private static String describe(Schema schema) {
    return switch (schema.getType()) {
      case RECORD, ENUM, FIXED -> "a " + schema.getType().getName() + " " + schema.getFullName();
      default -> "a " + schema.getType().getName();
    };
  }
}
