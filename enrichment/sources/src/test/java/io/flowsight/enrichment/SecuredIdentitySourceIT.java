package io.flowsight.enrichment;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.SecuredBroker;
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
 * (SCRAM-SHA-512 over TLS with a CA made by the test): the events arrive, the password is read from
 * a file and never shows on the process's command line, and a wrong password is a clear error
 * naming the settings.
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

    Process process = start(stack, topic, file, broker.passwordFile());
    String cmdline =
        Files.readString(Path.of("/proc/" + process.pid() + "/cmdline")).replace('\0', ' ');
    boolean exited = process.waitFor(2, TimeUnit.MINUTES);
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(cmdline).contains("--kafka-sasl-password-file").doesNotContain(broker.password());
    assertThat(exited).as(output).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(output).contains("published 2 events to " + topic).doesNotContain(broker.password());
    assertThat(keys(topic, 2)).containsExactly("10.77.0.1", "10.77.0.2");
  }

  @Test
  void shouldNameTheSettingsWhenTheBrokerRefusesThePassword(LocalStack stack) throws Exception {
    String topic = "secured-identities-" + UUID.randomUUID();
    Path wrong = Files.writeString(dir.resolve("wrong-password"), "not-the-password\n");

    Process process = start(stack, topic, identities(), wrong);
    boolean exited = process.waitFor(2, TimeUnit.MINUTES);
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(exited).as(output).isTrue();
    assertThat(process.exitValue()).as(output).isEqualTo(2);
    assertThat(output)
        .contains("flowsight identity static: the broker refused the SASL credentials")
        .contains("check --kafka-sasl-username, --kafka-sasl-mechanism and the password in")
        .contains("--kafka-sasl-password-file or FLOWSIGHT_IDENTITY_KAFKA_SASL_PASSWORD");
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

  private static Process start(LocalStack stack, String topic, Path file, Path passwordFile)
      throws Exception {
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
                "--registry-url",
                stack.registryUrl(),
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
