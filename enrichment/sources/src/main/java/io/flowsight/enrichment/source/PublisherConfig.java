package io.flowsight.enrichment.source;

import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SerdeException;
import io.flowsight.settings.Settings;
import java.time.Duration;
import java.util.Map;

/**
 * Where identity sources publish.
 *
 * @param bootstrapServers Kafka bootstrap servers, {@code host:port[,host:port...]}; flag {@code
 *     --bootstrap-servers}, environment {@code FLOWSIGHT_IDENTITY_BOOTSTRAP_SERVERS}
 * @param registryUrl the schema registry's Confluent-compatible API; flag {@code --registry-url},
 *     environment {@code FLOWSIGHT_IDENTITY_REGISTRY_URL}
 * @param topic the identity topic; flag {@code --topic}, default {@value
 *     IdentityChanges#DEFAULT_TOPIC}
 * @param producerOverrides extra Kafka producer settings (security, timeouts); may be empty
 * @param readBackTimeout how long reading back what was published may take at start-up ({@link
 *     PublishedStateReader}); flag {@code --read-back-timeout}, environment {@code
 *     FLOWSIGHT_IDENTITY_READ_BACK_TIMEOUT}, default 2 minutes
 * @param registryProperties the registry client's authentication and trust ({@code
 *     --registry-username} and the rest), in the registry serde's keys; may be empty
 */
public record PublisherConfig(
    String bootstrapServers,
    String registryUrl,
    String topic,
    Map<String, Object> producerOverrides,
    Duration readBackTimeout,
    Map<String, String> registryProperties) {

  /** As {@code --read-back-timeout} writes it (its annotation reads this). */
  public static final String DEFAULT_READ_BACK_TIMEOUT_TEXT = "2m";

  public static final Duration DEFAULT_READ_BACK_TIMEOUT =
      Settings.parseDuration(DEFAULT_READ_BACK_TIMEOUT_TEXT);

  public PublisherConfig {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException(
          "--bootstrap-servers is missing (or set FLOWSIGHT_IDENTITY_BOOTSTRAP_SERVERS), e.g."
              + " 127.0.0.1:9092");
    }
    for (String server : bootstrapServers.split(",")) {
      int colon = server.trim().lastIndexOf(':');
      if (colon <= 0 || !server.trim().substring(colon + 1).matches("\\d{1,5}")) {
        throw new IllegalArgumentException(
            "--bootstrap-servers: '" + server.trim() + "' is not host:port");
      }
    }
    if (registryUrl == null || registryUrl.isBlank()) {
      throw new IllegalArgumentException(
          "--registry-url is missing (or set FLOWSIGHT_IDENTITY_REGISTRY_URL), e.g."
              + " http://127.0.0.1:8081/apis/ccompat/v7");
    }
    try {
      RegistrySerdeConfig.of(
          registryUrl, registryProperties == null ? Map.of() : registryProperties);
    } catch (SerdeException e) {
      throw new IllegalArgumentException("--registry-url: " + e.getMessage(), e);
    }
    if (topic == null || !topic.matches("[a-zA-Z0-9._-]{1,249}")) {
      throw new IllegalArgumentException(
          "--topic: '" + topic + "' is not a Kafka topic name (letters, digits, . _ -)");
    }
    producerOverrides = producerOverrides == null ? Map.of() : Map.copyOf(producerOverrides);
    registryProperties = registryProperties == null ? Map.of() : Map.copyOf(registryProperties);
    if (readBackTimeout == null) {
      readBackTimeout = DEFAULT_READ_BACK_TIMEOUT;
    }
    if (readBackTimeout.isNegative() || readBackTimeout.isZero()) {
      throw new IllegalArgumentException(
          "--read-back-timeout must be positive, e.g. PT2M or 2m (how long reading back what"
              + " was published may take at start-up)");
    }
  }

  public PublisherConfig(
      String bootstrapServers,
      String registryUrl,
      String topic,
      Map<String, Object> producerOverrides,
      Duration readBackTimeout) {
    this(bootstrapServers, registryUrl, topic, producerOverrides, readBackTimeout, Map.of());
  }

  /** The registry serde's configuration: the URL, authentication and trust. */
  public RegistrySerdeConfig registry() {
    return RegistrySerdeConfig.of(registryUrl, registryProperties);
  }

  /** Never the secrets. */
  @Override
  public String toString() {
    return "PublisherConfig[bootstrapServers="
        + bootstrapServers
        + ", registryUrl="
        + registryUrl
        + ", topic="
        + topic
        + ", producerOverrides="
        + io.flowsight.settings.KafkaSecurityOptions.redacted(producerOverrides)
        + ", readBackTimeout="
        + readBackTimeout
        + ", registryProperties="
        + io.flowsight.settings.KafkaSecurityOptions.redacted(registryProperties)
        + "]";
  }

  public PublisherConfig(
      String bootstrapServers,
      String registryUrl,
      String topic,
      Map<String, Object> producerOverrides) {
    this(bootstrapServers, registryUrl, topic, producerOverrides, DEFAULT_READ_BACK_TIMEOUT);
  }

  public PublisherConfig(String bootstrapServers, String registryUrl, String topic) {
    this(bootstrapServers, registryUrl, topic, Map.of());
  }

  /** The same, with another read-back timeout. */
  public PublisherConfig withReadBackTimeout(Duration timeout) {
    return new PublisherConfig(
        bootstrapServers, registryUrl, topic, producerOverrides, timeout, registryProperties);
  }
}
