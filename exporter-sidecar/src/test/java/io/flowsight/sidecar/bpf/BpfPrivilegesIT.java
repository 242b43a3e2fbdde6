package io.flowsight.sidecar.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.testing.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What an operator sees when the sidecar lacks the privileges to load BPF. */
class BpfPrivilegesIT {

  @Test
  void shouldNameTheMissingCapabilitiesWhenLoadIsNotPermitted() throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) to drop caps");
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    // still uid 0 (so ~/.m2 stays readable), but with an empty bounding set: no capabilities
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                List.of(
                    "/usr/bin/setpriv",
                    "--bounding-set=-all",
                    "--inh-caps=-all",
                    java,
                    // its own libbpf log file: BpfFallbackIT reads this JVM's
                    "-Dflowsight.libbpfLog=target/libbpf-test-unprivileged.log",
                    "-cp",
                    System.getProperty("java.class.path"),
                    LoadProbe.class.getName()))
            .redirectErrorStream(true)
            .start();
    String out = read(p);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    System.out.println(
        "without capabilities: " + out.lines().filter(l -> l.startsWith("Bpf")).toList());
    assertThat(out)
        .contains("BpfException bpf_object__load 1 bpf_object__load failed (errno 1)")
        .contains("CAP_BPF and CAP_PERFMON");
  }

  private static String read(Process p) throws IOException {
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }
}
