package io.flowsight.collector.config;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.ops.OpsSecurity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The collector's validated configuration (from {@link CollectorOptions}).
 *
 * @param bootstrapServers Kafka bootstrap servers ({@code --bootstrap-servers})
 * @param registryUrl schema registry, Confluent-compatible API ({@code --registry-url})
 * @param flowsTopic raw flow records ({@code --flows-topic})
 * @param identityTopic IP identity changes ({@code --identity-topic})
 * @param outputTopic the aggregates, JSON ({@code --output-topic})
 * @param deadLetterTopic the dead letters ({@code --dlq-topic})
 * @param applicationId Kafka Streams application id: the consumer group, and the prefix of the
 *     internal topics; instances with the same id share the work ({@code --application-id})
 * @param window aggregation window ({@code --window})
 * @param grace how long a window waits after its end for records on their way ({@code --grace})
 * @param lateHorizon how old a record may be and still count ({@code --late-horizon})
 * @param holdBack how long a flow waits for an unknown owner ({@code --hold-back})
 * @param settle how long after a connection's start its ends are decided ({@code --settle})
 * @param boundaryMargin a lookup this close to a change of owner is a CONFLICT ({@code
 *     --boundary-margin})
 * @param maxPorts bound of the ephemeral port lists ({@code --max-ports})
 * @param stateDir where the state stores live ({@code --state-dir})
 * @param metricsHost host of the metrics and health endpoint ({@code --metrics-address})
 * @param metricsPort its port; 0 turns it off
 * @param threads stream threads ({@code --threads})
 * @param partitions partitions of input topics the collector creates ({@code --partitions})
 * @param replicationFactor replication of the topics it creates, -1 for the broker's default
 *     ({@code --replication-factor})
 * @param commitInterval how often processing commits (a transaction with exactly-once): the latency
 *     added at each repartition hop ({@code --commit-interval})
 * @param kafkaProperties Kafka client security ({@code --kafka-security-protocol} and the rest),
 *     then more Kafka Streams / client properties ({@code --kafka-property})
 * @param registryProperties the registry client's authentication and trust ({@code
 *     --registry-username} and the rest), in the registry serde's keys
 * @param opsSecurity TLS and basic authentication of the metrics and health endpoint ({@code
 *     --metrics-tls-keystore}, {@code --metrics-username}): none by default
 */
public record CollectorConfig(
    String bootstrapServers,
    String registryUrl,
    String flowsTopic,
    String identityTopic,
    String outputTopic,
    String deadLetterTopic,
    String applicationId,
    Duration window,
    Duration grace,
    Duration lateHorizon,
    Duration holdBack,
    Duration settle,
    Duration boundaryMargin,
    int maxPorts,
    Path stateDir,
    String metricsHost,
    int metricsPort,
    int threads,
    int partitions,
    short replicationFactor,
    Duration commitInterval,
    Map<String, String> kafkaProperties,
    Map<String, String> registryProperties,
    OpsSecurity opsSecurity) {

  public CollectorConfig {
    kafkaProperties = Map.copyOf(kafkaProperties);
    registryProperties = Map.copyOf(registryProperties);
  }

  /** Never the secrets of the client properties. */
  @Override
  public String toString() {
    return "CollectorConfig[bootstrapServers="
        + bootstrapServers
        + ", registryUrl="
        + registryUrl
        + ", applicationId="
        + applicationId
        + ", kafkaProperties="
        + io.flowsight.settings.KafkaSecurityOptions.redacted(kafkaProperties)
        + ", registryProperties="
        + io.flowsight.settings.KafkaSecurityOptions.redacted(registryProperties)
        + "]";
  }

  /** The topology's settings, for input topics of {@code inputPartitions} partitions. */
  public CollectorSettings settings(int inputPartitions) {
    return CollectorSettings.defaults(inputPartitions)
        .withWindow(window, grace)
        .withLateHorizon(lateHorizon)
        .withHoldBack(holdBack)
        .withSettle(settle, boundaryMargin)
        .withMaxPorts(maxPorts);
  }
}
