package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.console.ConsoleMain;
import io.flowsight.console.ConsoleServer;
import io.flowsight.console.testing.ConsolePage;
import io.flowsight.druid.DruidClient;
import io.flowsight.druid.DruidException;
import io.flowsight.druid.DruidFiles;
import io.flowsight.druid.NamedQueries;
import io.flowsight.druid.QueryRun;
import io.flowsight.druid.Supervisors;
import io.flowsight.druid.Times;
import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.Sidecar;
import io.flowsight.sidecar.SidecarMain;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.sidecar.sink.KafkaSink;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.Requirements;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline on real components: connections this test makes between two loopback addresses
 * are captured by the eBPF sidecar in this machine's kernel, produced to Kafka through the
 * registry, attributed and aggregated by the collector (its own JVM), ingested by Druid, and read
 * back with Druid SQL with exact counts and bytes.
 */
@ExtendWith(LocalStackExtension.class)
class EndToEndIT {

  private static final int CONNECTIONS = 5;
  private static final int REQUEST_BYTES = 1000;
  private static final int RESPONSE_BYTES = 5000;

  @TempDir Path dir;

  @Test
  void shouldShowTheTrafficItMadeInDruidAttributedToBothAppsWithExactCountsAndBytes(
      LocalStack stack) throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    String druidUrl = System.getenv("FLOWSIGHT_TEST_DRUID_URL");
    DruidClient druid = druidUrl == null ? null : new DruidClient(druidUrl);
    Requirements.require(
        druid != null && druid.ready(),
        "a Druid cluster (./flowsight test starts one and sets FLOWSIGHT_TEST_DRUID_URL)");

    String run = UUID.randomUUID().toString().substring(0, 8);
    String clientApp = "e2e-client-" + run;
    String serverApp = "e2e-server-" + run;
    String rawTopic = stack.createTopic("flows-raw-v1", 3);
    String identityTopic = stack.createTopic("ip-identity-v1", 3);
    String aggregatedTopic = stack.createTopic("flows-aggregated-v1", 1);
    String dataSource = "flows_e2e_" + run;
    Path identities = dir.resolve("identities.yaml");
    Files.writeString(
        identities,
        "identities:\n"
            + "  - ip: 127.0.0.2\n    app: "
            + clientApp
            + "\n    zone: zone-a\n"
            + "  - ip: 127.0.0.3\n    app: "
            + serverApp
            + "\n    zone: zone-b\n");

