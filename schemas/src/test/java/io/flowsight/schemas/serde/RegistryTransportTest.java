package io.flowsight.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryTransportTest {

  @TempDir Path dir;

  @Test
  void shouldSendBasicCredentialsInConfluentsKeys() {
    RegistryTransport t =
        RegistryTransport.fromMap(
            Map.of(
                "basic.auth.credentials.source", "USER_INFO",
                "basic.auth.user.info", "alice:s3cret"));

    // base64("alice:s3cret")
    assertThat(t.authorization()).isEqualTo("Basic YWxpY2U6czNjcmV0");
    assertThat(t.sslContext()).isNull();
    assertThat(t.toString()).contains("Basic <secret>").doesNotContain("YWxpY2U6czNjcmV0");
  }

  @Test
  void shouldSendABearerToken() {
    RegistryTransport t =
        RegistryTransport.fromMap(
            Map.of("bearer.auth.credentials.source", "STATIC_TOKEN", "bearer.auth.token", "tok"));

    assertThat(t.authorization()).isEqualTo("Bearer tok");
  }

  @Test
  void shouldBeNoneByDefault() {
    assertThat(RegistrySerdeConfig.of("http://r:8081").transport())
        .isEqualTo(RegistryTransport.NONE);
    assertThat(RegistryTransport.fromMap(Map.of())).isEqualTo(RegistryTransport.NONE);
  }

  @Test
  void shouldNameTheBadSetting() throws Exception {
    assertThatThrownBy(() -> RegistryTransport.fromMap(Map.of("basic.auth.user.info", "alice")))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("basic.auth.user.info must be user:password");
    Path empty = Files.writeString(dir.resolve("ca.pem"), "");
    assertThatThrownBy(
            () ->
                RegistryTransport.fromMap(
                    Map.of(
                        "schema.registry.ssl.truststore.location",
                        empty.toString(),
                        "schema.registry.ssl.truststore.type",
                        "PEM")))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("holds no PEM certificate");
    assertThatThrownBy(
            () ->
                RegistryTransport.fromMap(
                    Map.of(
                        "schema.registry.ssl.truststore.location",
                        dir.resolve("missing.p12").toString())))
        .isInstanceOf(SerdeException.class)
        .hasMessageContaining("cannot read the truststore")
        .hasMessageContaining("missing.p12");
  }
}
