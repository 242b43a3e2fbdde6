package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.testing.Requirements;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import java.net.InetAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * More connections than {@code --max-connections} on this machine's kernel: the flow table and the
 * kernel's socket map are both full, and still every connection's records add up to its bytes
 * exactly, each end's.
 */
class FlowTableOverflowIT {

  /** Twice the cap in sockets: 1,500 connections, 3,000 ends. */
  private static final int CONNECTIONS = 1500;

  private static final int ROUNDS = 4;

  /** This test's own addresses; records of other tests' traffic are left aside. */
  private static final String CLIENT = "127.0.0.40";

  private static final String SERVER = "127.0.0.41";

  @Test
  void shouldReportEveryConnectionsBytesExactlyWhenTheTableIsFull() throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    CollectingSink sink = new CollectingSink();
    SidecarMetrics metrics = new SidecarMetrics();
    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {
                  "--sink", "stdout",
                  "--max-connections", "1024",
                  "--interim-interval", "1s",
                  "--poll-interval", "10ms",
                  "--metrics-address", "127.0.0.1:0",
                  "--observer-id", "overflow-it",
                  "--state-dir", Files.createTempDirectory("overflow-it-state").toString()
                },
                Map.of())
            .toConfig();
    Identity me = Identity.newBuilder().setApp("overflow-it").build();
    InetAddress client = InetAddress.getByName(CLIENT);
    InetAddress server = InetAddress.getByName(SERVER);

    Sidecar sidecar = Sidecar.start(config, metrics, sink, ip -> me);
    try (ConnectionFleet fleet = new ConnectionFleet(client, server, CONNECTIONS)) {
      long maxUntracked = 0;
      for (int round = 0; round < ROUNDS; round++) {
        fleet.round(round);
        // Let an interim snapshot pass between rounds (the interval is 1 s): each round's bytes
        // are reported by another snapshot, or by the close.
        Thread.sleep(1300);
        maxUntracked = Math.max(maxUntracked, (long) gauge(metrics, "connections_untracked"));
      }
      fleet.closeAll();

      // Every end's CLOSED record, then a marker connection closed after them: once its records
      // are out, nothing about the fleet is still queued.
      sink.await(
          r -> fleet.indexOf(r) >= 0 && r.getKind() == FlowKind.CLOSED,
          2 * CONNECTIONS,
          Duration.ofSeconds(60));
      Loopback.Ports marker = Loopback.exchange(client, server, 1, 1);
      sink.await(
          r -> r.getLocalPort() == marker.serverPort() || r.getRemotePort() == marker.serverPort(),
          2);

      List<FlowRecord> records = sink.matching(r -> fleet.indexOf(r) >= 0);
      long[][] sentByEnd = new long[CONNECTIONS][2];
      long[][] receivedByEnd = new long[CONNECTIONS][2];
      int[][] closedByEnd = new int[CONNECTIONS][2];
      int interim = 0;
      for (FlowRecord r : records) {
        int i = fleet.indexOf(r);
        assertThat(r.getSide()).as("side of %s", r).isEqualTo(fleet.sideOf(r));
        assertThat(r.getServicePort()).isEqualTo(fleet.serverPort());
        assertThat(r.getPartial()).isFalse();
        int end = r.getSide().ordinal();
        sentByEnd[i][end] += r.getBytesSent();
        receivedByEnd[i][end] += r.getBytesReceived();
        if (r.getKind() == FlowKind.CLOSED) {
          closedByEnd[i][end]++;
        } else {
          interim++;
        }
      }
      int wrong = 0;
      StringBuilder firstWrong = new StringBuilder();
      for (int i = 0; i < CONNECTIONS; i++) {
        ConnectionFleet.Truth truth = fleet.truth(i);
        int c = io.flowsight.schemas.Side.CLIENT.ordinal();
        int s = io.flowsight.schemas.Side.SERVER.ordinal();
        boolean exact =
            sentByEnd[i][c] == truth.clientToServer
                && receivedByEnd[i][c] == truth.serverToClient
                && sentByEnd[i][s] == truth.serverToClient
                && receivedByEnd[i][s] == truth.clientToServer
                && closedByEnd[i][c] == 1
                && closedByEnd[i][s] == 1;
        if (!exact && wrong++ == 0) {
          firstWrong.append(
              String.format(
                  "connection %d: truth %d up / %d down; client end %d / %d, server end %d / %d,"
                      + " CLOSED records %d and %d",
                  i,
                  truth.clientToServer,
                  truth.serverToClient,
                  sentByEnd[i][c],
                  receivedByEnd[i][c],
                  sentByEnd[i][s],
                  receivedByEnd[i][s],
                  closedByEnd[i][c],
                  closedByEnd[i][s]));
        }
      }
      assertThat(wrong).as("connections with wrong totals; first: %s", firstWrong).isZero();
      assertThat(interim).as("INTERIM records of the tracked connections").isPositive();
      assertThat(maxUntracked)
          .as("sockets found without room in the table at a snapshot")
          .isGreaterThanOrEqualTo(2L * CONNECTIONS - 1024);
      double overCapacity = counter(metrics, "connections_over_capacity");
      assertThat(overCapacity)
          .as("over capacity: counted once per connection, not per snapshot")
          .isGreaterThanOrEqualTo(2.0 * CONNECTIONS - 1024)
          .isLessThanOrEqualTo(2.0 * CONNECTIONS + 1024);
    } finally {
      sidecar.close();
    }
  }

  private static double gauge(SidecarMetrics metrics, String name) {
    return metrics.registry().scrape().stream()
        .filter(m -> m.getMetadata().getName().equals("flowsight_sidecar_" + name))
        .flatMap(m -> m.getDataPoints().stream())
        .mapToDouble(p -> ((GaugeSnapshot.GaugeDataPointSnapshot) p).getValue())
        .sum();
  }

  static double counter(SidecarMetrics metrics, String name) {
    return metrics.registry().scrape().stream()
        .filter(m -> m.getMetadata().getName().equals("flowsight_sidecar_" + name))
        .flatMap(m -> m.getDataPoints().stream())
        .mapToDouble(p -> ((CounterSnapshot.CounterDataPointSnapshot) p).getValue())
        .sum();
  }
}
