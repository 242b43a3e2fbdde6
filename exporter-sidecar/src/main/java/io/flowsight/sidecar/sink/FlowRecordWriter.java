package io.flowsight.sidecar.sink;

import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;

/**
 * Writes a {@link FlowRecord} field by field in the order of {@code FlowRecord.avsc}: the same
 * bytes as Avro's {@code SpecificDatumWriter}, at a fraction of its cost. The generated class has
 * no custom coders (its {@code timestamp-millis} fields rule them out), so the generic writer looks
 * every field up by schema, resolves every union by reflection on the value and converts every
 * {@link Instant}; on the sidecar that was half of the sender thread's CPU.
 *
 * <p>What stays the same from record to record is encoded once: the observer id and run id (the
 * same strings for a whole run) and the local workload's identity (one object per local IP, never
 * changed once made). Safe for several threads: each cache is one immutable pair, replaced whole.
 *
 * <p>Bound to the schema it was written for: {@link #WRITTEN_FOR} is the parsing fingerprint of
 * {@code FlowRecord.avsc}, and {@code FlowRecordWriterTest} fails when the schema changes (and
 * compares the bytes with the generic writer's over a table of records and random ones). A
 * different schema at run time falls back to the generic writer (see {@link #forSchema}).
 */
public final class FlowRecordWriter implements DatumWriter<FlowRecord> {

  /**
   * The {@link #fingerprint} of the FlowRecord schema written here: of its whole text, not only its
   * parsing form, which would not see a logical type change (millis to micros).
   */
  static final long WRITTEN_FOR = 0xad9393e58cc9a469L;

  /** This writer when {@code schema} is the one it was written for, else {@code null}. */
  public static FlowRecordWriter forSchema(Schema schema) {
    return fingerprint(schema) == WRITTEN_FOR ? new FlowRecordWriter() : null;
  }

  /** The fingerprint {@link #WRITTEN_FOR} is compared with: 64-bit Rabin of the schema's JSON. */
  static long fingerprint(Schema schema) {
    return SchemaNormalization.fingerprint64(schema.toString().getBytes(StandardCharsets.UTF_8));
  }

  private final CachedUtf8 observerId = new CachedUtf8();
  private final CachedUtf8 runId = new CachedUtf8();

  private final CachedIdentity localIdentity = new CachedIdentity();
  private final CachedIdentity pod = new CachedIdentity();

  @Override
  public void setSchema(Schema schema) {
    if (fingerprint(schema) != WRITTEN_FOR) {
      throw new IllegalArgumentException(
          "FlowRecordWriter writes FlowRecord as of fingerprint "
              + Long.toHexString(WRITTEN_FOR)
              + ", not "
              + schema.getFullName()
              + " with fingerprint "
              + Long.toHexString(fingerprint(schema)));
    }
  }

  @Override
  public void write(FlowRecord r, Encoder out) throws IOException {
    out.writeBytes(observerId.of(r.getObserverId()));
    out.writeBytes(runId.of(r.getSidecarRunId()));
    out.writeLong(r.getSequence());
    out.writeEnum(r.getKind().ordinal());
    out.writeEnum(r.getProtocol().ordinal());
    out.writeEnum(r.getAddressFamily().ordinal());
    out.writeBytes(r.getLocalIp());
    out.writeInt(r.getLocalPort());
    out.writeBytes(r.getRemoteIp());
    out.writeInt(r.getRemotePort());
    out.writeEnum(r.getSide().ordinal());
    out.writeInt(r.getServicePort());
    writeMillis(r.getConnectionStartTime(), out);
    writeMillis(r.getStartTime(), out);
    writeMillis(r.getEndTime(), out);
    out.writeLong(r.getBytesSent());
    out.writeLong(r.getBytesReceived());
    out.writeLong(r.getSegmentsSent());
    out.writeLong(r.getSegmentsReceived());
    out.writeLong(r.getRetransmits());
    out.writeInt(r.getSrttMicros());
    out.writeInt(r.getRttVarMicros());
    out.writeInt(r.getCongestionWindow());
    writeOptional(r.getConnectLatencyMicros(), out);
    writeOptional(r.getPid(), out);
    writeOptional(r.getProcessName(), out);
    writeOptional(r.getCgroupId(), out);
    writeOptional(r.getContainerId(), out);
    localIdentity.write(r.getLocalIdentity(), out);
    out.writeBoolean(r.getPartial());
    pod.write(r.getPod(), out);
  }

  private static void writeMillis(Instant instant, Encoder out) throws IOException {
    out.writeLong(instant.toEpochMilli()); // timestamp-millis: epoch milliseconds
  }

  // A nullable field is the union ["null", T]: branch 0 is null, branch 1 the value.

  private static void writeOptional(Long value, Encoder out) throws IOException {
    if (value == null) {
      out.writeIndex(0);
      out.writeNull();
    } else {
      out.writeIndex(1);
      out.writeLong(value);
    }
  }

  private static void writeOptional(Integer value, Encoder out) throws IOException {
    if (value == null) {
      out.writeIndex(0);
      out.writeNull();
    } else {
      out.writeIndex(1);
      out.writeInt(value);
    }
  }

  private static void writeOptional(String value, Encoder out) throws IOException {
    if (value == null) {
      out.writeIndex(0);
      out.writeNull();
    } else {
      out.writeIndex(1);
      out.writeString(value);
    }
  }

  private static void writeIdentityRecord(Identity id, Encoder out) throws IOException {
    out.writeString(id.getApp());
    writeOptional(id.getCluster(), out);
    writeOptional(id.getNamespace(), out);
    writeOptional(id.getWorkloadKind(), out);
    writeOptional(id.getWorkloadName(), out);
    writeOptional(id.getInstanceId(), out);
    writeOptional(id.getNode(), out);
    writeOptional(id.getZone(), out);
    writeOptional(id.getRegion(), out);
    writeOptional(id.getAccount(), out);
    Map<String, String> labels = id.getLabels();
    out.writeMapStart();
    out.setItemCount(labels.size());
    for (Map.Entry<String, String> label : labels.entrySet()) {
      out.startItem();
      out.writeString(label.getKey());
      out.writeString(label.getValue());
    }
    out.writeMapEnd();
  }

  /**
   * An optional identity's encoding (the union's branch included), kept while the same object comes
   * again: one per field, as a connection's local identity and its pod each stay the same object
   * for as long as they do not change.
   */
  private static final class CachedIdentity {
    private record Entry(Identity identity, byte[] bytes) {}

    private volatile Entry last;

    void write(Identity identity, Encoder out) throws IOException {
      if (identity == null) {
        out.writeIndex(0);
        out.writeNull();
        return;
      }
      Entry entry = last;
      if (entry == null || identity != entry.identity()) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(buffer, null);
        encoder.writeIndex(1);
        writeIdentityRecord(identity, encoder);
        encoder.flush();
        entry = new Entry(identity, buffer.toByteArray());
        last = entry;
      }
      out.writeFixed(entry.bytes());
    }
  }

  /** A string's UTF-8 bytes, kept while the same string object comes again. */
  private static final class CachedUtf8 {
    private record Entry(String string, byte[] utf8) {}

    private volatile Entry last = new Entry(null, null);

    byte[] of(String s) {
      Entry entry = last;
      if (s != entry.string()) {
        entry = new Entry(s, s.getBytes(StandardCharsets.UTF_8));
        last = entry;
      }
      return entry.utf8();
    }
  }
}
