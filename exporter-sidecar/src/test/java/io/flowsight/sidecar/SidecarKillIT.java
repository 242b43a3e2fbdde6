package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.flow.StateFile;
import io.flowsight.testing.Requirements;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The sidecar as its own process ({@code --sink stdout}, started as {@code ./flowsight sidecar}
 * starts it), killed with SIGKILL and started again while connections stay open: the new run has no
 * state, so it takes the open connections' counters as their baseline and marks their first record
 * partial; nothing is counted twice.
 */
class SidecarKillIT {

  private static final int CONNECTIONS = 100;

  /** This test's own addresses. */
  private static final String CLIENT = "127.0.0.44";

  private static final String SERVER = "127.0.0.45";

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldNeitherCountTwiceNorHideWhatALaterRunMissedAfterASigkill() throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    Path stateDir = Files.createTempDirectory("kill-it-state");
    InetAddress client = InetAddress.getByName(CLIENT);
    InetAddress server = InetAddress.getByName(SERVER);

    try (ConnectionFleet fleet = new ConnectionFleet(client, server, CONNECTIONS)) {
      fleet.round(0); // before any sidecar: in no record
      SidecarProcess first = SidecarProcess.start(stateDir);
      SidecarProcess second = null;
      try {
        // Open before a start without state: taken over at the start with their counters as the
        // baseline; the first snapshot's records are partial (and carry nothing: no traffic).
        List<JsonNode> taken = first.awaitRecords(fleet, 2 * CONNECTIONS);
        assertThat(taken).extracting(r -> r.get("partial").asBoolean()).containsOnly(true);
        assertThat(taken).extracting(r -> r.get("bytesSent").asLong()).containsOnly(0L);
        fleet.round(1);
        fleet.round(2);
        // Both rounds reported by the first run, then it dies without a word.
        first.awaitSums(fleet, 1, 2);
        first.process.destroyForcibly().waitFor();
        assertThat(stateDir.resolve(StateFile.NAME)).as("no state after SIGKILL").doesNotExist();

        fleet.round(3); // no sidecar runs: not in any record
        second = SidecarProcess.start(stateDir);
        fleet.round(4);
        // The second run's first records (partial), then more traffic for later ones.
        second.awaitRecords(fleet, 2 * CONNECTIONS);
        fleet.round(5);
        fleet.closeAll();
        second.awaitRecords(fleet, r -> r.get("kind").asText().equals("CLOSED"), 2 * CONNECTIONS);
        Loopback.Ports marker = Loopback.exchange(client, server, 1, 1);
        second.await(
            r ->
                r.get("localPort").asInt() == marker.serverPort()
                    && r.get("kind").asText().equals("CLOSED"),
            1);

        // The second run: exactly rounds 4 and 5, its first record of each end partial.
        second.assertSums(fleet, 4, 5);
        for (int i = 0; i < CONNECTIONS; i++) {
          for (String side : List.of("CLIENT", "SERVER")) {
            List<JsonNode> ofEnd = second.recordsOf(fleet, i, side);
            assertThat(ofEnd).as("records of connection %d's %s", i, side).hasSizeGreaterThan(1);
            assertThat(ofEnd.get(0).get("partial").asBoolean()).as("first record").isTrue();
            assertThat(ofEnd.subList(1, ofEnd.size()))
                .extracting(r -> r.get("partial").asBoolean())
                .as("later records")
                .containsOnly(false);
          }
        }
        // The first run: exactly rounds 1 and 2, nothing after its death.
        first.assertSums(fleet, 1, 2);
        assertThat(second.metric("flowsight_sidecar_connections_partial_total"))
            .as("connections taken over without state, counted")
            .isGreaterThanOrEqualTo(2.0 * CONNECTIONS);
      } finally {
        first.process.destroyForcibly();
        if (second != null) {
          second.process.destroy();
          second.process.waitFor();
        }
      }
    }
  }

  /** A sidecar JVM and the records it prints. */
  private static final class SidecarProcess {
    final Process process;
    final int metricsPort;
    final List<JsonNode> records = new ArrayList<>();

    private SidecarProcess(Process process, int metricsPort) {
      this.process = process;
      this.metricsPort = metricsPort;
    }

    static SidecarProcess start(Path stateDir) throws Exception {
      int port;
      try (ServerSocket free = new ServerSocket(0)) {
        port = free.getLocalPort();
      }
      Path log = Files.createTempFile("kill-it-sidecar-", ".log");
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-cp",
                  classpath(),
                  SidecarMain.class.getName(),
                  "--sink",
                  "stdout",
                  "--interim-interval",
                  "1s",
                  "--poll-interval",
                  "10ms",
                  "--metrics-address",
                  "127.0.0.1:" + port,
                  "--observer-id",
                  "kill-it",
                  "--state-dir",
                  stateDir.toString())
              .redirectError(log.toFile())
              .start();
      SidecarProcess sidecar = new SidecarProcess(p, port);
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = in.readLine()) != null) {
                    JsonNode record = JSON.readTree(line);
                    synchronized (sidecar) {
                      sidecar.records.add(record);
                      sidecar.notifyAll();
                    }
                  }
                } catch (IOException e) {
                  // the process ended
                }
              },
              "kill-it-stdout");
      reader.setDaemon(true);
      reader.start();
      // /health answers once the program is attached and the sockets open at start are taken.
      HttpClient http = HttpClient.newHttpClient();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (true) {
        assertThat(p.isAlive()).as("sidecar process (log %s)", log).isTrue();
        try {
          HttpResponse<String> health =
              http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (health.statusCode() == 200) {
            return sidecar;
          }
        } catch (IOException notYet) {
          // not listening yet
        }
        assertThat(System.nanoTime())
            .as("sidecar up within 60 s (log %s)", log)
            .isLessThan(deadline);
        Thread.sleep(100);
      }
    }

    /** How {@code ./flowsight sidecar} runs it: the module's classes and its runtime classpath. */
    private static String classpath() throws IOException {
      Path runtime = Path.of("target", "runtime.classpath");
      if (Files.exists(runtime)) {
        return Path.of("target", "classes").toAbsolutePath()
            + java.io.File.pathSeparator
            + Files.readString(runtime).trim();
      }
      return System.getProperty("java.class.path");
    }

    synchronized List<JsonNode> matching(Predicate<JsonNode> filter) {
      return records.stream().filter(filter).toList();
    }

    synchronized List<JsonNode> await(Predicate<JsonNode> filter, int count)
        throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      List<JsonNode> found = matching(filter);
      while (found.size() < count && System.nanoTime() < deadline) {
        wait(50);
        found = matching(filter);
      }
      assertThat(found).as("records after 30 s").hasSizeGreaterThanOrEqualTo(count);
      return found;
    }

    List<JsonNode> awaitRecords(ConnectionFleet fleet, int count) throws InterruptedException {
      return awaitRecords(fleet, r -> true, count);
    }

    List<JsonNode> awaitRecords(ConnectionFleet fleet, Predicate<JsonNode> filter, int count)
        throws InterruptedException {
      return await(r -> index(fleet, r) >= 0 && filter.test(r), count);
    }

    /** Waits until the records of every end add up to the given rounds. */
    synchronized void awaitSums(ConnectionFleet fleet, int fromRound, int toRound)
        throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!sumsAre(fleet, fromRound, toRound) && System.nanoTime() < deadline) {
        wait(100);
      }
      assertSums(fleet, fromRound, toRound);
    }

    /**
     * The run's records of each end add up to exactly the bytes of rounds {@code fromRound} to
     * {@code toRound}: what was sent while it ran, not before (partial records included).
     */
    synchronized void assertSums(ConnectionFleet fleet, int fromRound, int toRound) {
      for (int i = 0; i < fleet.size(); i++) {
        long up = 0;
        long down = 0;
        for (int round = fromRound; round <= toRound; round++) {
          up += ConnectionFleet.up(i, round);
          down += ConnectionFleet.down(i, round);
        }
        long[] client = sums(recordsOf(fleet, i, "CLIENT"));
        long[] server = sums(recordsOf(fleet, i, "SERVER"));
        assertThat(new long[] {client[0], client[1], server[0], server[1]})
            .as("connection %d: client sent, received; server sent, received", i)
            .containsExactly(up, down, down, up);
      }
    }

    private synchronized boolean sumsAre(ConnectionFleet fleet, int fromRound, int toRound) {
      try {
        assertSums(fleet, fromRound, toRound);
        return true;
      } catch (AssertionError notYet) {
        return false;
      }
    }

    /** Bytes sent and received over a run's records of one end. */
    private static long[] sums(List<JsonNode> ofEnd) {
      long sent = 0;
      long received = 0;
      for (JsonNode r : ofEnd) {
        sent += r.get("bytesSent").asLong();
        received += r.get("bytesReceived").asLong();
      }
      return new long[] {sent, received};
    }

    synchronized List<JsonNode> recordsOf(ConnectionFleet fleet, int i, String side) {
      return records.stream()
          .filter(r -> index(fleet, r) == i && r.get("side").asText().equals(side))
          .toList();
    }

    double metric(String name) throws Exception {
      String body =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(body);
      assertThat(m.find()).as("%s in /metrics", name).isTrue();
      return Double.parseDouble(m.group(1));
    }

    private static int index(ConnectionFleet fleet, JsonNode r) {
      try {
        return fleet.indexOf(
            InetAddress.getByName(r.get("localIp").asText()),
            r.get("localPort").asInt(),
            InetAddress.getByName(r.get("remoteIp").asText()),
            r.get("remotePort").asInt());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
