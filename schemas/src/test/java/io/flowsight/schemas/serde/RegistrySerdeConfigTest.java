package io.flowsight.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.schemas.serde.SerdeException.Reason;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegistrySerdeConfigTest {

  @Test
  void shouldReadConfluentKeysWithDefaults() {
    RegistrySerdeConfig config =
        RegistrySerdeConfig.fromMap(
            Map.of("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7/"));

    assertThat(config.registryUrl()).hasToString("http://127.0.0.1:8081/apis/ccompat/v7");
    assertThat(config.autoRegister()).isTrue();
    assertThat(config.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void shouldReadAutoRegisterAndTimeout() {
    RegistrySerdeConfig config =
        RegistrySerdeConfig.fromMap(
            Map.of(
                "schema.registry.url", "http://r:1",
                "auto.register.schemas", "false",
                "schema.registry.request.timeout.ms", "2500"));

    assertThat(config.autoRegister()).isFalse();
    assertThat(config.requestTimeout()).isEqualTo(Duration.ofMillis(2500));
  }

  @Test
  void shouldNameTheMissingUrlAndTheFix() {
    assertThatThrownBy(() -> RegistrySerdeConfig.fromMap(Map.of()))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("schema.registry.url is missing")
        .hasMessageContaining("http://127.0.0.1:8081/apis/ccompat/v7")
        .extracting(e -> ((SerdeException) e).reason())
        .isEqualTo(Reason.BAD_CONFIGURATION);
  }

  @Test
  void shouldRejectANonHttpUrl() {
    assertThatThrownBy(
            () -> RegistrySerdeConfig.fromMap(Map.of("schema.registry.url", "ftp://r/x")))
        .hasMessageContaining("schema.registry.url=ftp://r/x is not an http(s) URL");
  }

  @Test
  void shouldNameABadBooleanAndABadTimeout() {
    assertThatThrownBy(
            () ->
                RegistrySerdeConfig.fromMap(
                    Map.of("schema.registry.url", "http://r:1", "auto.register.schemas", "yes")))
        .hasMessageContaining("auto.register.schemas=yes is not true or false");
    assertThatThrownBy(
            () ->
                RegistrySerdeConfig.fromMap(
                    Map.of(
                        "schema.registry.url",
                        "http://r:1",
                        "schema.registry.request.timeout.ms",
                        "10s")))
        .hasMessageContaining("schema.registry.request.timeout.ms=10s is not a number");
  }
}
