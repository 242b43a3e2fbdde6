package io.flowsight.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.settings.ConfigException;
import io.flowsight.testing.SampleFlows;
import java.io.IOException;
import java.nio.ByteBuffer;
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
    assertThat(config.stateDir()).isEqualTo(Path.of("/var/lib/flowsight/sidecar"));
    assertThat(config.kafkaClientProperties()).isEmpty();
    assertThat(config.cgroupLookups()).isTrue();
    assertThat(config.cgroupRoot()).isNull(); // auto: the first cgroup2 mount, found at start
    assertThat(config.kubernetesNode()).isNull();
  }

  @Test
  void shouldTakeTheKubernetesNodeAndClusterAndACgroup2MountFromTheEnvironment()
      throws IOException {
    Path cgroup2 = Files.createDirectories(dir.resolve("cgroup"));
    Files.writeString(cgroup2.resolve("cgroup.controllers"), "cpu memory\n");

    SidecarConfig config =
        SidecarOptions.parse(
                new String[0],
                Map.of(
                    "FLOWSIGHT_SIDECAR_KUBERNETES_NODE", "node-7",
                    "FLOWSIGHT_SIDECAR_KUBERNETES_CLUSTER", "prod-east",
                    "FLOWSIGHT_SIDECAR_CGROUP_ROOT", cgroup2.toString()))
            .toConfig();

    assertThat(config.kubernetesNode()).isEqualTo("node-7");
    assertThat(config.kubernetesCluster()).isEqualTo("prod-east");
    assertThat(config.cgroupRoot()).isEqualTo(cgroup2);
    assertThat(
            SidecarOptions.parse(new String[] {"--cgroup-root", "off"}, Map.of())
                .toConfig()
                .cgroupLookups())
        .isFalse();
  }

  @Test
  void shouldNameTheFixOfABadCgroupRootOrAMissingCluster() throws IOException {
    // Checked at start, on the host it runs on (SidecarMain), not while parsing: a cgroup v1
    // hierarchy turns the lookups off, systemd's hybrid layout has cgroup2 in unified/, and a
    // missing directory is a mistake.
    assertThat(SidecarOptions.cgroup2MountAt(dir)).isEmpty();
    Path unified = Files.createDirectories(dir.resolve("unified"));
    Files.writeString(unified.resolve("cgroup.controllers"), "");
    assertThat(SidecarOptions.cgroup2MountAt(dir)).contains(unified);
    assertThatThrownBy(() -> SidecarOptions.cgroup2MountAt(dir.resolve("missing")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--cgroup-root")
        .hasMessageContaining("FLOWSIGHT_SIDECAR_CGROUP_ROOT")
        .hasMessageContaining("no such directory")
        .hasMessageContaining("/host/sys/fs/cgroup");
    assertThatThrownBy(
            () ->
                SidecarOptions.parse(new String[] {"--kubernetes-node", "node-7"}, Map.of())
                    .toConfig())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--kubernetes-cluster")
        .hasMessageContaining("FLOWSIGHT_SIDECAR_KUBERNETES_CLUSTER")
        .hasMessageContaining("--kubernetes-node needs it");
  }

  @Test
  void shouldTakeTheKafkaSecurityWithThePasswordFromAFileOrTheEnvironment() throws IOException {
    Path password = Files.writeString(dir.resolve("password"), "pw-from-file\n");
    SidecarConfig fromFile =
        SidecarOptions.parse(
                new String[] {
                  "--kafka-security-protocol=SASL_PLAINTEXT",
                  "--kafka-sasl-mechanism=SCRAM-SHA-256",
                  "--kafka-sasl-username=sidecar",
                  "--kafka-sasl-password-file=" + password
                },
                Map.of())
            .toConfig();
    SidecarConfig fromEnv =
        SidecarOptions.parse(
                new String[0],
                Map.of(
                    "FLOWSIGHT_SIDECAR_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
                    "FLOWSIGHT_SIDECAR_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256",
                    "FLOWSIGHT_SIDECAR_KAFKA_SASL_USERNAME", "sidecar",
                    "FLOWSIGHT_SIDECAR_KAFKA_SASL_PASSWORD", "pw-from-file"))
            .toConfig();

    assertThat(fromFile.kafkaClientProperties())
        .containsOnly(
            Map.entry("security.protocol", "SASL_PLAINTEXT"),
            Map.entry("sasl.mechanism", "SCRAM-SHA-256"),
            Map.entry(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"sidecar\" password=\"pw-from-file\";"));
    assertThat(fromEnv.kafkaClientProperties()).isEqualTo(fromFile.kafkaClientProperties());
    assertThatThrownBy(
            () ->
                SidecarOptions.parse(new String[] {"--kafka-security-protocol=SASL_SSL"}, Map.of())
                    .toConfig())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--kafka-sasl-username")
        .hasMessageContaining("FLOWSIGHT_SIDECAR_KAFKA_SASL_USERNAME");
  }

  @Test
  void shouldTakeTheStateDirectoryFromFlagEnvironmentOrFileAndRefuseAFile() throws IOException {
    Path file = dir.resolve("sidecar.properties");
    Files.writeString(file, "state-dir=" + dir.resolve("from-file") + "\n");

    assertThat(
            SidecarOptions.parse(new String[] {"--config", file.toString()}, Map.of())
                .toConfig()
                .stateDir())
        .isEqualTo(dir.resolve("from-file"));
    assertThat(
            SidecarOptions.parse(
                    new String[0], Map.of("FLOWSIGHT_SIDECAR_STATE_DIR", dir.toString() + "/env"))
                .toConfig()
                .stateDir())
        .isEqualTo(dir.resolve("env"));
    assertThatThrownBy(
            () ->
                SidecarOptions.parse(new String[] {"--state-dir", file.toString()}, Map.of())
                    .toConfig())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bad setting --state-dir (env FLOWSIGHT_SIDECAR_STATE_DIR")
        .hasMessageContaining("it is a file, not a directory");
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
  void shouldExcludeOnlyConnectionsWithBothEndsInTheBlocks() {
    SidecarConfig config =
        SidecarOptions.parse(
                new String[0], Map.of("FLOWSIGHT_SIDECAR_EXCLUDE", "127.0.0.1/32, ::1/128"))
            .toConfig();
    assertThat(config.excluded().blocks())
        .extracting(Object::toString)
        .containsExactly("127.0.0.1/32", "::1/128");
    assertThat(config.excluded().excludes(flow("127.0.0.1", "127.0.0.1"))).isTrue();
    assertThat(config.excluded().excludes(flow("::1", "::1"))).isTrue();
    // IPv4-mapped IPv6 (a dual-stack socket) is the IPv4 address.
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 1};
    assertThat(
            config
                .excluded()
                .excludes(
                    FlowRecord.newBuilder(flow("127.0.0.1", "127.0.0.1"))
                        .setLocalIp(ByteBuffer.wrap(mapped))
                        .build()))
        .isTrue();
    assertThat(config.excluded().excludes(flow("127.0.0.1", "10.0.0.7"))).isFalse();
    assertThat(config.excluded().excludes(flow("10.0.0.7", "127.0.0.1"))).isFalse();
    assertThat(config.excluded().excludes(flow("127.0.0.2", "127.0.0.3"))).isFalse();

    assertThat(SidecarOptions.parse(new String[0], Map.of()).toConfig().excluded().blocks())
        .isEmpty();
    assertThatThrownBy(
            () ->
                SidecarOptions.parse(new String[] {"--exclude", "127.0.0.1/24"}, Map.of())
                    .toConfig())
        .hasMessageContaining("--exclude")
        .hasMessageContaining("host bits set: the block starts at 127.0.0.0/24");
    assertThatThrownBy(
            () -> SidecarOptions.parse(new String[] {"--exclude", "loopback"}, Map.of()).toConfig())
        .hasMessageContaining("'loopback' is not a CIDR block");
  }

  private static FlowRecord flow(String local, String remote) {
    return FlowRecord.newBuilder(new SampleFlows(1).next())
        .setLocalIp(ByteBuffer.wrap(IpAddresses.parse(local)))
        .setRemoteIp(ByteBuffer.wrap(IpAddresses.parse(remote)))
        .build();
  }
}
