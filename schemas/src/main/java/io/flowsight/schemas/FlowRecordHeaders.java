package io.flowsight.schemas;

import java.nio.ByteBuffer;

/**
 * The Kafka record headers a sidecar puts on every {@link FlowRecord} of {@code flows-raw-v1}, part
 * of the topic's contract like the Avro schema.
 *
 * <p>The record's Kafka timestamp is the flow's {@code endTime} (event time): a record held back by
 * a broker outage keeps the time of what it reports. When the sidecar handed the record to Kafka is
 * a header of its own, {@value #PRODUCED_AT}: 8 bytes, the epoch milliseconds as a big-endian
 * signed long, on the sidecar's clock.
 */
public final class FlowRecordHeaders {

  /** Header with the produce time: epoch ms, 8 bytes big-endian. */
  public static final String PRODUCED_AT = "flowsight.produced-at";

  private FlowRecordHeaders() {}

  /** The header value for {@code epochMs}. */
  public static byte[] producedAt(long epochMs) {
    return ByteBuffer.allocate(Long.BYTES).putLong(epochMs).array();
  }

  /**
   * The produce time in a header value, or {@code fallback} when the value is missing or is not 8
   * bytes (a record from a producer that does not set the header).
   */
  public static long producedAt(byte[] value, long fallback) {
    if (value == null || value.length != Long.BYTES) {
      return fallback;
    }
    return ByteBuffer.wrap(value).getLong();
  }
}
