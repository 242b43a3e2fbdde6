package io.flowsight.collector.internals;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A record the collector could not use, as written to the dead-letter topic: the original key as
 * the key, a JSON envelope as the value, and the same facts as headers (so tools can route on them
 * without parsing):
 *
 * <pre>
 * {"reason": "undecodable" | "invalid" | "too-late" | "key-mismatch",
 *  "detail": "what exactly is wrong",
 *  "sourceTopic": "flows-raw-v1", "partition": 3, "offset": 1234, "timestamp": 1767225600000,
 *  "deadLetteredAt": 1767225601234,
 *  "key": "10.1.2.3" (UTF-8 text of the key, null when none),
 *  "valueBase64": "AAAAAAE..." (the original value bytes, null for a tombstone)}
 * </pre>
 *
 * Headers: {@code flowsight.dlq.reason}, {@code flowsight.dlq.topic}, {@code
 * flowsight.dlq.partition}, {@code flowsight.dlq.offset} (UTF-8 text).
 */
public record DeadLetter(
    String reason,
    String detail,
    String sourceTopic,
    int partition,
    long offset,
    long timestamp,
    long deadLetteredAt,
    byte[] key,
    byte[] value) {

  public static final String UNDECODABLE = "undecodable";
  public static final String INVALID = "invalid";
  public static final String TOO_LATE = "too-late";
  public static final String KEY_MISMATCH = "key-mismatch";

  public static final String HEADER_REASON = "flowsight.dlq.reason";
  public static final String HEADER_TOPIC = "flowsight.dlq.topic";
  public static final String HEADER_PARTITION = "flowsight.dlq.partition";
  public static final String HEADER_OFFSET = "flowsight.dlq.offset";

  private static final JsonFactory JSON = new JsonFactory();

  public byte[] envelope() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + (value == null ? 0 : value.length));
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("reason", reason);
      g.writeStringField("detail", detail);
      g.writeStringField("sourceTopic", sourceTopic);
      g.writeNumberField("partition", partition);
      g.writeNumberField("offset", offset);
      g.writeNumberField("timestamp", timestamp);
      g.writeNumberField("deadLetteredAt", deadLetteredAt);
      g.writeStringField("key", key == null ? null : new String(key, StandardCharsets.UTF_8));
      g.writeStringField(
          "valueBase64", value == null ? null : Base64.getEncoder().encodeToString(value));
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public Headers headers() {
    RecordHeaders headers = new RecordHeaders();
    headers.add(HEADER_REASON, utf8(reason));
    headers.add(HEADER_TOPIC, utf8(sourceTopic));
    headers.add(HEADER_PARTITION, utf8(Integer.toString(partition)));
    headers.add(HEADER_OFFSET, utf8(Long.toString(offset)));
    return headers;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
