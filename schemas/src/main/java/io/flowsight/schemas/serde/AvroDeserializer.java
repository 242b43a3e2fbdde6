package io.flowsight.schemas.serde;

import io.flowsight.schemas.serde.SerdeException.Reason;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
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
 * byte, a truncated record, an unknown schema id, an unreachable registry.
 */
public final class AvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {

  /** Key of the reader class when built by Kafka from a configuration map. */
  public static final String READER_CLASS = "flowsight.avro.reader.class";

  private SchemaRegistryClient registry;
  private Schema readerSchema;
  private SpecificData model;
  private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

  /** For Kafka's reflective construction; {@link #configure} must be called before use. */
  public AvroDeserializer() {}

  public AvroDeserializer(SchemaRegistryClient registry, Class<T> readerClass) {
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
    DatumReader<T> reader = readers.computeIfAbsent(id, this::newReader);
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(
                data, WireFormat.HEADER_SIZE, data.length - WireFormat.HEADER_SIZE, null);
    T record;
    try {
      record = reader.read(null, decoder);
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

  private DatumReader<T> newReader(int id) {
    Schema writerSchema = registry.schemaById(id);
    return new SpecificDatumReader<>(writerSchema, readerSchema, model);
  }
}
