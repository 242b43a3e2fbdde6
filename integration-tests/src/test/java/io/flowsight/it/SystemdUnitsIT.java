package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.config.CollectorOptions;
import io.flowsight.enrichment.IdentitySourceMain;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.testing.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The systemd units of {@code deploy/systemd/} as a VM install uses them: each passes {@code
 * systemd-analyze verify} without a word (an unknown key is only a warning there: here it fails),
 * runs as an unprivileged user with the capabilities it needs and no more, and its example settings
 * file is read by the service's own option parser (a key that is no option fails the start). PID 1
 * here is not systemd, so the units cannot be started; {@code CapabilitiesOnlyIT} (sidecar) runs
 * the sidecar as the sidecar unit does: user 65534 with exactly these capabilities.
 */
class SystemdUnitsIT {

  private static final Path UNITS = Repository.file("deploy/systemd");
  private static final Path SYSTEMD_ANALYZE = Path.of("/usr/bin/systemd-analyze");

  @Test
  void shouldPassSystemdsOwnVerificationWithoutAWarning() throws Exception {
    Requirements.require(Files.isExecutable(SYSTEMD_ANALYZE), "systemd-analyze (systemd)");
    List<Path> units = units();
    assertThat(units)
        .extracting(p -> p.getFileName().toString())
        .containsExactlyInAnyOrder(
            "flowsight-collector.service",
            "flowsight-identity-static.service",
            "flowsight-sidecar.service");
    for (Path unit : units) {
      Process p =
          new ProcessBuilder(SYSTEMD_ANALYZE.toString(), "verify", unit.toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(output).as("systemd-analyze verify %s", unit.getFileName()).isEmpty();
      assertThat(p.exitValue()).isZero();
    }
  }

  @Test
  void shouldRunTheSidecarAsAUserWithOnlyTheCaptureCapabilities() throws IOException {
    Map<String, String> sidecar = service("flowsight-sidecar.service");
    Set<String> capture = Set.of("CAP_BPF", "CAP_PERFMON", "CAP_DAC_READ_SEARCH");

    assertThat(sidecar.get("User")).isEqualTo("flowsight");
    assertThat(Set.of(sidecar.get("AmbientCapabilities").split(" "))).isEqualTo(capture);
    assertThat(Set.of(sidecar.get("CapabilityBoundingSet").split(" "))).isEqualTo(capture);
    assertThat(sidecar)
        .containsEntry("NoNewPrivileges", "yes")
        .containsEntry("ProtectSystem", "strict")
        .containsEntry("ProtectHome", "yes")
        .containsEntry("UMask", "0077")
        .containsEntry("StateDirectory", "flowsight/sidecar");
    // The JVM flags are those the local stack runs the sidecar with.
    String jvmOptions = Files.readString(Repository.file("deploy/sidecar.jvm.options")).trim();
    assertThat(sidecar.get("ExecStart"))
        .startsWith("/usr/bin/java " + jvmOptions + " -cp /usr/share/flowsight/sidecar/lib/* ")
        .contains("--config /etc/flowsight/sidecar.properties");
  }

  @Test
  void shouldRunTheCollectorAndTheIdentitySourceWithoutAnyCapability() throws IOException {
    for (String unit :
        List.of("flowsight-collector.service", "flowsight-identity-static.service")) {
      Map<String, String> service = service(unit);
      assertThat(service.get("User")).as(unit).isEqualTo("flowsight");
      assertThat(service).as(unit).containsEntry("CapabilityBoundingSet", "");
      assertThat(service).as(unit).doesNotContainKey("AmbientCapabilities");
      assertThat(service)
          .as(unit)
          .containsEntry("NoNewPrivileges", "yes")
          .containsEntry("ProtectSystem", "strict");
    }
  }

  @Test
  void shouldShipExampleSettingsThatTheServicesRead() throws Exception {
    Path etc = UNITS.resolve("etc");
    // Every key must be an option (else the start fails naming it) and every value valid.
    SidecarOptions.parse(
            new String[] {"--config", etc.resolve("sidecar.properties").toString()}, Map.of())
        .toConfig();
    CollectorOptions.parse(
            new String[] {"--config", etc.resolve("collector.properties").toString()}, Map.of())
        .toConfig();
    assertThat(
            IdentitySourceMain.run(
                "static",
                "--print-config",
                "--config",
                etc.resolve("identity.properties").toString(),
                "--file",
                "/etc/flowsight/identities.yaml"))
        .isZero();
    // Each unit reads the file of its service.
    assertThat(service("flowsight-sidecar.service").get("ExecStart"))
        .contains("--config /etc/flowsight/sidecar.properties");
    assertThat(service("flowsight-collector.service").get("ExecStart"))
        .contains("--config /etc/flowsight/collector.properties");
    assertThat(service("flowsight-identity-static.service").get("ExecStart"))
        .contains("--config /etc/flowsight/identity.properties");
  }

  private static List<Path> units() throws IOException {
    try (Stream<Path> files = Files.list(UNITS)) {
      return files.filter(p -> p.toString().endsWith(".service")).sorted().toList();
    }
  }

  /** The [Service] section's keys and values (a repeated key: the last one). */
  private static Map<String, String> service(String unit) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    boolean inService = false;
    for (String line : Files.readAllLines(UNITS.resolve(unit))) {
      String t = line.trim();
      if (t.startsWith("[")) {
        inService = t.equals("[Service]");
      } else if (inService && !t.isEmpty() && !t.startsWith("#") && t.contains("=")) {
        out.put(t.substring(0, t.indexOf('=')), t.substring(t.indexOf('=') + 1));
      }
    }
    return out;
  }
}
