package io.flowsight.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.settings.ConfigException;
import io.flowsight.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console's settings: where it listens, and its refusal to serve other hosts unguarded. */
class ConsoleOptionsTest {

  private final List<String> warnings = new ArrayList<>();

  @TempDir Path dir;

  private ConsoleOptions.Config config(Map<String, String> env, String... args) {
    var settings = ConsoleOptions.settings(warnings::add);
    return settings.parse(new ConsoleOptions(), args, env).toConfig(settings, env);
  }

  @Test
  void shouldListenOnLoopbackAndAskTheLocalRouterByDefault() {
    ConsoleOptions.Config config = config(Map.of());
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.port()).isEqualTo(18480);
    assertThat(config.druidUrl()).isEqualTo("http://127.0.0.1:18888");
    assertThat(config.dataSource()).isEqualTo("flows");
    assertThat(config.forecastDataSource()).isEqualTo("flows_forecast");
    assertThat(config.security().scheme()).isEqualTo("http");
    assertThat(warnings).isEmpty();
  }

  @Test
  void shouldTakeTheDruidUrlAsTheClientDoesAndItsOwnVariables() {
    ConsoleOptions.Config config =
        config(
            Map.of(
                "FLOWSIGHT_DRUID_URL", "http://druid.example:8888",
                "FLOWSIGHT_CONSOLE_ADDRESS", "127.0.0.1:9999"));
    assertThat(config.druidUrl()).isEqualTo("http://druid.example:8888");
    assertThat(config.port()).isEqualTo(9999);
    assertThat(config(Map.of(), "--druid-url", "http://other:1").druidUrl())
        .isEqualTo("http://other:1");
  }

  @Test
  void shouldRefuseAnAddressOtherHostsReachWithoutTlsAndAUser() {
    assertThatThrownBy(() -> config(Map.of(), "--address", "0.0.0.0:18480"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bad setting --address (env FLOWSIGHT_CONSOLE_ADDRESS")
        .hasMessageContaining("serve it over TLS with a user (--tls-keystore")
        .hasMessageContaining("or give --insecure to serve it without TLS anyway");
  }

  @Test
  void shouldRefuseTlsWithoutAUserOnAnOpenAddress() throws Exception {
    Path keystore = keystore("secret-1");
    assertThatThrownBy(
            () ->
                config(
                    Map.of("FLOWSIGHT_CONSOLE_TLS_KEYSTORE_PASSWORD", "secret-1"),
                    "--address",
                    "0.0.0.0:18480",
                    "--tls-keystore",
                    keystore.toString()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("or give --insecure to serve it without a user anyway");
  }

  @Test
  void shouldServeAnOpenAddressWithTlsAndAUser() throws Exception {
    Path keystore = keystore("secret-1");
    Path password = Files.writeString(dir.resolve("password"), "analyst-pw\n");
    ConsoleOptions.Config config =
        config(
            Map.of("FLOWSIGHT_CONSOLE_TLS_KEYSTORE_PASSWORD", "secret-1"),
            "--address",
            "0.0.0.0:18443",
            "--tls-keystore",
            keystore.toString(),
            "--username",
            "analyst",
            "--password-file",
            password.toString());
    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.security().scheme()).isEqualTo("https");
    assertThat(config.security().admits("analyst", "analyst-pw")).isTrue();
    assertThat(config.security().admits("analyst", "wrong")).isFalse();
    assertThat(warnings).isEmpty();
  }

  @Test
  void insecureShouldServeAnOpenAddressWithAWarning() {
    ConsoleOptions.Config config = config(Map.of(), "--address", "0.0.0.0:18480", "--insecure");
    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(warnings)
        .containsExactly("--insecure: serving on 0.0.0.0:18480 without TLS without a user");
  }

  @Test
  void shouldNameTheOptionOfAPasswordWithoutItsUserOrAUserWithoutItsPassword() {
    assertThatThrownBy(() -> config(Map.of("FLOWSIGHT_CONSOLE_PASSWORD", "x")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bad setting --username")
        .hasMessageContaining("a console password is set: set the user it belongs to");
    assertThatThrownBy(() -> config(Map.of(), "--username", "analyst"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bad setting --password-file")
        .hasMessageContaining("FLOWSIGHT_CONSOLE_PASSWORD");
  }

  @Test
  void shouldRefuseABadAddressAndDatasourceName() {
    assertThatThrownBy(() -> config(Map.of(), "--address", "18480"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("use HOST:PORT");
    assertThatThrownBy(() -> config(Map.of(), "--datasource", "flows\" --"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bad setting --datasource");
  }

  private Path keystore(String password) throws Exception {
    return TestCertificates.make(dir.resolve("certs"), password).serverP12();
  }
}
