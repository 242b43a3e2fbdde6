package io.flowsight.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.ops.OpsSecurity;
import io.flowsight.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class OpsSecurityOptionsTest {

  @Command(name = "svc")
  static final class Service {
    @Mixin OpsSecurityOptions opsSecurity = new OpsSecurityOptions();
  }

  private final List<String> warnings = new ArrayList<>();
  private final Settings settings =
      new Settings(
          "FLOWSIGHT_SVC_",
          OpsSecurityOptions.secretVariables("FLOWSIGHT_SVC_"),
          Map.of(),
          warnings::add);

  @TempDir Path dir;

  private OpsSecurity security(Map<String, String> env, String... args) {
    return settings.parse(new Service(), args, env).opsSecurity.security(settings, env);
  }

  @Test
  void shouldBePlainAndOpenByDefault() {
    assertThat(security(Map.of())).isSameAs(OpsSecurity.NONE);
    assertThat(OpsSecurity.NONE.scheme()).isEqualTo("http");
    assertThat(warnings).isEmpty();
  }

  @Test
  void shouldLoadTheKeystoreAndTakeThePasswordFromTheEnvironment() throws Exception {
    Path keystore = keystore("secret-1");
    Path keystorePassword = Files.writeString(dir.resolve("keystore-password"), "secret-1\n");

    OpsSecurity security =
        security(
            Map.of("FLOWSIGHT_SVC_METRICS_PASSWORD", "scrape-pw"),
            "--metrics-tls-keystore=" + keystore,
            "--metrics-tls-keystore-password-file=" + keystorePassword,
            "--metrics-username=prometheus",
            "--metrics-auth-health=true");

    assertThat(security.scheme()).isEqualTo("https");
    assertThat(security.tls()).isNotNull();
    assertThat(security.username()).isEqualTo("prometheus");
    assertThat(security.password()).isEqualTo("scrape-pw");
    assertThat(security.healthToo()).isTrue();
    assertThat(security.toString()).doesNotContain("scrape-pw");
    assertThat(warnings).isEmpty();
  }

  @Test
  void shouldNameTheKeystoreWhenItsPasswordIsWrong() throws Exception {
    Path keystore = keystore("secret-1");
    Path wrong = Files.writeString(dir.resolve("wrong"), "not-it\n");

    assertThatThrownBy(
            () ->
                security(
                    Map.of(),
                    "--metrics-tls-keystore=" + keystore,
                    "--metrics-tls-keystore-password-file=" + wrong))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--metrics-tls-keystore")
        .hasMessageContaining("cannot load it as PKCS12")
        .hasMessageContaining("check the file and its password");
  }

  @Test
  void shouldRefuseHalfSettings() throws Exception {
    Path password = Files.writeString(dir.resolve("pw"), "pw\n");

    assertThatThrownBy(() -> security(Map.of(), "--metrics-username=prometheus"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--metrics-password-file")
        .hasMessageContaining("FLOWSIGHT_SVC_METRICS_PASSWORD");
    assertThatThrownBy(() -> security(Map.of(), "--metrics-password-file=" + password))
        .hasMessageContaining("--metrics-username")
        .hasMessageContaining("set the user it belongs to");
    assertThatThrownBy(() -> security(Map.of(), "--metrics-auth-health=true"))
        .hasMessageContaining("--metrics-auth-health")
        .hasMessageContaining("set --metrics-username");
    assertThatThrownBy(() -> security(Map.of(), "--metrics-tls-keystore-password-file=" + password))
        .hasMessageContaining("--metrics-tls-keystore-password-file")
        .hasMessageContaining("set that too");
    assertThatThrownBy(
            () ->
                security(
                    Map.of(),
                    "--metrics-tls-keystore=" + Files.writeString(dir.resolve("server.pem"), "x"),
                    "--metrics-tls-keystore-password-file=" + password))
        .hasMessageContaining("--metrics-tls-keystore")
        .hasMessageContaining(".p12 or .pfx (PKCS12), .jks (JKS)");
  }

  @Test
  void shouldWarnThatBasicAuthWithoutTlsSendsThePasswordInClear() throws Exception {
    Path password = Files.writeString(dir.resolve("pw"), "pw\n");

    OpsSecurity security =
        security(Map.of(), "--metrics-username=prometheus", "--metrics-password-file=" + password);

    assertThat(security.scheme()).isEqualTo("http");
    assertThat(security.authenticated()).isTrue();
    assertThat(security.healthToo()).isFalse();
    assertThat(warnings)
        .containsExactly(
            "--metrics-username without --metrics-tls-keystore: the password crosses the network"
                + " in clear text");
  }

  /** A PKCS12 keystore with a key and its certificate, made by the JDK's keytool. */
  private Path keystore(String password) throws Exception {
    return TestCertificates.make(dir.resolve("certs"), password).serverP12();
  }
}
