package io.flowsight.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.collector.attribution.DeadLetter;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.ProductionExceptionHandlerResponse;
import org.junit.jupiter.api.Test;

/** A dead letter fits in its topic whatever the poison, and one Kafka refuses does not stop. */
class DeadLetterBoundsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldKeepABoundedPrefixTheSizeAndTheDigestOfAHugeValueKeyAndDetail() throws Exception {
    byte[] value = new byte[1_048_000];
    Arrays.fill(value, (byte) '"'); // escaped in nothing (base64), but worst for a naive bound
    byte[] key = new byte[5000];
    Arrays.fill(key, (byte) '\\'); // each one escaped as two characters in JSON
    String detail = "\u0001".repeat(10_000); // each one escaped as six characters
    DeadLetter letter =
        new DeadLetter(DeadLetter.UNDECODABLE, detail, "t".repeat(249), 1, 2, 3, 4, key, value);

    byte[] envelope = letter.envelope();

    assertThat(envelope.length).isLessThan(DeadLetter.MAX_ENVELOPE_BYTES);
    JsonNode json = JSON.readTree(envelope);
    assertThat(json.get("valueSize").asInt()).isEqualTo(value.length);
    assertThat(json.get("valueTruncated").asBoolean()).isTrue();
    assertThat(json.get("valueSha256").asText()).hasSize(64);
    assertThat(java.util.Base64.getDecoder().decode(json.get("valueBase64").asText()))
        .hasSize(DeadLetter.MAX_VALUE_BYTES);
    assertThat(json.get("keySize").asInt()).isEqualTo(5000);
    assertThat(json.get("key").asText()).hasSize(DeadLetter.MAX_KEY_BYTES);
    assertThat(json.get("detail").asText()).endsWith("(cut)");
    assertThat(letter.kafkaKey()).isNull();
  }

  @Test
  void shouldKeepASmallRecordWhole() throws Exception {
    byte[] value = "{\"x\":1}".getBytes(StandardCharsets.UTF_8);
    DeadLetter letter =
        new DeadLetter(
            DeadLetter.UNDECODABLE,
            "WRONG_MAGIC_BYTE",
            "flows",
            0,
            7,
            1,
            2,
            "10.1.0.1".getBytes(StandardCharsets.UTF_8),
            value);

    JsonNode json = JSON.readTree(letter.envelope());

    assertThat(json.get("valueTruncated").asBoolean()).isFalse();
    assertThat(java.util.Base64.getDecoder().decode(json.get("valueBase64").asText()))
        .isEqualTo(value);
    assertThat(json.get("valueSize").asInt()).isEqualTo(value.length);
    assertThat(new String(letter.kafkaKey(), StandardCharsets.UTF_8)).isEqualTo("10.1.0.1");
  }

  @Test
  void shouldDropADeadLetterKafkaRefusesRetryWhatIsRetriableAndFailOnEverythingElse() {
    CollectorMetrics metrics = new CollectorMetrics();
    DeadLetterProductionExceptionHandler handler = new DeadLetterProductionExceptionHandler();
    handler.configure(
        Map.of(
            DeadLetterProductionExceptionHandler.DEAD_LETTER_TOPIC,
            "dlq",
            DeadLetterProductionExceptionHandler.METRICS,
            metrics));
    ProducerRecord<byte[], byte[]> letter = new ProducerRecord<>("dlq", new byte[2_000_000]);
    ProducerRecord<byte[], byte[]> row = new ProducerRecord<>("output", new byte[2_000_000]);

    assertThat(handler.handle(null, letter, new RecordTooLargeException("too large")))
        .isEqualTo(ProductionExceptionHandlerResponse.CONTINUE);
    assertThat(handler.handle(null, letter, new InvalidRecordException("null key, compacted")))
        .isEqualTo(ProductionExceptionHandlerResponse.CONTINUE);
    assertThat(handler.handle(null, row, new RecordTooLargeException("too large")))
        .isEqualTo(ProductionExceptionHandlerResponse.FAIL);
    assertThat(handler.handle(null, row, new AuthorizationException("not allowed")))
        .isEqualTo(ProductionExceptionHandlerResponse.FAIL);
    // The broker away: the task is processed again on the same thread, not failed.
    assertThat(handler.handle(null, row, new TimeoutException("broker away")))
        .isEqualTo(ProductionExceptionHandlerResponse.RETRY);
    assertThat(handler.handle(null, letter, new NotLeaderOrFollowerException("moved")))
        .isEqualTo(ProductionExceptionHandlerResponse.RETRY);

    assertThat(unwritten(metrics, "too_large")).isEqualTo(1);
    assertThat(unwritten(metrics, "invalid_record")).isEqualTo(1);
  }

  private static double unwritten(CollectorMetrics metrics, String reason) {
    for (MetricSnapshot s : metrics.registry().scrape()) {
      if (s.getMetadata().getName().equals("flowsight_collector_dead_letters_unwritten")) {
        for (var p : s.getDataPoints()) {
          if (reason.equals(p.getLabels().get("reason"))) {
            return ((CounterSnapshot.CounterDataPointSnapshot) p).getValue();
          }
        }
      }
    }
    return 0;
  }
}
