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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class RegistrySecurityOptionsTest {

  @Command(name = "svc")
  static final class Service {
    @Mixin RegistrySecurityOptions registrySecurity = new RegistrySecurityOptions();
  }

  private final List<String> warnings = new ArrayList<>();
  private final Settings settings =
      new Settings(
          "FLOWSIGHT_SVC_",
          RegistrySecurityOptions.secretVariables("FLOWSIGHT_SVC_"),
          Map.of(),
          warnings::add);

  @TempDir Path dir;

  private Map<String, String> properties(Map<String, String> env, String url, String... args) {
    return settings
        .parse(new Service(), args, env)
        .registrySecurity
        .clientProperties(settings, env, url);
  }

  @Test
  void shouldGiveBasicAuthAndTrustInTheSerdesKeys() throws Exception {
    Path password = Files.writeString(dir.resolve("registry-password"), "pw\n");
    Path trust = Files.writeString(dir.resolve("ca.crt"), "x");

    assertThat(
            properties(
                Map.of(),
                "https://registry:8443/apis/ccompat/v7",
                "--registry-username=flowsight",
                "--registry-password-file=" + password,
                "--registry-truststore=" + trust))
        .containsExactly(
            Map.entry("basic.auth.credentials.source", "USER_INFO"),
            Map.entry("basic.auth.user.info", "flowsight:pw"),
            Map.entry("schema.registry.ssl.truststore.location", trust.toString()),
            Map.entry("schema.registry.ssl.truststore.type", "PEM"));
  }

  @Test
  void shouldTakeATokenFromTheEnvironmentWithoutWarning() {
    assertThat(properties(Map.of("FLOWSIGHT_SVC_REGISTRY_TOKEN", "tok"), "http://r:8081"))
        .containsExactly(
            Map.entry("bearer.auth.credentials.source", "STATIC_TOKEN"),
            Map.entry("bearer.auth.token", "tok"));
    assertThat(warnings).isEmpty();
    assertThat(properties(Map.of(), "http://r:8081")).isEmpty();
  }

  @Test
  void shouldNameTheSettingAndTheFix() throws Exception {
    assertThatThrownBy(() -> properties(Map.of(), "http://r:8081", "--registry-username=u"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--registry-password-file")
        .hasMessageContaining("FLOWSIGHT_SVC_REGISTRY_PASSWORD");
    assertThatThrownBy(
            () -> properties(Map.of("FLOWSIGHT_SVC_REGISTRY_PASSWORD", "pw"), "http://r:8081"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--registry-username")
        .hasMessageContaining("set the user it belongs to");
    Path trust = Files.writeString(dir.resolve("ca.pem"), "x");
    assertThatThrownBy(
            () -> properties(Map.of(), "http://r:8081", "--registry-truststore=" + trust))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("use an https:// --registry-url");
  }
}
