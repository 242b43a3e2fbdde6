package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarMainTest {

  @TempDir Path dir;

  @Test
  void shouldLabelEachLocalAddressFromTheIdentityFileAndTheRestWithTheHost() throws IOException {
    Path file = dir.resolve("identities.yaml");
    Files.writeString(
        file,
        "identities:\n"
            + "  - ip: 127.0.0.2\n    app: frontend\n"
            + "  - cidr: 127.0.0.0/8\n    app: localhost\n");
    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {"--identity-file", file.toString(), "--identity.app", "vm-app"},
                Map.of())
            .toConfig();

    Function<byte[], Identity> identity = SidecarMain.localIdentity(config);

    assertThat(identity.apply(IpAddresses.parse("127.0.0.2")).getApp()).isEqualTo("frontend");
    assertThat(identity.apply(IpAddresses.parse("127.0.0.9")).getApp()).isEqualTo("localhost");
    assertThat(identity.apply(IpAddresses.parse("10.1.2.3")).getApp()).isEqualTo("vm-app");
  }

  @Test
  void shouldExitWithCode2AndNameTheSettingOnABadConfiguration() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--max-connections", "ten"},
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("bad setting --max-connections (env FLOWSIGHT_SIDECAR_MAX_CONNECTIONS")
        .contains("'ten': use a whole number from 1024 to 16777216");
  }

  @Test
  void shouldExitWithCode2WhenTheStateDirectoryCannotBeCreated() throws IOException {
    Path blocker = dir.resolve("a-file");
    Files.writeString(blocker, "");
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--state-dir", blocker.resolve("state").toString(), "--sink", "stdout"},
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("bad setting --state-dir (env FLOWSIGHT_SIDECAR_STATE_DIR")
        .contains("cannot create or write it");
  }

  @Test
  void shouldRejectAnUnknownFlag() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--ring-size", "1"},
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("Unknown options: '--ring-size'");
  }

  @Test
  void shouldPrintEachEffectiveSettingAndWhereItCameFrom() throws IOException {
    Path file = dir.resolve("sidecar.properties");
    Files.writeString(file, "ring-buffer-size=8MiB\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--print-config", "--config", file.toString(), "--topic", "t1"},
            Map.of("FLOWSIGHT_SIDECAR_INTERIM_INTERVAL", "30s"),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8).lines())
        .anyMatch(l -> l.matches("--topic +t1  \\(flag\\)"))
        .anyMatch(
            l ->
                l.matches(
                    "--interim-interval +30s  \\(environment FLOWSIGHT_SIDECAR_INTERIM_INTERVAL\\)"))
        .anyMatch(l -> l.matches("--ring-buffer-size +8MiB  \\(file .*, key ring-buffer-size\\)"))
        .anyMatch(l -> l.matches("--poll-interval +50ms  \\(default\\)"));
  }

  @Test
  void shouldRefuseAConfigFileKeyThatIsNoOption() throws IOException {
    Path file = dir.resolve("sidecar.properties");
    Files.writeString(file, "ringbuffer-size=8MiB\n");
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--config", file.toString()},
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("unknown key 'ringbuffer-size' in --config")
        .contains("did you mean 'ring-buffer-size'?");
  }
}
