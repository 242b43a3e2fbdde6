package io.flowsight.sidecar.bench;

import io.flowsight.schemas.FlowRecord;
import io.flowsight.sidecar.sink.FlowRecordWriter;
import io.flowsight.testing.SampleFlows;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What encoding one flow record costs the sidecar's sender thread (ns/record): the wire-format
 * header and the Avro body into a fresh byte array, as {@code AvroSerializer} does for every
 * record. The baseline, measured in the same run, is Avro's generic writer through the direct
 * encoder (the sidecar's encoding before); the others change one thing each.
 *
 * <p>Run: {@code ./flowsight bench encoding} (C2, the JVM's default) and {@code ./flowsight bench
 * encoding -jvmArgsAppend -XX:TieredStopAtLevel=1} (C1 only, the sidecar's production flag).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx64m", "-XX:+UseSerialGC"})
public class RecordEncodingBenchmark {

  private final DatumWriter<FlowRecord> avro =
      new SpecificDatumWriter<>(FlowRecord.SCHEMA$, SpecificData.getForSchema(FlowRecord.SCHEMA$));
  private final DatumWriter<FlowRecord> fieldByField = new FlowRecordWriter();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream(512);
  private BinaryEncoder direct;
  private BinaryEncoder buffered;
  private FlowRecord[] records;
  private int next;

  @Setup
  public void setUp() {
    SampleFlows samples = new SampleFlows(1);
    records = new FlowRecord[1024];
    for (int i = 0; i < records.length; i++) {
      records[i] = samples.next();
    }
    // As on a host: a few local IPs, each with one identity object that every record shares.
    for (int i = 4; i < records.length; i++) {
      records[i].setLocalIdentity(records[i % 4].getLocalIdentity());
    }
  }

  private FlowRecord nextRecord() {
    FlowRecord record = records[next];
    next = (next + 1) & (records.length - 1);
    return record;
  }

  private byte[] encode(DatumWriter<FlowRecord> writer, BinaryEncoder encoder) throws IOException {
    writer.write(nextRecord(), encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private void header() {
    out.reset();
    out.write(0); // magic byte
    out.write(0); // schema id 42, big-endian
    out.write(0);
    out.write(0);
    out.write(42);
  }

  /** Baseline: Avro's writer, direct encoder (one stream write per byte). */
  @Benchmark
  public byte[] avroWriterDirectEncoder() throws IOException {
    header();
    direct = EncoderFactory.get().directBinaryEncoder(out, direct);
    return encode(avro, direct);
  }

  /** Avro's writer, buffered encoder. */
  @Benchmark
  public byte[] avroWriterBufferedEncoder() throws IOException {
    header();
    buffered = EncoderFactory.get().binaryEncoder(out, buffered);
    return encode(avro, buffered);
  }

  /** The sidecar's writer, direct encoder. */
  @Benchmark
  public byte[] fieldByFieldDirectEncoder() throws IOException {
    header();
    direct = EncoderFactory.get().directBinaryEncoder(out, direct);
    return encode(fieldByField, direct);
  }

  /** The sidecar's encoding now: its writer, buffered encoder. */
  @Benchmark
  public byte[] fieldByFieldBufferedEncoder() throws IOException {
    header();
    buffered = EncoderFactory.get().binaryEncoder(out, buffered);
    return encode(fieldByField, buffered);
  }
}
