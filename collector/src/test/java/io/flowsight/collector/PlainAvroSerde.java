package io.flowsight.collector;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** Plain Avro binary, no registry: the input serde of the topology in unit tests. */
final class PlainAvroSerde<T extends SpecificRecord> implements Serde<T> {

  private final SpecificDatumWriter<T> writer;
  private final SpecificDatumReader<T> reader;

  PlainAvroSerde(Class<T> type) {
    this.writer = new SpecificDatumWriter<>(type);
    this.reader = new SpecificDatumReader<>(type);
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, record) -> {
      if (record == null) {
        return null;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      try {
        writer.write(record, encoder);
        encoder.flush();
      } catch (IOException e) {
        throw new SerializationException(e);
      }
      return out.toByteArray();
    };
  }

  @Override
  public Deserializer<T> deserializer() {
    return (topic, bytes) -> {
      if (bytes == null) {
        return null;
      }
      BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, null);
      try {
        T record = reader.read(null, decoder);
        if (!decoder.isEnd()) {
          throw new SerializationException("bytes left after the record");
        }
        return record;
      } catch (IOException | RuntimeException e) {
        throw new SerializationException("not a plain Avro record: " + e, e);
      }
    };
  }
}
