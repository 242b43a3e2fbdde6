package io.flowsight.collector.attribution;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
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
 *  "key": "10.1.2.3" (UTF-8 text of the key, at most 1 KiB of it, null when none),
 *  "keySize": 8 (bytes of the original key),
 *  "valueBase64": "AAAAAAE..." (the original value bytes, at most the first 64 KiB of them; null
 *                              for a tombstone),
 *  "valueSize": 143 (bytes of the original value), "valueTruncated": false,
 *  "valueSha256": "9f86d0..." (hex SHA-256 of the whole original value)}
 * </pre>
 *
 * The envelope is bounded ({@link #MAX_ENVELOPE_BYTES}) whatever the poison: a value near the
 * broker's message size, base64-encoded and wrapped, would not fit in the dead-letter topic, and
 * under exactly-once a record the broker refuses aborts the whole transaction, which would then be
 * retried with the same record forever. A longer value keeps its first {@link #MAX_VALUE_BYTES}
 * bytes, its size and its digest; a key longer than {@link #MAX_KEY_BYTES} is not used as the dead
 * letter's key ({@link #kafkaKey()} is null) and its text is cut in the envelope; the detail is cut
 * at {@link #MAX_DETAIL_CHARS} characters.
 *
 * <p>Headers: {@code flowsight.dlq.reason}, {@code flowsight.dlq.topic}, {@code
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

  /** The most bytes of the original value a dead letter keeps: 64 KiB. */
  public static final int MAX_VALUE_BYTES = 64 * 1024;

  /** The longest key a dead letter keeps as its key, in bytes. */
  public static final int MAX_KEY_BYTES = 1024;

  /** The longest detail, in characters. */
  public static final int MAX_DETAIL_CHARS = 2000;

  /**
   * An upper bound of {@link #envelope()}'s size plus headers, in bytes: the base64 of {@link
   * #MAX_VALUE_BYTES} (87,384), the detail and the key text escaped as JSON at worst (6 bytes a
   * character), a topic name (at most 249 characters) and the fixed fields. The dead-letter topic's
   * {@code max.message.bytes} must be at least this.
   */
  public static final int MAX_ENVELOPE_BYTES = 128 * 1024;

  private static final JsonFactory JSON = new JsonFactory();
  private static final HexFormat HEX = HexFormat.of();

  /** The dead letter's Kafka key: the original key, or null when it is longer than 1 KiB. */
  public byte[] kafkaKey() {
    return key == null || key.length > MAX_KEY_BYTES ? null : key;
  }

  /** Whether the envelope keeps only a prefix of the original value. */
  public boolean valueTruncated() {
    return value != null && value.length > MAX_VALUE_BYTES;
  }

  public byte[] envelope() {
    int kept = value == null ? 0 : Math.min(value.length, MAX_VALUE_BYTES);
    ByteArrayOutputStream out = new ByteArrayOutputStream(512 + kept * 4 / 3);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("reason", reason);
      g.writeStringField(
          "detail",
          detail == null || detail.length() <= MAX_DETAIL_CHARS
              ? detail
              : detail.substring(0, MAX_DETAIL_CHARS) + "… (cut)");
      g.writeStringField("sourceTopic", sourceTopic);
      g.writeNumberField("partition", partition);
      g.writeNumberField("offset", offset);
      g.writeNumberField("timestamp", timestamp);
      g.writeNumberField("deadLetteredAt", deadLetteredAt);
      g.writeStringField(
          "key",
          key == null
              ? null
              : new String(key, 0, Math.min(key.length, MAX_KEY_BYTES), StandardCharsets.UTF_8));
      if (key == null) {
        g.writeNullField("keySize");
      } else {
        g.writeNumberField("keySize", key.length);
      }
      if (value == null) {
        g.writeNullField("valueBase64");
        g.writeNullField("valueSize");
        g.writeBooleanField("valueTruncated", false);
        g.writeNullField("valueSha256");
      } else {
        g.writeStringField(
            "valueBase64", Base64.getEncoder().encodeToString(Arrays.copyOf(value, kept)));
        g.writeNumberField("valueSize", value.length);
        g.writeBooleanField("valueTruncated", kept < value.length);
        g.writeStringField("valueSha256", HEX.formatHex(sha256(value)));
      }
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

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
