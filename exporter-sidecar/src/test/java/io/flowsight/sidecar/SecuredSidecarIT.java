package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.sidecar.sink.KafkaSink;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.Requirements;
import io.flowsight.testing.SampleFlows;
import io.flowsight.testing.SecuredBroker;
import io.flowsight.testing.SecuredRegistry;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kernel to a broker that takes only SASL_SSL (SCRAM-SHA-512 over TLS, certificates made by the
 * test), the schema registered through the registry behind TLS and basic authentication (nginx):
 * the records of a real connection, sent with the Kafka password from the sidecar's environment and
 * the registry's from a file, read back byte for byte.
 */
@ExtendWith(LocalStackExtension.class)
class SecuredSidecarIT {

  @TempDir static Path dir;
  static SecuredBroker broker;

  @BeforeAll
  static void startBroker() throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    broker = SecuredBroker.start(dir);
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void shouldProduceTheRecordsOfAConnectionOverSaslSsl(LocalStack stack) throws Exception {
    String topic = stack.uniqueTopic("secured-flows-raw-v1");
    URI plainRegistry = URI.create(stack.registryUrl());
    try (SecuredRegistry registry =
        SecuredRegistry.start(
            dir.resolve("registry"),
            plainRegistry.getScheme() + "://" + plainRegistry.getAuthority())) {
      produceAndCheck(stack, topic, registry);
    }
  }

  /**
   * A wrong Kafka password is a configuration to fix, not records to give up: the sink holds them
   * (counted as retries with cause "auth", the reason logged with the settings to check), loses
   * none to producer errors, and counts what is still held at shutdown.
   */
  @Test
  void shouldHoldTheRecordsWhileKafkaRefusesTheCredentials(LocalStack stack) throws Exception {
    String topic = stack.uniqueTopic("secured-refused-flows-raw-v1");
    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {
                  "--bootstrap-servers",
                  broker.bootstrapServers(),
                  "--kafka-security-protocol",
                  "SASL_SSL",
                  "--kafka-sasl-username",
                  SecuredBroker.USER,
                  "--kafka-ssl-truststore",
                  broker.truststore().toString(),
                  "--registry-url",
                  stack.registryUrl(),
                  "--topic",
                  topic,
                  "--state-dir",
                  Files.createTempDirectory("sidecar-refused-state").toString()
                },
                Map.of("FLOWSIGHT_SIDECAR_KAFKA_SASL_PASSWORD", "not-" + broker.password()))
            .toConfig();
    SidecarMetrics metrics = new SidecarMetrics();
    KafkaSink sink =
        new KafkaSink(
            config.bootstrapServers(),
            config.registryUrl(),
            topic,
            config.outputBuffer(),
            metrics,
            config.kafkaClientProperties(),
            config.registryClientProperties());
    SampleFlows samples = new SampleFlows(7);
    for (int i = 0; i < 3; i++) {
      sink.accept(samples.next());
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (metrics.value("flowsight_sidecar_output_retries_total", "cause", "auth") < 2
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(metrics.value("flowsight_sidecar_output_retries_total", "cause", "auth"))
        .as("sends held because Kafka refused the credentials")
        .isGreaterThanOrEqualTo(2);
    assertThat(metrics.value("flowsight_sidecar_producer_errors_total")).isZero();
    assertThat(metrics.value("flowsight_sidecar_records_produced_total")).isZero();
    sink.close(); // waits its 30 s for Kafka, then counts what it still holds
    assertThat(metrics.value("flowsight_sidecar_output_lost_at_shutdown_total")).isEqualTo(3);
    assertThat(metrics.value("flowsight_sidecar_producer_errors_total")).isZero();
  }

  private void produceAndCheck(LocalStack stack, String topic, SecuredRegistry registry)
      throws Exception {
    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {
                  "--bootstrap-servers",
                  broker.bootstrapServers(),
                  "--kafka-security-protocol",
                  "SASL_SSL",
                  "--kafka-sasl-username",
                  SecuredBroker.USER,
                  "--kafka-ssl-truststore",
                  broker.truststore().toString(),
                  "--registry-url",
                  registry.registryUrl(),
                  "--registry-username",
                  SecuredRegistry.USER,
                  "--registry-password-file",
                  registry.passwordFile().toString(),
                  "--registry-truststore",
                  registry.truststore().toString(),
                  "--topic",
                  topic,
                  "--poll-interval",
                  "10ms",
                  "--metrics-address",
                  "127.0.0.1:0",
                  "--identity.app",
                  "kafka-it",
                  "--state-dir",
                  Files.createTempDirectory("sidecar-kafka-it-state").toString()
                },
                Map.of("FLOWSIGHT_SIDECAR_KAFKA_SASL_PASSWORD", broker.password()))
            .toConfig();
    SidecarMetrics metrics = new SidecarMetrics();
    Identity identity = config.localIdentity();
    KafkaSink sink =
        new KafkaSink(
            config.bootstrapServers(),
            config.registryUrl(),
            topic,
            config.outputBuffer(),
            metrics,
            config.kafkaClientProperties(),
            config.registryClientProperties());
    Loopback.Ports ports;
    Sidecar sidecar = Sidecar.start(config, metrics, sink, ip -> identity);
    try {
      ports = Loopback.exchange(InetAddress.getByName("127.0.0.1"), 1000, 5000);
      Thread.sleep(200); // the close events reach the table within a few poll intervals
    } finally {
      sidecar.close(); // drains the ring buffer and flushes the producer
    }

    ExchangeRecords.assertClosedExchange(
        ExchangeRecords.read(consumerConfig(), stack.registryUrl(), topic, ports),
        ports,
        "kafka-it");
  }

  private static Map<String, Object> consumerConfig() {
    Map<String, Object> config = broker.clientConfig();
    config.put("group.id", "secured-sidecar-it-" + System.nanoTime());
    config.put("auto.offset.reset", "earliest");
    return config;
  }
}
