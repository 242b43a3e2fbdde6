package io.flowsight.forecast.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes forecast points to the forecast topic: one JSON object per record (the fields of {@link
 * ForecastPoint}, nulls left out), keyed by the series ({@link SeriesKey#text()}), so that Druid
 * ingests them as it ingests the aggregated flows. Idempotent, acks=all; {@link #write} returns
 * only when the broker has every record, or throws.
 */
public final class KafkaForecastSink implements AutoCloseable {

  private static final ObjectMapper JSON =
      new ObjectMapper().setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL);

  private final Producer<String, byte[]> producer;
  private final String topic;

  public KafkaForecastSink(
      String bootstrapServers, String topic, Map<String, String> securityProperties) {
    Map<String, Object> props = new HashMap<>(securityProperties);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "flowsight-forecast");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
    this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    this.topic = topic;
  }

  /** The JSON of one point, as the topic carries it. */
  public static byte[] json(ForecastPoint point) {
    try {
      return JSON.writeValueAsString(point).getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a forecast point did not serialize", e);
    }
  }

  /** Sends every point and waits until the broker has them all. */
  public void write(List<ForecastPoint> points, Duration timeout)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<Future<RecordMetadata>> sends =
        points.stream()
            .map(
                p ->
                    producer.send(new ProducerRecord<>(topic, null, p.issuedAt(), key(p), json(p))))
            .toList();
    producer.flush();
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Future<RecordMetadata> send : sends) {
      send.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }

  private static String key(ForecastPoint p) {
    return new SeriesKey(
            SeriesKey.Kind.valueOf(p.kind().toUpperCase(java.util.Locale.ROOT)),
            p.clientApp(),
            p.serverApp(),
            p.clientZone(),
            p.serverZone(),
            p.servicePort())
        .text();
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(30));
  }
}
