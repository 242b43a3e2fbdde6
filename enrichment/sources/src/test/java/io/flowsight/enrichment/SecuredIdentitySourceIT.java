package io.flowsight.enrichment;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.SecuredBroker;
import io.flowsight.testing.SecuredRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The static identity source, as its own process, publishing to a broker that takes only SASL_SSL
 * (SCRAM-SHA-512 over TLS with a CA made by the test) and registering its schema with the registry
 * behind TLS and basic authentication (nginx): the events arrive, the passwords are read from files
 * and never show on the process's command line, and a wrong password is a clear error naming the
 * settings.
 */
@ExtendWith(LocalStackExtension.class)
class SecuredIdentitySourceIT {

  @TempDir static Path dir;
  static SecuredBroker broker;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = SecuredBroker.start(dir);
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void shouldPublishOverSaslSslWithThePasswordFromAFileNeverOnTheCommandLine(LocalStack stack)
      throws Exception {
    String topic = "secured-identities-" + UUID.randomUUID();
    Path file = identities();

    Process process;
    String cmdline;
    String registryPassword;
    try (SecuredRegistry registry =
        SecuredRegistry.start(dir.resolve("registry-ok"), upstream(stack))) {
      process =
          start(
              registryOptions(registry, registry.passwordFile()),
              topic,
              file,
              broker.passwordFile());
      cmdline = Files.readString(Path.of("/proc/" + process.pid() + "/cmdline")).replace('\0', ' ');
      assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
      registryPassword = registry.password();
    }
    assertThat(cmdline).doesNotContain(registryPassword);
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(cmdline)
        .contains("--kafka-sasl-password-file")
        .contains("--registry-password-file")
        .contains("--registry-url https://")
        .doesNotContain(broker.password());
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(output)
        .contains("published 2 events to " + topic)
        .doesNotContain(broker.password())
        .doesNotContain(registryPassword);
    assertThat(keys(topic, 2)).containsExactly("10.77.0.1", "10.77.0.2");
  }

  @Test
  void shouldNameTheSettingsWhenTheBrokerRefusesThePassword(LocalStack stack) throws Exception {
    String topic = "secured-identities-" + UUID.randomUUID();
    Path wrong = Files.writeString(dir.resolve("wrong-password"), "not-the-password\n");

    Process process =
        start(List.of("--registry-url", stack.registryUrl()), topic, identities(), wrong);
    boolean exited = process.waitFor(2, TimeUnit.MINUTES);
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(exited).as(output).isTrue();
    assertThat(process.exitValue()).as(output).isEqualTo(2);
    assertThat(output)
        .contains("flowsight identity static: the broker refused the SASL credentials")
        .contains("check --kafka-sasl-username, --kafka-sasl-mechanism and the password in")
        .contains("--kafka-sasl-password-file or FLOWSIGHT_IDENTITY_KAFKA_SASL_PASSWORD");
  }

  @Test
  void shouldNameTheSettingsWhenTheRegistryRefusesThePassword(LocalStack stack) throws Exception {
    String topic = "secured-identities-" + UUID.randomUUID();
    Path wrong = Files.writeString(dir.resolve("wrong-registry-password"), "not-the-password\n");

    Process process;
    try (SecuredRegistry registry =
        SecuredRegistry.start(dir.resolve("registry-wrong"), upstream(stack))) {
      process = start(registryOptions(registry, wrong), topic, identities(), broker.passwordFile());
      assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(process.exitValue()).as(output).isNotZero();
    assertThat(output)
        .contains(
            "HTTP 401: the registry does not accept the credentials: check --registry-username")
        .contains("--registry-password-file");
  }

  private static String upstream(LocalStack stack) {
    URI registry = URI.create(stack.registryUrl());
    return registry.getScheme() + "://" + registry.getAuthority();
  }

  private static List<String> registryOptions(SecuredRegistry registry, Path passwordFile) {
    return List.of(
        "--registry-url",
        registry.registryUrl(),
        "--registry-username",
        SecuredRegistry.USER,
        "--registry-password-file",
        passwordFile.toString(),
        "--registry-truststore",
        registry.truststore().toString());
  }

  private static Path identities() throws Exception {
    return Files.writeString(
        dir.resolve("identities-" + UUID.randomUUID() + ".yaml"),
        """
        identities:
          - ip: 10.77.0.1
            app: frontend
          - ip: 10.77.0.2
            app: backend
        """);
  }

  private static Process start(
      List<String> registryOptions, String topic, Path file, Path passwordFile) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx128m",
                "-cp",
                System.getProperty("java.class.path"),
                IdentitySourceMain.class.getName(),
                "static",
                "--once",
                "--file",
                file.toString(),
                "--topic",
                topic,
                "--bootstrap-servers",
                broker.bootstrapServers(),
                "--read-back-timeout",
                "30s",
                "--kafka-security-protocol",
                "SASL_SSL",
                "--kafka-sasl-username",
                SecuredBroker.USER,
                "--kafka-sasl-password-file",
                passwordFile.toString(),
                "--kafka-ssl-truststore",
                broker.truststore().toString()));
    command.addAll(registryOptions);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    // Only what the test gives: no FLOWSIGHT_IDENTITY_* of the developer's shell.
    builder.environment().keySet().removeIf(k -> k.startsWith("FLOWSIGHT_IDENTITY_"));
    return builder.start();
  }

  /** The keys of the topic's first {@code expected} records, sorted, read over SASL_SSL. */
  private static List<String> keys(String topic, int expected) {
    Map<String, Object> config = broker.clientConfig();
    TreeSet<String> keys = new TreeSet<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long total = ends.values().stream().mapToLong(Long::longValue).sum();
      assertThat(total).isEqualTo(expected);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      int read = 0;
      while (read < total && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          keys.add(r.key());
          read++;
        }
      }
      assertThat(read).isEqualTo(expected);
    }
    return new ArrayList<>(keys);
  }
}
