package io.flowsight.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class KafkaSecurityOptionsTest {

  @Command(name = "svc")
  static final class Service {
    @Mixin KafkaSecurityOptions kafkaSecurity = new KafkaSecurityOptions();
  }

  private final List<String> warnings = new ArrayList<>();
  private final Settings settings =
      new Settings(
          "FLOWSIGHT_SVC_",
          KafkaSecurityOptions.secretVariables("FLOWSIGHT_SVC_"),
          Map.of(),
          warnings::add);

  @TempDir Path dir;

  private Map<String, String> properties(Map<String, String> env, String... args) {
    return settings.parse(new Service(), args, env).kafkaSecurity.clientProperties(settings, env);
  }

  @Test
  void shouldAddNothingForPlaintextTheDefault() {
    assertThat(properties(Map.of())).isEmpty();
  }

  @Test
  void shouldConfigureScramOverTlsWithThePasswordFromAFile() throws Exception {
    Path password = Files.writeString(dir.resolve("kafka-password"), "s3cret \"q\"\n");
    Path trust = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");

    Map<String, String> p =
        properties(
            Map.of(),
            "--kafka-security-protocol=sasl_ssl",
            "--kafka-sasl-username=alice",
            "--kafka-sasl-password-file=" + password,
            "--kafka-ssl-truststore=" + trust);

    assertThat(p)
        .containsExactly(
            Map.entry("security.protocol", "SASL_SSL"),
            Map.entry("sasl.mechanism", "SCRAM-SHA-512"),
            Map.entry(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"alice\" password=\"s3cret \\\"q\\\"\";"),
            Map.entry("ssl.truststore.location", trust.toString()),
            Map.entry("ssl.truststore.type", "PEM"));
    assertThat(KafkaSecurityOptions.redacted(p))
        .containsEntry("sasl.jaas.config", "<secret>")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512");
  }

  @Test
  void shouldTakeSecretsFromTheEnvironmentWithoutWarning() throws Exception {
    Path trust = Files.writeString(dir.resolve("trust.p12"), "x");
    Path keys = Files.writeString(dir.resolve("client.p12"), "x");
    Map<String, String> env =
        Map.of(
            "FLOWSIGHT_SVC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
            "FLOWSIGHT_SVC_KAFKA_SASL_MECHANISM", "PLAIN",
            "FLOWSIGHT_SVC_KAFKA_SASL_USERNAME", "bob",
            "FLOWSIGHT_SVC_KAFKA_SASL_PASSWORD", "pw",
            "FLOWSIGHT_SVC_KAFKA_SSL_TRUSTSTORE_PASSWORD", "tpw",
            "FLOWSIGHT_SVC_KAFKA_SSL_KEYSTORE_PASSWORD", "kpw");

    Map<String, String> p =
        properties(env, "--kafka-ssl-truststore", trust.toString(), "--kafka-ssl-keystore=" + keys);

    assertThat(warnings).isEmpty();
    assertThat(p)
        .containsEntry(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"bob\""
                + " password=\"pw\";")
        .containsEntry("ssl.truststore.type", "PKCS12")
        .containsEntry("ssl.truststore.password", "tpw")
        .containsEntry("ssl.keystore.location", keys.toString())
        .containsEntry("ssl.keystore.type", "PKCS12")
        .containsEntry("ssl.keystore.password", "kpw");
  }

  @Test
  void shouldRefuseAPasswordOnTheCommandLine() {
    assertThatThrownBy(
            () ->
                properties(
                    Map.of(),
                    "--kafka-security-protocol=SASL_SSL",
                    "--kafka-sasl-username=alice",
                    "--kafka-sasl-password=s3cret"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--kafka-sasl-password");
  }

  @Test
  void shouldNameTheSettingAndTheFixForBadCombinations() {
    assertThatThrownBy(() -> properties(Map.of(), "--kafka-security-protocol=SASL_SSL"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--kafka-sasl-username")
        .hasMessageContaining("FLOWSIGHT_SVC_KAFKA_SASL_USERNAME")
        .hasMessageContaining("set the SASL user name");
    assertThatThrownBy(
            () ->
                properties(
                    Map.of(), "--kafka-security-protocol=SASL_SSL", "--kafka-sasl-username=a"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--kafka-sasl-password-file")
        .hasMessageContaining("FLOWSIGHT_SVC_KAFKA_SASL_PASSWORD");
    assertThatThrownBy(() -> properties(Map.of(), "--kafka-security-protocol=TLS"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("use PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL");
    assertThatThrownBy(() -> properties(Map.of(), "--kafka-sasl-username=alice"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--kafka-security-protocol")
        .hasMessageContaining("use SASL_SSL");
    assertThatThrownBy(
            () ->
                properties(
                    Map.of("FLOWSIGHT_SVC_KAFKA_SASL_PASSWORD", "x"),
                    "--kafka-security-protocol=SASL_SSL",
                    "--kafka-sasl-username=a",
                    "--kafka-sasl-mechanism=GSSAPI"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--kafka-sasl-mechanism")
        .hasMessageContaining("use SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN");
    assertThatThrownBy(
            () ->
                properties(
                    Map.of(),
                    "--kafka-security-protocol=SSL",
                    "--kafka-ssl-truststore=" + dir.resolve("missing.pem")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--kafka-ssl-truststore")
        .hasMessageContaining("no such readable file");
  }

  @Test
  void shouldShowWhereTheSecretComesFromNeverItsValue() throws Exception {
    Path password = Files.writeString(dir.resolve("kafka-password"), "s3cret");
    String described =
        settings.describe(
            new Service(),
            new String[] {
              "--kafka-security-protocol=SASL_SSL",
              "--kafka-sasl-username=alice",
              "--kafka-sasl-password-file=" + password
            },
            Map.of("FLOWSIGHT_SVC_KAFKA_SSL_TRUSTSTORE_PASSWORD", "t0p"));

    assertThat(described)
        .contains("--kafka-sasl-password-file")
        .contains(password.toString())
        .doesNotContain("s3cret")
        .doesNotContain("t0p");
  }
}
