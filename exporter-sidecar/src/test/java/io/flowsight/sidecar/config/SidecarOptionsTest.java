package io.flowsight.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarOptionsTest {

  @TempDir Path dir;

  @Test
  void shouldUseTheDefaults() {
    SidecarConfig config = SidecarOptions.parse(new String[0], Map.of()).toConfig();

    assertThat(config.sink()).isEqualTo(SidecarConfig.Sink.KAFKA);
    assertThat(config.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(config.topic()).isEqualTo("flows-raw-v1");
    assertThat(config.interimInterval()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.pollInterval()).isEqualTo(Duration.ofMillis(50));
    assertThat(config.ringBufferBytes()).isEqualTo(4 << 20);
    assertThat(config.maxConnections()).isEqualTo(65536);
    assertThat(config.metricsPort()).isEqualTo(9464);
    assertThat(config.localIdentity()).isNull();
  }

  @Test
  void shouldLetFlagsBeatEnvironmentBeatFile() throws IOException {
    Path file = dir.resolve("sidecar.properties");
    Files.writeString(
        file, "topic=from-file\ninterim-interval=30s\nidentity.app=billing\nidentity.zone=z1\n");
    Map<String, String> env =
        Map.of("FLOWSIGHT_SIDECAR_TOPIC", "from-env", "FLOWSIGHT_SIDECAR_SINK", "stdout");

    SidecarConfig config =
        SidecarOptions.parse(new String[] {"--config", file.toString(), "--sink", "kafka"}, env)
            .toConfig();

    assertThat(config.topic()).isEqualTo("from-env");
    assertThat(config.sink()).isEqualTo(SidecarConfig.Sink.KAFKA);
    assertThat(config.interimInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.localIdentity().getApp()).isEqualTo("billing");
    assertThat(config.localIdentity().getZone()).isEqualTo("z1");
  }

  @Test
  void shouldNameTheBadSettingItsEnvironmentVariableAndTheFix() {
    assertThatThrownBy(
            () ->
                SidecarOptions.parse(new String[] {"--interim-interval", "5x"}, Map.of())
                    .toConfig())
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "bad setting --interim-interval (env FLOWSIGHT_SIDECAR_INTERIM_INTERVAL, file key"
                + " interim-interval): '5x': use a duration such as 500ms, 30s, 5m or 1h");
    assertThatThrownBy(
            () ->
                SidecarOptions.parse(
                        new String[0], Map.of("FLOWSIGHT_SIDECAR_RING_BUFFER_SIZE", "3MiB"))
                    .toConfig())
        .hasMessageContaining("--ring-buffer-size")
        .hasMessageContaining("power of two");
    assertThatThrownBy(
            () -> SidecarOptions.parse(new String[] {"--sink", "file"}, Map.of()).toConfig())
        .hasMessageContaining("'file': use kafka or stdout");
    assertThatThrownBy(
            () -> SidecarOptions.parse(new String[] {"--identity.zone", "z1"}, Map.of()).toConfig())
        .hasMessageContaining("--identity.app");
  }

  @Test
  void shouldReadSizesAndDurationsInTheirUsualForms() {
    assertThat(SidecarOptions.bytes("x", "256KiB")).isEqualTo(262_144);
    assertThat(SidecarOptions.bytes("x", "4m")).isEqualTo(4_194_304);
    assertThat(SidecarOptions.bytes("x", "4096")).isEqualTo(4096);
    assertThat(SidecarOptions.duration("x", "500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(SidecarOptions.duration("x", "5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(SidecarOptions.duration("x", "PT2S")).isEqualTo(Duration.ofSeconds(2));
  }
}
