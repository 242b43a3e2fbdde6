package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.testing.Requirements;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar as a deployment runs it: not root, an unprivileged user (65534, nobody) holding only
 * the named capabilities, given by {@code setpriv} as systemd's {@code AmbientCapabilities} or a
 * Kubernetes {@code securityContext} would. With CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH (the
 * tracepoint's id is read from tracefs, mode 0700 root) it reports a loopback connection with its
 * exact bytes on both ends; without CAP_DAC_READ_SEARCH it stops and names the missing capability.
 */
class CapabilitiesOnlyIT {

  private static final String NOBODY = "65534";
  private static final String SERVER = "127.0.0.72";
  private static final String CLIENT = "127.0.0.73";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private Path classpath;

  @BeforeEach
  void setUp() throws IOException {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    Requirements.require(
        Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) to drop root");
    // The test's class path lives where nobody may read it (/root/.m2): a readable copy.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    classpath = dir.resolve("lib");
    Files.createDirectories(classpath);
    List<String> entries = new ArrayList<>();
    int i = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (entry.contains("test-classes") || entry.endsWith("-tests.jar")) {
        continue; // the tests' own logging configuration would win over the sidecar's
      }
      Path from = Path.of(entry);
      Path to = classpath.resolve(i++ + "-" + from.getFileName());
      copyReadable(from, to);
      entries.add(to.toString());
    }
    Files.writeString(dir.resolve("classpath"), String.join(File.pathSeparator, entries));
  }

  @Test
  void shouldReportExactRecordsAsAnUnprivilegedUserWithOnlyTheNamedCapabilities() throws Exception {
    Path state = stateDir();
    Path records = dir.resolve("records.jsonl");
    Process sidecar = start("+bpf,+perfmon,+dac_read_search", state, records);
    try {
      awaitRunning(sidecar);
      Loopback.Ports ports =
          Loopback.exchange(InetAddress.getByName(CLIENT), InetAddress.getByName(SERVER), 123, 321);

      JsonNode client = awaitRecord(records, CLIENT, ports.clientPort());
      JsonNode server = awaitRecord(records, SERVER, ports.serverPort());

      assertThat(client.path("side").asText()).isEqualTo("CLIENT");
      assertThat(client.path("remoteIp").asText()).isEqualTo(SERVER);
      assertThat(client.path("servicePort").asInt()).isEqualTo(ports.serverPort());
      assertThat(client.path("bytesSent").asLong()).isEqualTo(123);
      assertThat(client.path("bytesReceived").asLong()).isEqualTo(321);
      assertThat(server.path("side").asText()).isEqualTo("SERVER");
      assertThat(server.path("remotePort").asInt()).isEqualTo(ports.clientPort());
      assertThat(server.path("bytesSent").asLong()).isEqualTo(321);
      assertThat(server.path("bytesReceived").asLong()).isEqualTo(123);
      assertThat(sidecar.isAlive()).as("sidecar still running").isTrue();
    } finally {
      sidecar.destroy();
      sidecar.waitFor(20, TimeUnit.SECONDS);
    }
    // It saved its flow table, as nobody, in its own state directory.
    assertThat(Files.exists(state.resolve("flow-table.state"))).isTrue();
  }

  @Test
  void shouldStopAndNameTheMissingCapabilityWhenTracefsCannotBeRead() throws Exception {
    Process sidecar = start("+bpf,+perfmon", stateDir(), dir.resolve("records.jsonl"));
    assertThat(sidecar.waitFor(60, TimeUnit.SECONDS)).as("sidecar stopped").isTrue();

    assertThat(sidecar.exitValue()).isEqualTo(3);
    assertThat(Files.readString(dir.resolve("sidecar.log")))
        .contains("bpf_program__attach(on_set_state)")
        .contains("CAP_DAC_READ_SEARCH");
  }

  // ---- helpers
  // -----------------------------------------------------------------------------------

  private Path stateDir() throws IOException {
    Path state = dir.resolve("state");
    Files.createDirectories(state);
    Files.setAttribute(state, "unix:uid", Integer.parseInt(NOBODY));
    Files.setAttribute(state, "unix:gid", Integer.parseInt(NOBODY));
    return state;
  }

  /** The sidecar as user 65534 with exactly {@code caps} (setpriv syntax), stdout to records. */
  private Process start(String caps, Path state, Path records) throws IOException {
    int metricsPort;
    try (ServerSocket free = new ServerSocket(0)) {
      metricsPort = free.getLocalPort();
    }
    List<String> command =
        List.of(
            "/usr/bin/setpriv",
            "--reuid=" + NOBODY,
            "--regid=" + NOBODY,
            "--clear-groups",
            "--inh-caps=-all," + caps,
            "--ambient-caps=-all," + caps,
            "--bounding-set=-all," + caps,
            "--",
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx64m",
            "-cp",
            Files.readString(dir.resolve("classpath")),
            "io.flowsight.sidecar.SidecarMain",
            "--sink",
            "stdout",
            "--poll-interval",
            "10ms",
            "--state-dir",
            state.toString(),
            "--metrics-address",
            "127.0.0.1:" + metricsPort,
            "--observer-id",
            "capabilities-it");
    return new ProcessBuilder(command)
        .redirectOutput(records.toFile())
        .redirectError(dir.resolve("sidecar.log").toFile())
        .start();
  }

  private void awaitRunning(Process sidecar) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Path log = dir.resolve("sidecar.log");
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains("sidecar running")) {
        return;
      }
      if (!sidecar.isAlive()) {
        throw new AssertionError(
            "the sidecar stopped with " + sidecar.exitValue() + ":\n" + Files.readString(log));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the sidecar did not start within 60 s:\n" + Files.readString(log));
  }

  /** The CLOSED record whose local end is {@code ip}:{@code port}. */
  private static JsonNode awaitRecord(Path records, String ip, int port) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      for (String line : Files.readAllLines(records)) {
        if (!line.startsWith("{")) {
          continue;
        }
        JsonNode r = JSON.readTree(line);
        if (ip.equals(r.path("localIp").asText())
            && r.path("localPort").asInt() == port
            && "CLOSED".equals(r.path("kind").asText())) {
          return r;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no CLOSED record for " + ip + ":" + port + " within 30 s");
  }

  private static void copyReadable(Path from, Path to) throws IOException {
    if (Files.isDirectory(from)) {
      try (Stream<Path> walk = Files.walk(from)) {
        for (Path p : (Iterable<Path>) walk::iterator) {
          Path target = to.resolve(from.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
          } else {
            Files.copy(p, target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
          }
        }
      }
    } else if (Files.exists(from)) {
      Files.copy(from, to);
      Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
    }
  }
}
