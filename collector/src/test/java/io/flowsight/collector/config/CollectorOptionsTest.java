package io.flowsight.collector.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.collector.CollectorRuntime;
import io.flowsight.collector.CollectorSettings;
import io.flowsight.settings.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CollectorOptionsTest {

  private static CollectorConfig parse(Map<String, String> env, String... args) {
    return CollectorOptions.parse(args, env).toConfig();
  }

  @Test
  void shouldUseTheDocumentedDefaults() {
    CollectorConfig c = parse(Map.of());
    assertThat(c.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(c.registryUrl()).isEqualTo("http://127.0.0.1:8081/apis/ccompat/v7");
    assertThat(c.flowsTopic()).isEqualTo("flows-raw-v1");
    assertThat(c.identityTopic()).isEqualTo("ip-identity-v1");
    assertThat(c.outputTopic()).isEqualTo("flows-aggregated-v1");
    assertThat(c.deadLetterTopic()).isEqualTo("flows-dlq-v1");
    assertThat(c.window()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.grace()).isEqualTo(Duration.ofSeconds(20));
    assertThat(c.holdBack()).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.maxPorts()).isEqualTo(64);
    assertThat(c.metricsHost()).isEqualTo("127.0.0.1");
    assertThat(c.metricsPort()).isEqualTo(9465);
    assertThat(c.threads()).isEqualTo(2);
    assertThat(c.settings(6).partitions()).isEqualTo(6);
    // The options' defaults are the settings record's: one place, no drift.
    assertThat(c.settings(6)).isEqualTo(CollectorSettings.defaults(6));
  }

  @Test
  void shouldTakeDefaultsFromTheEnvironmentAndLetFlagsWin() {
    CollectorConfig c =
        parse(
            Map.of(
                "FLOWSIGHT_COLLECTOR_HOLD_BACK", "3m",
                "FLOWSIGHT_COLLECTOR_WINDOW", "30s",
                "FLOWSIGHT_COLLECTOR_KAFKA_PROPERTY", "session.timeout.ms=10000,linger.ms=5"),
            "--window=2m");
    assertThat(c.holdBack()).isEqualTo(Duration.ofMinutes(3));
    assertThat(c.window()).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.kafkaProperties())
        .containsEntry("session.timeout.ms", "10000")
        .containsEntry("linger.ms", "5");
  }

  @Test
  void shouldNameTheBadSettingAndItsEnvironmentVariable() {
    assertThatThrownBy(() -> parse(Map.of("FLOWSIGHT_COLLECTOR_GRACE", "soon")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--grace")
        .hasMessageContaining("FLOWSIGHT_COLLECTOR_GRACE")
        .hasMessageContaining("'soon'");
    assertThatThrownBy(() -> parse(Map.of(), "--max-ports=-1")).hasMessageContaining("--max-ports");
    assertThatThrownBy(() -> parse(Map.of(), "--metrics-address=localhost"))
        .hasMessageContaining("--metrics-address");
    assertThatThrownBy(() -> parse(Map.of(), "--registry-url=ftp://x"))
        .hasMessageContaining("--registry-url");
    assertThatThrownBy(() -> parse(Map.of(), "--identity-topic=flows-raw-v1"))
        .hasMessageContaining("--identity-topic");
  }

  @Test
  void shouldGiveTheSecurityToTheStreamThreadsAndTheAdminClient(@TempDir Path dir)
      throws Exception {
    Path trust = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    CollectorConfig c =
        parse(
            Map.of("FLOWSIGHT_COLLECTOR_KAFKA_SASL_PASSWORD", "s3cret"),
            "--kafka-security-protocol=SASL_SSL",
            "--kafka-sasl-username=collector",
            "--kafka-ssl-truststore=" + trust,
            "--kafka-property=session.timeout.ms=10000");
    String jaas =
        "org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"collector\" password=\"s3cret\";";

    // Unprefixed, Kafka Streams gives them to its producers, consumers and restore consumers.
    Properties streams = CollectorRuntime.streamsProperties(c);
    assertThat(streams)
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry("sasl.jaas.config", jaas)
        .containsEntry("ssl.truststore.location", trust.toString())
        .containsEntry("ssl.truststore.type", "PEM");
    assertThat(CollectorRuntime.adminProperties(c))
        .containsOnly(
            Map.entry("security.protocol", "SASL_SSL"),
            Map.entry("sasl.mechanism", "SCRAM-SHA-512"),
            Map.entry("sasl.jaas.config", jaas),
            Map.entry("ssl.truststore.location", trust.toString()),
            Map.entry("ssl.truststore.type", "PEM"));
  }

  @Test
  void shouldNotPrintTheSecretsAndNotWarnOfTheirVariables() {
    String described =
        CollectorOptions.describe(
            new String[] {"--kafka-security-protocol=SASL_SSL", "--kafka-sasl-username=c"},
            Map.of("FLOWSIGHT_COLLECTOR_KAFKA_SASL_PASSWORD", "s3cret"));
    assertThat(described).contains("--kafka-security-protocol").doesNotContain("s3cret");
  }

  @Test
  void shouldNameTheMissingPassword() {
    assertThatThrownBy(
            () -> parse(Map.of(), "--kafka-security-protocol=SASL_SSL", "--kafka-sasl-username=c"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--kafka-sasl-password-file")
        .hasMessageContaining("FLOWSIGHT_COLLECTOR_KAFKA_SASL_PASSWORD");
  }
}
