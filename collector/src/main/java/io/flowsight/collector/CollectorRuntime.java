package io.flowsight.collector;

import io.flowsight.collector.config.CollectorConfig;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.ops.OpsServer;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires a topology into a running {@link KafkaStreams}: properties, metrics, health. */
public final class CollectorRuntime {

  private static final Logger log = LoggerFactory.getLogger(CollectorRuntime.class);

  private CollectorRuntime() {}

  /**
   * The Kafka Streams properties of the collector: exactly-once (v2), the configured threads, state
   * directory and commit interval, then the user's {@code --kafka-property} overrides.
   */
  public static Properties streamsProperties(CollectorConfig c) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, c.applicationId());
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, c.threads());
    p.put(StreamsConfig.STATE_DIR_CONFIG, c.stateDir().toString());
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, c.commitInterval().toMillis());
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) c.replicationFactor());
    p.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, SafeTimestampExtractor.class);
    // Process what has arrived: the collector does not depend on the order across its inputs.
    p.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, -1L);
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 64L * 1024 * 1024);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 10);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 256 * 1024);
    c.kafkaProperties().forEach(p::put);
    return p;
  }

  /**
   * A registry-side failure (schema registry unreachable) or another infrastructure error stops a
   * stream thread: replace it after a pause, so it retries from the last commit.
   */
  public static void handleThreadFailures(KafkaStreams streams) {
    streams.setUncaughtExceptionHandler(
        e -> {
          log.error("stream thread failed, replacing it in 5 s: {}", e.toString(), e);
          try {
            Thread.sleep(5_000);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
          }
          return StreamThreadExceptionResponse.REPLACE_THREAD;
        });
  }

  /**
   * Registers the metrics read from Kafka Streams at scrape time: the consumer lag (records behind
   * the end of each input and internal topic, summed over this instance's partitions) and the
   * application's state.
   */
  public static void bridgeMetrics(KafkaStreams streams, CollectorMetrics metrics) {
    GaugeWithCallback.builder()
        .name("flowsight_collector_consumer_lag_records")
        .help(
            "Records this instance is behind the end of each topic it reads (sum over its"
                + " partitions; from the consumers' records-lag)")
        .labelNames("topic")
        .callback(
            callback -> {
              Map<String, Double> byTopic = new HashMap<>();
              for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
                MetricName name = e.getKey();
                String client = name.tags().getOrDefault("client-id", "");
                if (!name.name().equals("records-lag")
                    || !name.group().equals("consumer-fetch-manager-metrics")
                    || client.contains("restore-consumer")
                    || !name.tags().containsKey("partition")) {
                  continue;
                }
                Object value = e.getValue().metricValue();
                if (value instanceof Number n && !Double.isNaN(n.doubleValue())) {
                  byTopic.merge(name.tags().get("topic"), n.doubleValue(), Double::sum);
                }
              }
              byTopic.forEach((topic, lag) -> callback.call(lag, topic));
            })
        .register(metrics.registry());
    GaugeWithCallback.builder()
        .name("flowsight_collector_streams_state")
        .help("1 for the Kafka Streams state the collector is in (RUNNING, REBALANCING, ERROR...)")
        .labelNames("state")
        .callback(callback -> callback.call(1, streams.state().name()))
        .register(metrics.registry());
  }

  /** Healthy while running or rebalancing. */
  public static OpsServer.Health health(KafkaStreams streams) {
    KafkaStreams.State state = streams.state();
    boolean healthy =
        state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING;
    long threads = streams.metadataForLocalThreads().size();
    return new OpsServer.Health(
        healthy,
        "{\"healthy\":" + healthy + ",\"state\":\"" + state + "\",\"threads\":" + threads + "}");
  }

  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
}