    druid.submitSupervisor(
        Supervisors.loadSpec(
            Repository.file("deploy/druid/flows-supervisor.json"),
            dataSource,
            aggregatedTopic,
            stack.bootstrapServers(),
            Map.of()));
    CollectorProcess collector =
        CollectorProcess.start(
            stack.bootstrapServers(),
            stack.registryUrl(),
            rawTopic,
            identityTopic,
            aggregatedTopic,
            aggregatedTopic + "-dlq",
            "e2e-collector-" + run,
            dir.resolve("collector-state"),
            dir.resolve("collector.log"));
    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {
                  "--bootstrap-servers",
                  stack.bootstrapServers(),
                  "--registry-url",
                  stack.registryUrl(),
                  "--topic",
                  rawTopic,
                  "--poll-interval",
                  "10ms",
                  "--metrics-address",
                  "127.0.0.1:0",
                  "--identity-file",
                  identities.toString(),
                  "--state-dir",
                  Files.createTempDirectory("e2e-sidecar-state").toString()
                },
                Map.of())
            .toConfig();
    SidecarMetrics metrics = new SidecarMetrics();
    Function<byte[], Identity> localIdentity = SidecarMain.localIdentity(config);
    Sidecar sidecar =
        Sidecar.start(
            config,
            metrics,
            new KafkaSink(config.bootstrapServers(), config.registryUrl(), rawTopic, 1000, metrics),
            localIdentity);
    try {
      InetAddress server = InetAddress.getByName("127.0.0.3");
      int servicePort;
      long markerWindow;
      try (ServerSocket listener = new ServerSocket(0, 50, server)) {
        servicePort = listener.getLocalPort();
        Exchanges.serve(listener, REQUEST_BYTES, RESPONSE_BYTES);
        exchange(listener, CONNECTIONS);
        // Positive end marker: one more connection of the same 4-tuple in a later minute (Druid
        // keeps minutes: its query granularity). Its row follows the others through the collector
        // and the single-partition output topic into Druid: once it is queryable, so is everything
        // before it.
        long minute = 60_000;
        markerWindow = (System.currentTimeMillis() / minute + 1) * minute;
        Thread.sleep(markerWindow - System.currentTimeMillis() + 500);
        exchange(listener, 1);
      }

      List<ObjectNode> rows =
          awaitRows(druid, dataSource, clientApp, markerWindow, Duration.ofMinutes(4));

      assertThat(rows).hasSize(1);
      ObjectNode row = rows.get(0);
      assertThat(row.path("clientApp").asText()).isEqualTo(clientApp);
      assertThat(row.path("serverApp").asText()).isEqualTo(serverApp);
      assertThat(row.path("clientZone").asText()).isEqualTo("zone-a");
      assertThat(row.path("serverZone").asText()).isEqualTo("zone-b");
      assertThat(row.path("servicePort").asLong()).isEqualTo(servicePort);
      // Both ends ran the sidecar: each connection was seen twice and counted once.
      assertThat(row.path("connections").asLong()).isEqualTo(CONNECTIONS);
      assertThat(row.path("failedConnections").asLong()).isZero();
      assertThat(row.path("bytesClientToServer").asLong())
          .isEqualTo((long) CONNECTIONS * REQUEST_BYTES);
      assertThat(row.path("bytesServerToClient").asLong())
          .isEqualTo((long) CONNECTIONS * RESPONSE_BYTES);
      assertThat(row.path("observedBy").asText()).isEqualTo("BOTH");

      consoleShouldShowWhatDruidHolds(
          druidUrl, dataSource, markerWindow - 15 * 60_000, markerWindow, clientApp, serverApp);
    } finally {
      sidecar.close();
      collector.close();
      druid.supervisorAction(dataSource, "terminate");
    }
  }

  /**
   * The web console on the same datasource, in a real browser, over the minutes of the traffic (the
   * end marker's excluded): its graph holds exactly the rows of the graph query as the CLI runs it,
   * among them the test's pair with its 5 connections and bytes both ways (the host's other
   * loopback traffic, Kafka's and Druid's, is there too, unattributed); its top-talkers table is
   * the CLI's. A screenshot goes to target/failsafe-reports/EndToEndIT-console.png.
   */
  private static void consoleShouldShowWhatDruidHolds(
      String druidUrl,
      String dataSource,
      long sinceMs,
      long untilMs,
      String clientApp,
      String serverApp)
      throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ConsoleMain.Started started =
        ConsoleMain.start(
            new String[] {
              "--address", "127.0.0.1:0", "--druid-url", druidUrl, "--datasource", dataSource
            },
            Map.of(),
            new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(started.code()).as(err.toString(StandardCharsets.UTF_8)).isZero();
    String since = Times.iso(sinceMs);
    String until = Times.iso(untilMs);
    DruidClient druid = new DruidClient(druidUrl);
    NamedQueries queries = new NamedQueries(DruidFiles.queries());
    try (ConsoleServer console = started.server();
        ConsolePage page = new ConsolePage()) {
      page.open("http://127.0.0.1:" + console.port() + "/?since=" + since + "&until=" + until);
      System.out.println(
          "EndToEndIT: screenshot of the console in " + page.screenshot("EndToEndIT-console"));

      QueryRun graph =
          new QueryRun("graph", null, since, until, null, null, "PT1M", true, 500, dataSource);
      List<String> druidEdges = new ArrayList<>();
      for (ObjectNode r : graph.run(druid, graph.prepare(queries, untilMs)).objects()) {
        druidEdges.add(
            r.path("client_app").asText()
                + ">"
                + r.path("server_app").asText()
                + " "
                + r.path("bytes").asLong()
                + " "
                + r.path("connections").asLong()
                + " "
                + r.path("failed").asLong()
                + " "
                + r.path("retransmits").asLong());
      }
      assertThat(ConsolePage.withoutColour(page.shownEdges()))
          .isEqualTo(druidEdges)
          .contains(
              clientApp
                  + ">"
                  + serverApp
                  + " "
                  + (long) CONNECTIONS * (REQUEST_BYTES + RESPONSE_BYTES)
                  + " "
                  + CONNECTIONS
                  + " 0 0");
      assertThat(page.shownNodes()).contains(clientApp, serverApp);

      QueryRun topTalkers =
          new QueryRun("top-talkers", null, since, until, null, null, "PT1M", true, 20, dataSource);
      assertThat(page.state("window.__flowsight.tables['top-talkers'].rows").toString())
          .isEqualTo(
              new ObjectMapper()
                  .valueToTree(topTalkers.run(druid, topTalkers.prepare(queries, untilMs)).rows())
                  .toString());
    }
  }

  /**
   * Connections from 127.0.0.2 to {@code listener} on 127.0.0.3: the client sends 1000 bytes, the
   * server 5000.
   */
  private static void exchange(ServerSocket listener, int connections) throws IOException {
    InetAddress client = InetAddress.getByName("127.0.0.2");
    for (int i = 0; i < connections; i++) {
      Exchanges.call(
          client,
          listener.getInetAddress(),
          listener.getLocalPort(),
          REQUEST_BYTES,
          RESPONSE_BYTES);
    }
  }

  /**
   * Waits until the end marker (a row of {@code clientApp} in {@code markerWindow} or later) is
   * queryable, then returns the rows before it.
   */
  private static List<ObjectNode> awaitRows(
      DruidClient druid, String dataSource, String clientApp, long markerWindow, Duration timeout)
      throws Exception {
    String where =
        " FROM \""
            + dataSource
            + "\" WHERE clientApp = '"
            + clientApp
            + "' AND __time "
            + "%s MILLIS_TO_TIMESTAMP("
            + markerWindow
            + ")";
    String marker = "SELECT SUM(connections) AS connections" + String.format(where, ">=");
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        List<ObjectNode> rows = druid.sql(marker).objects();
        last = rows.toString();
        if (rows.size() > 0 && rows.get(0).path("connections").asLong() > 0) {
          return druid
              .sql(
                  "SELECT clientApp, serverApp, clientZone, serverZone, servicePort, observedBy,"
                      + " SUM(connections) AS connections, SUM(failedConnections) AS failedConnections,"
                      + " SUM(bytesClientToServer) AS bytesClientToServer,"
                      + " SUM(bytesServerToClient) AS bytesServerToClient"
                      + String.format(where, "<")
                      + " GROUP BY 1, 2, 3, 4, 5, 6")
              .objects();
        }
      } catch (DruidException e) {
        last = e.getMessage(); // the datasource appears with its first row
      }
      Thread.sleep(2000);
    }
    throw new AssertionError(
        "Druid did not show the end marker of "
            + clientApp
            + " within "
            + timeout
            + "; last answer: "
            + last);
  }
}
