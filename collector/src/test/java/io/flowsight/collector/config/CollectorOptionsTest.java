package io.flowsight.collector.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.settings.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
