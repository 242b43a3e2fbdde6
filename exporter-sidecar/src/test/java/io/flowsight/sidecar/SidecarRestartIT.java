package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.Side;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.sidecar.flow.StateFile;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.testing.Requirements;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A sidecar stopped cleanly and started again while connections stay open and keep sending: the
 * records of both runs add up to every connection's bytes exactly, each end's. Real kernel, real
 * program, two runs in this JVM one after the other with the same {@code --state-dir}.
 */
class SidecarRestartIT {

  private static final int CONNECTIONS = 200;

  /** This test's own addresses. */
  private static final String CLIENT = "127.0.0.42";

  private static final String SERVER = "127.0.0.43";

  @Test
  void shouldAddUpExactlyAcrossACleanRestart() throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    Path stateDir = Files.createTempDirectory("restart-it-state");
    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {
                  "--sink", "stdout",
                  "--interim-interval", "1s",
                  "--poll-interval", "10ms",
                  "--metrics-address", "127.0.0.1:0",
                  "--observer-id", "restart-it",
                  "--state-dir", stateDir.toString()
                },
                Map.of())
            .toConfig();
    Identity me = Identity.newBuilder().setApp("restart-it").build();
    InetAddress client = InetAddress.getByName(CLIENT);
    InetAddress server = InetAddress.getByName(SERVER);
    CollectingSink sink = new CollectingSink();
    SidecarMetrics firstMetrics = new SidecarMetrics();
    SidecarMetrics secondMetrics = new SidecarMetrics();
    Path stateFile = stateDir.resolve(StateFile.NAME);

    Sidecar first = Sidecar.start(config, firstMetrics, sink, ip -> me);
    Sidecar second = null;
    try (ConnectionFleet fleet = new ConnectionFleet(client, server, CONNECTIONS)) {
      fleet.round(0);
      // An interim snapshot between rounds: records of the first run before its last one.
      awaitInterim(sink, fleet);
      fleet.round(1);
      first.close();
      assertThat(stateFile).as("the open connections' state at a clean stop").exists();
      // While no sidecar runs, and right after the next one started (before its first snapshot).
      fleet.round(2);
      second = Sidecar.start(config, secondMetrics, sink, ip -> me);
      assertThat(stateFile).as("read once, then deleted").doesNotExist();
      fleet.round(3);
      awaitInterim(sink, fleet);
      fleet.round(4);
      fleet.closeAll();
      sink.await(
          r -> fleet.indexOf(r) >= 0 && r.getKind() == FlowKind.CLOSED,
          2 * CONNECTIONS,
          Duration.ofSeconds(30));
      Loopback.Ports marker = Loopback.exchange(client, server, 1, 1);
      sink.await(
          r -> r.getLocalPort() == marker.serverPort() || r.getRemotePort() == marker.serverPort(),
          2);

      List<FlowRecord> records = sink.matching(r -> fleet.indexOf(r) >= 0);
      Set<String> runs =
          records.stream().map(FlowRecord::getSidecarRunId).collect(Collectors.toSet());
      assertThat(runs).as("records of both runs").hasSize(2);
      assertExact(fleet, records);
      assertThat(records).extracting(FlowRecord::getPartial).containsOnly(false);
      assertThat(FlowTableOverflowIT.counter(secondMetrics, "connections_partial")).isZero();
    } finally {
      first.close();
      if (second != null) {
        second.close();
      }
    }
  }

  /** Waits for one more INTERIM record of each end of every connection. */
  private static void awaitInterim(CollectingSink sink, ConnectionFleet fleet)
      throws InterruptedException {
    int before =
        sink.matching(r -> fleet.indexOf(r) >= 0 && r.getKind() == FlowKind.INTERIM).size();
    sink.await(
        r -> fleet.indexOf(r) >= 0 && r.getKind() == FlowKind.INTERIM,
        before + 2 * CONNECTIONS,
        Duration.ofSeconds(10));
  }

  /** Per connection and end: the records' bytes are the truth, and there is one CLOSED record. */
  static void assertExact(ConnectionFleet fleet, List<FlowRecord> records) {
    long[][] sent = new long[fleet.size()][2];
    long[][] received = new long[fleet.size()][2];
    int[][] closed = new int[fleet.size()][2];
    for (FlowRecord r : records) {
      int i = fleet.indexOf(r);
      assertThat(r.getSide()).as("side of %s", r).isEqualTo(fleet.sideOf(r));
      int end = r.getSide().ordinal();
      sent[i][end] += r.getBytesSent();
      received[i][end] += r.getBytesReceived();
      if (r.getKind() == FlowKind.CLOSED) {
        closed[i][end]++;
      }
    }
    int c = Side.CLIENT.ordinal();
    int s = Side.SERVER.ordinal();
    for (int i = 0; i < fleet.size(); i++) {
      ConnectionFleet.Truth truth = fleet.truth(i);
      assertThat(new long[] {sent[i][c], received[i][c], sent[i][s], received[i][s]})
          .as("connection %d: client sent, received; server sent, received", i)
          .containsExactly(
              truth.clientToServer,
              truth.serverToClient,
              truth.serverToClient,
              truth.clientToServer);
      assertThat(new int[] {closed[i][c], closed[i][s]})
          .as("CLOSED records of connection %d", i)
          .containsExactly(1, 1);
    }
  }
}
