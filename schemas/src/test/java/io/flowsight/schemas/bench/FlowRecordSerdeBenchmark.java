package io.flowsight.schemas.bench;

import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.testing.SampleFlows;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Serialize + deserialize of one {@link FlowRecord} (records/s): the registry serde in the
 * Confluent wire format, against plain Avro binary of the same records as the baseline in the same
 * run. The registry is asked once, in setup; the measured loop never touches the network.
 *
 * <p>Run: {@code ./flowsight bench serde} (needs the local stack's registry, or set {@code
 * -Dregistry.url=...}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx512m"})
public class FlowRecordSerdeBenchmark {

  private static final String TOPIC = "flows-raw-v1-bench";

  private FlowRecord[] records;
  private int next;
  private AvroSerializer<FlowRecord> serializer;
  private AvroDeserializer<FlowRecord> deserializer;
  private final SpecificDatumWriter<FlowRecord> plainWriter =
      new SpecificDatumWriter<>(FlowRecord.class);
  private final SpecificDatumReader<FlowRecord> plainReader =
      new SpecificDatumReader<>(FlowRecord.class);

  @Setup(Level.Trial)
  public void setUp() {
    String url = System.getProperty("registry.url", "http://127.0.0.1:8081/apis/ccompat/v7");
    SchemaRegistryClient registry = new SchemaRegistryClient(RegistrySerdeConfig.of(url));
    serializer = new AvroSerializer<>(registry, false);
    deserializer = new AvroDeserializer<>(registry, FlowRecord.class);
    SampleFlows samples = new SampleFlows(1);
    records = new FlowRecord[1024];
    for (int i = 0; i < records.length; i++) {
      records[i] = samples.next();
    }
    // Registers the schema and warms the id cache outside the measurement.
    deserializer.deserialize(TOPIC, serializer.serialize(TOPIC, records[0]));
  }

  private FlowRecord nextRecord() {
    FlowRecord record = records[next];
    next = (next + 1) & (records.length - 1);
    return record;
  }

  /** The project's serde: wire-format header, cached schema id, Avro binary, and back. */
  @Benchmark
  public FlowRecord registrySerdeRoundTrip() {
    return deserializer.deserialize(TOPIC, serializer.serialize(TOPIC, nextRecord()));
  }

  /** Baseline: plain Avro binary encoding and decoding of the same records, no header. */
  @Benchmark
  public FlowRecord plainAvroRoundTrip() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    plainWriter.write(nextRecord(), encoder);
    encoder.flush();
    return plainReader.read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
  }
}
