package io.flowsight.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads what the collector wrote: its JSON rows on the output topic up to a test's end marker, and
 * the number of records of a topic (its dead letters). {@code clientConfig} holds the broker's
 * address and, for a secured one, its security settings.
 */
final class AggregatedOutput {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The rows of one 4-tuple before the end marker, and their sums.
   *
   * @param unattributedRows rows whose client or server end is not attributed to its owner
   */
  record Totals(
      List<JsonNode> rows,
      long connections,
      long bytesClientToServer,
      long bytesServerToClient,
      long unattributedRows) {}

  private AggregatedOutput() {}

  /**
   * Reads {@code topic} from its start up to the end marker (the first row of {@code clientIp} to
   * {@code servicePort} in {@code markerWindow} or later) and sums the rows of that client and port
   * before it. The collector handles a 4-tuple's records in order and emits older windows' rows
   * first, so once the marker is read every earlier row is.
   *
   * @param diagnosis what to add to the failure when the marker does not come
   */
  static Totals awaitTotals(
      Map<String, Object> clientConfig,
      String topic,
      String clientIp,
      int servicePort,
      long markerWindow,
      Duration timeout,
      Supplier<String> diagnosis)
      throws IOException {
    Map<String, Object> config = new HashMap<>(clientConfig);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, "output-reader-" + UUID.randomUUID());
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<JsonNode> rows = new ArrayList<>();
    long connections = 0;
    long up = 0;
    long down = 0;
    long unattributed = 0;
    boolean marker = false;
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      while (!marker && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofSeconds(1))) {
          JsonNode row = JSON.readTree(r.value());
          if (marker
              || !clientIp.equals(row.path("clientIp").asText())
              || row.path("servicePort").asInt() != servicePort) {
            continue;
          }
          if (row.path("windowStart").asLong() >= markerWindow) {
            marker = true;
            continue;
          }
          rows.add(row);
          connections += row.path("connections").asLong();
          up += row.path("bytesClientToServer").asLong();
          down += row.path("bytesServerToClient").asLong();
          if (!"OWNER".equals(row.path("clientAttribution").asText())
              || !"OWNER".equals(row.path("serverAttribution").asText())) {
            unattributed++;
          }
        }
      }
    }
    if (!marker) {
      throw new AssertionError(
          "the end marker's row did not arrive within " + timeout + "; " + diagnosis.get());
    }
    return new Totals(rows, connections, up, down, unattributed);
  }

  /** The records in {@code topic} (committed ones), read to the end. */
  static long count(Map<String, Object> clientConfig, String topic) {
    Map<String, Object> config = new HashMap<>(clientConfig);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long records = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))
          && System.nanoTime() < deadline) {
        records += consumer.poll(Duration.ofMillis(500)).count();
      }
      return records;
    }
  }
}
