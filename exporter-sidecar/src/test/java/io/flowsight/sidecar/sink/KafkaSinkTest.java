package io.flowsight.sidecar.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.FlowRecordHeaders;
import io.flowsight.sidecar.bench.QueuedRecordFootprint;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The sink's promises with Kafka's own in-memory producer: event time on the record, produce time
 * in a header, records kept and sent again after a retriable error, a loss counted only when Kafka
 * will never take the record.
 */
class KafkaSinkTest {

  private static final String TOPIC = "flows-raw-v1";
  private static final long BASE = 1_750_000_000_000L;

  /** Records inside the producer at most, small here so that a test fills it. */
  private static final int IN_FLIGHT = 4;

  private final SidecarMetrics metrics = new SidecarMetrics();
  private final MockProducer<String, FlowRecord> producer =
      new MockProducer<>(false, null, new StringSerializer(), noSerializer());
  private KafkaSink sink;

  @AfterEach
  void close() {
    if (sink != null) {
      sink.close();
    }
  }

  private KafkaSink sink(int buffer) {
    sink = new KafkaSink(producer, TOPIC, buffer, metrics, IN_FLIGHT, Duration.ofMillis(200));
    return sink;
  }

  @Test
  void shouldStampEachRecordWithItsEndTimeAndTheProduceTimeInAHeader() {
    sink(10);
    FlowRecord record = record(1, BASE);
    long before = System.currentTimeMillis();
    sink.accept(record);
    await(() -> producer.history().size() == 1);
    ProducerRecord<String, FlowRecord> sent = producer.history().get(0);
    assertThat(sent.timestamp()).isEqualTo(record.getEndTime().toEpochMilli());
    assertThat(sent.key()).isEqualTo("10.1.0.1");
    long producedAt =
        FlowRecordHeaders.producedAt(
            sent.headers().lastHeader(FlowRecordHeaders.PRODUCED_AT).value(), -1);
    assertThat(producedAt).isBetween(before, System.currentTimeMillis());
    producer.completeNext();
    await(() -> sink.unacknowledged() == 0);
    assertThat(metrics.value("flowsight_sidecar_records_produced_total")).isEqualTo(1);
  }

  @Test
  void shouldSendARecordAgainWhenKafkaGaveItBackWithARetriableError() {
    sink(10);
    for (int i = 0; i < 3; i++) {
      sink.accept(record(i, BASE + i));
    }
    await(() -> producer.history().size() == 3);
    // The broker went away long enough for the first batch to time out.
    assertThat(producer.errorNext(new TimeoutException("no broker"))).isTrue();
    await(() -> producer.history().size() == 4);
    while (producer.completeNext()) {
      // acknowledge everything, the resent record included
    }
    await(() -> sink.unacknowledged() == 0);
    List<Long> sentSequences =
        producer.history().stream().map(r -> r.value().getSequence()).toList();
    assertThat(sentSequences).containsExactly(0L, 1L, 2L, 0L);
    assertThat(metrics.value("flowsight_sidecar_records_produced_total")).isEqualTo(3);
    assertThat(metrics.value("flowsight_sidecar_producer_errors_total")).isZero();
    assertThat(metrics.value("flowsight_sidecar_output_dropped_total")).isZero();
  }

  @Test
  void shouldCountARecordKafkaWillNeverTakeAsLostByItsError() {
    sink(10);
    sink.accept(record(0, BASE));
    sink.accept(record(1, BASE));
    await(() -> producer.history().size() == 2);
    producer.errorNext(new RecordTooLargeException("too large"));
    producer.completeNext();
    await(() -> sink.unacknowledged() == 0);
    assertThat(producer.history()).hasSize(2);
    assertThat(
            metrics.value(
                "flowsight_sidecar_producer_errors_total", "error", "RecordTooLargeException"))
        .isEqualTo(1);
    assertThat(metrics.value("flowsight_sidecar_records_produced_total")).isEqualTo(1);
  }

  @Test
  void shouldShowTheAgeOfTheOldestUnacknowledgedRecordAndCountWhatIsHeldAtShutdown() {
    sink(10);
    long now = System.currentTimeMillis();
    sink.accept(record(0, now - 90_000));
    sink.accept(record(1, now - 30_000));
    await(() -> producer.history().size() == 2);
    assertThat(metrics.value("flowsight_sidecar_output_oldest_record_age_seconds"))
        .isBetween(89.0, 120.0);
    producer.completeNext();
    await(() -> metrics.value("flowsight_sidecar_output_oldest_record_age_seconds") < 60.0);
    assertThat(metrics.value("flowsight_sidecar_output_oldest_record_age_seconds"))
        .isBetween(29.0, 60.0);
    sink.close();
    sink = null;
    assertThat(metrics.value("flowsight_sidecar_output_lost_at_shutdown_total")).isEqualTo(1);
  }

  @Test
  void shouldDropAndCountOnlyWhatDoesNotFitTheBuffer() {
    sink(2);
    // The sender takes one record into its hands at most while the producer holds IN_FLIGHT.
    for (int i = 0; i < IN_FLIGHT; i++) {
      sink.accept(record(i, BASE));
      int sent = i + 1;
      await(() -> producer.history().size() == sent);
    }
    sink.accept(record(IN_FLIGHT, BASE));
    await(() -> sink.queued() == 0); // taken into the sender's hands
    for (int i = 1; i < 5; i++) {
      sink.accept(record(IN_FLIGHT + i, BASE));
    }
    // One in the sender's hands (waiting for room in the producer), two queued: two dropped.
    await(() -> metrics.value("flowsight_sidecar_output_dropped_total") == 2);
    while (producer.completeNext()) {
      // free the producer
    }
    await(() -> producer.history().size() == IN_FLIGHT + 3);
    while (producer.completeNext()) {
      // the rest
    }
    await(() -> sink.unacknowledged() == 0);
    assertThat(metrics.value("flowsight_sidecar_records_produced_total")).isEqualTo(IN_FLIGHT + 3);
    assertThat(metrics.value("flowsight_sidecar_output_dropped_total")).isEqualTo(2);
  }

  private static FlowRecord record(int sequence, long endMs) {
    FlowRecord r = QueuedRecordFootprint.record(sequence, "host", "run", null, endMs - 250);
    r.setSequence(sequence);
    r.setLocalIp(java.nio.ByteBuffer.wrap(new byte[] {10, 1, 0, 1}));
    return r;
  }

  private static void await(BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 10 s");
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** The mock producer never serializes values here: records stay objects. */
  private static Serializer<FlowRecord> noSerializer() {
    return (topic, data) -> new byte[0];
  }

  @Test
  void shouldConnectWithTheGivenSecurityAndKeepItsOwnProducerSettings() {
    Map<String, Object> config =
        KafkaSink.producerConfig(
            "broker:9093", Map.of("security.protocol", "SSL", "ssl.truststore.type", "PEM"));

    assertThat(config)
        .containsEntry("bootstrap.servers", "broker:9093")
        .containsEntry("security.protocol", "SSL")
        .containsEntry("ssl.truststore.type", "PEM")
        .containsEntry("acks", "all")
        .containsEntry("enable.idempotence", true);
    assertThat(KafkaSink.producerConfig("broker:9092", Map.of()))
        .doesNotContainKey("security.protocol");
  }
}
