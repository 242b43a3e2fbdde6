package io.flowsight.collector;

import io.flowsight.collector.config.CollectorConfig;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.ops.OpsServer;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
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

  /** How long a stream thread waits for a broker that is away before its send fails: 15 min. */
  static final int BROKER_WAIT_MS = 15 * 60 * 1000;

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
    // The broker away: a stream thread waits for it in its sends and commits rather than failing
    // after a minute. A thread that fails while the broker is away cannot leave its consumer
    // group, and the group's next rebalance waits for the dead member (up to
    // max.poll.interval.ms, 5 minutes) with nothing processed meanwhile.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_BLOCK_MS_CONFIG), BROKER_WAIT_MS);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG), BROKER_WAIT_MS);
    // A dead letter Kafka refuses for itself is dropped and counted, not a stopped thread.
    p.put(
        StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DeadLetterProductionExceptionHandler.class);
    p.put(DeadLetterProductionExceptionHandler.DEAD_LETTER_TOPIC, c.deadLetterTopic());
    c.kafkaProperties().forEach(p::put);
    return p;
  }

  /**
   * The properties of the collector's own admin client (it creates and checks the topics before the
   * streams start): of the client properties ({@code --kafka-security-protocol} and the rest, and
   * {@code --kafka-property}), those an admin client knows, so that it connects as the stream
   * threads do; {@code admin.}-prefixed ones win, as in Kafka Streams.
   */
  public static Map<String, Object> adminProperties(CollectorConfig c) {
    Set<String> known = AdminClientConfig.configNames();
    Map<String, Object> out = new HashMap<>();
    c.kafkaProperties()
        .forEach(
            (k, v) -> {
              if (known.contains(k)) {
                out.put(k, v);
              }
            });
    c.kafkaProperties()
        .forEach(
            (k, v) -> {
              String name = k.substring(StreamsConfig.ADMIN_CLIENT_PREFIX.length());
              if (k.startsWith(StreamsConfig.ADMIN_CLIENT_PREFIX) && known.contains(name)) {
                out.put(name, v);
              }
            });
    return out;
  }

  /**
   * A stream thread that fails is replaced after a pause, and retries from the last commit: a
   * registry or broker that cannot be reached is waited for (DEGRADED), a failure that keeps
   * recurring for the same cause turns {@code /health} DOWN ({@link CollectorHealth}).
   */
  public static void handleThreadFailures(
      KafkaStreams streams, CollectorHealth health, CollectorMetrics metrics) {
    streams.setUncaughtExceptionHandler(
        e -> {
          CollectorHealth.Failure failure = health.threadFailed(e, System.currentTimeMillis());
          metrics.threadReplaced(failure.infrastructure());
          log.error(
              "stream thread failed ({}), replacing it in 5 s: {}",
              failure.infrastructure() ? "infrastructure" : "fault",
              failure.description(),
              e);
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

  /**
   * 200 while Kafka Streams is running or rebalancing and no thread keeps failing for the same
   * cause (status UP, or DEGRADED while the broker or registry is away); else 503 (DOWN), with the
   * reason.
   */
  public static OpsServer.Health health(KafkaStreams streams, CollectorHealth health) {
    return health(streams, health, null);
  }

  /** The same, with the warnings of {@code metrics} (records in wrong partitions). */
  public static OpsServer.Health health(
      KafkaStreams streams, CollectorHealth health, CollectorMetrics metrics) {
    KafkaStreams.State state = streams.state();
    boolean running =
        state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING;
    long threads = streams.metadataForLocalThreads().size();
    CollectorHealth.Verdict verdict = health.verdict(System.currentTimeMillis());
    CollectorHealth.Status status = running ? verdict.status() : CollectorHealth.Status.DOWN;
    String reason =
        running ? verdict.reason() : "Kafka Streams is " + state + ", not RUNNING or REBALANCING";
    boolean healthy = status != CollectorHealth.Status.DOWN;
    StringBuilder json =
        new StringBuilder()
            .append("{\"healthy\":")
            .append(healthy)
            .append(",\"status\":\"")
            .append(status)
            .append("\",\"state\":\"")
            .append(state)
            .append("\",\"threads\":")
            .append(threads)
            .append(",\"reason\":");
    if (reason == null) {
      json.append("null");
    } else {
      json.append('"').append(jsonEscape(reason)).append('"');
    }
    json.append(",\"warnings\":[");
    String warning = metrics == null ? null : metrics.misroutedWarning(System.currentTimeMillis());
    if (warning != null) {
      json.append('"').append(jsonEscape(warning)).append('"');
    }
    json.append(']');
    return new OpsServer.Health(healthy, json.append('}').toString());
  }

  private static String jsonEscape(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (ch < 0x20) {
            out.append(String.format("\\u%04x", (int) ch));
          } else {
            out.append(ch);
          }
        }
      }
    }
    return out.toString();
  }

  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
}
