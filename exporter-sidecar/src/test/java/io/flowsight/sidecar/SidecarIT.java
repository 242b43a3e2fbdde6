package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.Side;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.bpf.HookStatus;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.testing.Requirements;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole capture path on this machine's kernel: the eBPF program, the ring buffer, the flow
 * table, down to the records a sink receives, for connections the test makes itself.
 */
class SidecarIT {

  private static final CollectingSink sink = new CollectingSink();
  private static final SidecarMetrics metrics = new SidecarMetrics();
  private static final Identity ME =
      Identity.newBuilder().setApp("sidecar-it").setZone("local-a").build();
  private static Sidecar sidecar;

  /** 127.0.0.8 to 127.0.0.11: connections within it are excluded; no other test uses it. */
  private static final String EXCLUDED_BLOCK = "127.0.0.8/30";

  @BeforeAll
  static void start() throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    int metricsPort;
    try (ServerSocket free = new ServerSocket(0)) {
      metricsPort = free.getLocalPort();
    }
    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {
                  "--sink", "stdout",
                  "--interim-interval", "1s",
                  "--poll-interval", "10ms",
                  "--metrics-address", "127.0.0.1:" + metricsPort,
                  "--observer-id", "sidecar-it",
                  "--exclude", EXCLUDED_BLOCK,
                  "--state-dir", Files.createTempDirectory("sidecar-it-state").toString()
                },
                Map.of())
            .toConfig();
    sidecar = Sidecar.start(config, metrics, sink, ip -> ME);
  }

  @AfterAll
  static void stop() {
    if (sidecar != null) {
      sidecar.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1"})
  void shouldReportOneClosedRecordPerSideWithExactPortsAndPayloadBytes(String address)
      throws Exception {
    InetAddress loopback = InetAddress.getByName(address);
    Loopback.Ports ports = Loopback.exchange(loopback, 1000, 5000);

    List<FlowRecord> records =
        sink.await(r -> involves(r, ports) && r.getKind() == FlowKind.CLOSED, 2);

    FlowRecord client = only(records, Side.CLIENT);
    assertThat(client.getLocalPort()).isEqualTo(ports.clientPort());
    assertThat(client.getRemotePort()).isEqualTo(ports.serverPort());
    assertThat(client.getServicePort()).isEqualTo(ports.serverPort());
    assertThat(client.getBytesSent()).isEqualTo(1000);
    assertThat(client.getBytesReceived()).isEqualTo(5000);
    assertThat(client.getPid()).isEqualTo((int) ProcessHandle.current().pid());
    assertThat(client.getProcessName()).isEqualTo("java");
    assertThat(client.getConnectLatencyMicros()).isPositive();
    assertThat(client.getLocalIdentity()).isEqualTo(ME);
    assertThat(client.getObserverId()).isEqualTo("sidecar-it");
    assertThat(toAddress(client.getLocalIp())).isEqualTo(loopback);

    FlowRecord server = only(records, Side.SERVER);
    assertThat(server.getLocalPort()).isEqualTo(ports.serverPort());
    assertThat(server.getRemotePort()).isEqualTo(ports.clientPort());
    assertThat(server.getServicePort()).isEqualTo(ports.serverPort());
    assertThat(server.getBytesSent()).isEqualTo(5000);
    assertThat(server.getBytesReceived()).isEqualTo(1000);
    assertThat(server.getSegmentsReceived()).isPositive();
    assertThat(server.getSrttMicros()).isPositive();

    // Exactly one record per side: nothing else arrives for this connection. A marker connection
    // closed after it: once its records are out, everything queued before them is too.
    awaitMarker(loopback);
    assertThat(sink.matching(r -> involves(r, ports))).hasSize(2);
  }

  @Test
  void shouldNotReportConnectionsWithBothEndsInAnExcludedBlock() throws Exception {
    double excludedBefore = excludedCount();
    InetAddress inside = InetAddress.getByName("127.0.0.9");
    Loopback.Ports hidden =
        Loopback.exchange(inside, InetAddress.getByName("127.0.0.10"), 100, 200);
    // One end outside the block: reported as usual. Its records arriving means the excluded
    // connection's events, which came first from the same ring buffer, were handled too.
    Loopback.Ports shown = Loopback.exchange(inside, InetAddress.getByName("127.0.0.12"), 100, 200);

    List<FlowRecord> reported =
        sink.await(r -> involves(r, shown) && r.getKind() == FlowKind.CLOSED, 2);
    assertThat(reported).hasSize(2);
    assertThat(sink.matching(r -> involves(r, hidden))).isEmpty();
    assertThat(excludedCount() - excludedBefore).isEqualTo(2.0); // one record per side
  }

  private static double excludedCount() {
    return metrics.registry().scrape().stream()
        .filter(m -> m.getMetadata().getName().equals("flowsight_sidecar_records_excluded"))
        .flatMap(m -> m.getDataPoints().stream())
        .mapToDouble(p -> ((CounterSnapshot.CounterDataPointSnapshot) p).getValue())
        .sum();
  }

  @Test
  void shouldReportARefusedConnectAsOneFailedConnect() throws Exception {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    int port = Loopback.closedPort(loopback);
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(loopback, port));
      throw new AssertionError("connect to a closed port succeeded");
    } catch (ConnectException expected) {
      // refused, as intended
    }

    List<FlowRecord> records =
        sink.await(r -> r.getKind() == FlowKind.FAILED_CONNECT && r.getRemotePort() == port, 1);

    FlowRecord failed = records.get(0);
    assertThat(failed.getSide()).isEqualTo(Side.CLIENT);
    assertThat(failed.getServicePort()).isEqualTo(port);
    assertThat(failed.getBytesSent()).isZero();
    assertThat(failed.getPid()).isEqualTo((int) ProcessHandle.current().pid());
    awaitMarker(loopback);
    assertThat(sink.matching(r -> r.getRemotePort() == port || r.getLocalPort() == port))
        .hasSize(1);
  }

  @Test
  void shouldReportAnOpenConnectionEveryIntervalWithDeltasThatAddUpToItsTotals() throws Exception {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    int clientPort;
    int serverPort;
    try (ServerSocket server = new ServerSocket(0, 50, loopback);
        Socket client = new Socket(loopback, server.getLocalPort());
        Socket accepted = server.accept()) {
      clientPort = client.getLocalPort();
      serverPort = server.getLocalPort();
      Loopback.Ports ports = new Loopback.Ports(clientPort, serverPort);
      // Three bursts, each in its own interval (the interval is 1 s).
      for (int burst = 1; burst <= 3; burst++) {
        client.getOutputStream().write(new byte[1000 * burst]);
        client.getOutputStream().flush();
        Loopback.readExactly(accepted.getInputStream(), 1000 * burst);
        sink.await(
            r ->
                involves(r, ports) && r.getKind() == FlowKind.INTERIM && r.getSide() == Side.CLIENT,
            burst);
      }
      client.shutdownOutput();
      accepted.shutdownOutput();
      assertThat(accepted.getInputStream().read()).isEqualTo(-1);
      assertThat(client.getInputStream().read()).isEqualTo(-1);
    }
    Loopback.Ports ports = new Loopback.Ports(clientPort, serverPort);
    List<FlowRecord> closed =
        sink.await(r -> involves(r, ports) && r.getKind() == FlowKind.CLOSED, 2);
    assertThat(closed).hasSize(2);

    for (Side side : List.of(Side.CLIENT, Side.SERVER)) {
      List<FlowRecord> all = sink.matching(r -> involves(r, ports) && r.getSide() == side);
      assertThat(all.stream().filter(r -> r.getKind() == FlowKind.INTERIM).count())
          .as("INTERIM records of the %s", side)
          .isGreaterThanOrEqualTo(2);
      long sent = all.stream().mapToLong(FlowRecord::getBytesSent).sum();
      long received = all.stream().mapToLong(FlowRecord::getBytesReceived).sum();
      assertThat(side == Side.CLIENT ? sent : received)
          .as("client to server, %s", side)
          .isEqualTo(6000);
      assertThat(side == Side.CLIENT ? received : sent).as("server to client, %s", side).isZero();
      // Periods follow each other without overlap, in sequence order.
      for (int i = 1; i < all.size(); i++) {
        assertThat(all.get(i).getStartTime()).isEqualTo(all.get(i - 1).getEndTime());
        assertThat(all.get(i).getSequence()).isGreaterThan(all.get(i - 1).getSequence());
      }
    }
  }

  @Test
  void shouldServeMetricsAndHealth() throws Exception {
    Loopback.exchange(InetAddress.getByName("127.0.0.1"), 10, 10);
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + sidecar.opsPort();

    HttpResponse<String> health =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/health")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body())
        .contains("\"status\":\"UP\"")
        .contains("\"tracepoint/sock/inet_sock_set_state\":true")
        .contains("\"ringBufferDrops\":0");
    // Each hook as it is: whether a kprobe attaches depends on the kernel, not on the sidecar.
    assertThat(sidecar.hooks()).isNotEmpty();
    for (HookStatus hook : sidecar.hooks()) {
      assertThat(health.body())
          .as("/health for %s", hook.hook())
          .contains("\"" + hook.hook() + "\":" + hook.live());
    }

    HttpResponse<String> scrape =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(scrape.body())
        .contains("flowsight_sidecar_records_total{kind=\"CLOSED\"}")
        .contains("flowsight_sidecar_kernel_counter_total{counter=\"ringbuf_drops\"} 0.0")
        .contains("flowsight_sidecar_hook_live{hook=\"tracepoint/sock/inet_sock_set_state\"} 1.0")
        .contains("flowsight_sidecar_connections_tracked");
  }

  /**
   * A connection made and closed now; returns once both its CLOSED records are out. The ring buffer
   * is read in order, so every event before its closes has been handled by then.
   */
  private static void awaitMarker(InetAddress loopback) throws Exception {
    Loopback.Ports marker = Loopback.exchange(loopback, 1, 1);
    sink.await(r -> involves(r, marker) && r.getKind() == FlowKind.CLOSED, 2);
  }

  private static boolean involves(FlowRecord r, Loopback.Ports ports) {
    return (r.getLocalPort() == ports.clientPort() && r.getRemotePort() == ports.serverPort())
        || (r.getLocalPort() == ports.serverPort() && r.getRemotePort() == ports.clientPort());
  }

  private static FlowRecord only(List<FlowRecord> records, Side side) {
    List<FlowRecord> ofSide = records.stream().filter(r -> r.getSide() == side).toList();
    assertThat(ofSide).as("records of the %s", side).hasSize(1);
    return ofSide.get(0);
  }

  private static InetAddress toAddress(java.nio.ByteBuffer ip) throws Exception {
    byte[] bytes = new byte[ip.remaining()];
    ip.duplicate().get(bytes);
    return InetAddress.getByAddress(bytes);
  }
}
