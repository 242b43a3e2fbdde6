package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker goes away for 90 s under a steady load of real connections captured by the eBPF
 * sidecar, then comes back. The sidecar keeps what it captured meanwhile, the collector (its own
 * JVM) rides the outage out, and the output topic ends up with exactly every connection and its
 * bytes: nothing lost, nothing counted twice, nothing dead-lettered.
 */
@ExtendWith(LocalStackExtension.class)
class BrokerOutageIT {

  private static final String CLIENT = "127.0.0.50";
  private static final String SERVER = "127.0.0.51";
  private static final int REQUEST_BYTES = 100;
  private static final int RESPONSE_BYTES = 1000;

  /** 50 connections a second. */
  private static final long PERIOD_MS = 20;

  private static final Duration BEFORE = Duration.ofSeconds(20);
  private static final Duration OUTAGE = Duration.ofSeconds(90);
  private static final Duration AFTER = Duration.ofSeconds(20);

  private static final ObjectMapper JSON = new ObjectMapper();

  // Kept when the test fails: the collector's log is in it.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  @Test
  void shouldDeliverEveryConnectionMadeWhileTheBrokerWasDownExactlyOnce(LocalStack stack)
      throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    String run = UUID.randomUUID().toString().substring(0, 8);
    try (OwnBroker broker = OwnBroker.start(dir.resolve("kafka"))) {
      String bootstrap = broker.bootstrapServers();
      String raw = "flows-raw-v1-outage-" + run;
      String identities = "ip-identity-v1-outage-" + run;
      String aggregated = "flows-aggregated-v1-outage-" + run;
      String deadLetters = "flows-dlq-v1-outage-" + run;
      createTopics(bootstrap, Map.of(raw, 3, identities, 3, aggregated, 1, deadLetters, 1));

      Path identityFile = dir.resolve("identities.yaml");
      Files.writeString(
          identityFile,
          "identities:\n"
              + "  - ip: "
              + CLIENT
              + "\n    app: outage-client\n"
              + "  - ip: "
              + SERVER
              + "\n    app: outage-server\n");
      SidecarConfig config =
          SidecarOptions.parse(
                  new String[] {
                    "--bootstrap-servers",
                    bootstrap,
                    "--registry-url",
                    stack.registryUrl(),
                    "--topic",
                    raw,
                    "--poll-interval",
                    "50ms",
                    "--metrics-address",
                    "127.0.0.1:0",
                    "--identity-file",
                    identityFile.toString(),
                    "--state-dir",
                    dir.resolve("sidecar-state").toString()
                  },
                  Map.of())
              .toConfig();
      SidecarMetrics metrics = new SidecarMetrics();
      try (CollectorProcess collector =
              CollectorProcess.start(
                  bootstrap,
                  stack.registryUrl(),
                  raw,
                  identities,
                  aggregated,
                  deadLetters,
                  "outage-collector-" + run,
                  dir.resolve("collector-state"),
                  dir.resolve("collector.log"));
          ServerSocket listener = new ServerSocket(0, 200, InetAddress.getByName(SERVER))) {
        Sidecar sidecar =
            Sidecar.start(
                config,
                metrics,
                new KafkaSink(bootstrap, stack.registryUrl(), raw, config.outputBuffer(), metrics),
                SidecarMain.localIdentity(config));
        try {
          Thread server = Exchanges.serve(listener, REQUEST_BYTES, RESPONSE_BYTES);
          AtomicInteger made = new AtomicInteger();
          ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
          load.scheduleAtFixedRate(
              () -> {
                exchange(listener.getLocalPort());
                made.incrementAndGet();
              },
              0,
              PERIOD_MS,
              TimeUnit.MILLISECONDS);

          Thread.sleep(BEFORE.toMillis());
          broker.stop();
          int madeAtStop = made.get();
          Thread.sleep(OUTAGE.toMillis() - 5_000);
          double oldestDuringOutage =
              metrics.value("flowsight_sidecar_output_oldest_record_age_seconds");
          Thread.sleep(5_000);
          broker.start();
          long brokerBack = System.nanoTime();
          int madeDuringOutage = made.get() - madeAtStop;
          Thread.sleep(AFTER.toMillis());
          load.shutdown();
          assertThat(load.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
          int connections = made.get();

          // Positive end marker: one more connection of the same 4-tuple (so the same
          // aggregation task), made in a later window than all the load. The collector handles a
          // 4-tuple's records in order and emits older windows' rows first: once the marker's row
          // is in the output, every row of the load is before it.
          long window = 10_000;
          long markerWindow = (System.currentTimeMillis() / window + 1) * window;
          Thread.sleep(markerWindow - System.currentTimeMillis() + 500);
          exchange(listener.getLocalPort());
          AggregatedOutput.Totals totals =
              AggregatedOutput.awaitTotals(
                  Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                  aggregated,
                  CLIENT,
                  listener.getLocalPort(),
                  markerWindow,
                  // The row comes about 75 s after the broker's return (window, settle delay and
                  // grace are 47 s of it): the wait is generous, the failure says why.
                  Duration.ofMinutes(8),
                  () ->
                      "collector "
                          + collector.state()
                          + ", its log ends:\n"
                          + tail(dir.resolve("collector.log"), 40)
                          + "\n\nits metrics:\n"
                          + collector.metrics("flowsight_collector_")
                          + "\n\nthe broker's view:\n"
                          + BrokerView.describe(bootstrap, "outage-collector-" + run)
                          + "\n\nits stream threads:\n"
                          + collector.streamThreadStacks());
          server.interrupt();
          System.out.printf(
              "broker outage: %d connections made (%d while the broker was down), oldest record"
                  + " held %.0f s; output: %d connections, %d / %d bytes, the end marker's row %d s"
                  + " after the broker's return; sidecar retries %.0f, dropped %.0f%n",
              connections,
              madeDuringOutage,
              oldestDuringOutage,
              totals.connections(),
              totals.bytesClientToServer(),
              totals.bytesServerToClient(),
              Duration.ofNanos(System.nanoTime() - brokerBack).toSeconds(),
              metrics.value("flowsight_sidecar_output_retries_total"),
              metrics.value("flowsight_sidecar_output_dropped_total"));

          assertThat(madeDuringOutage)
              .as("connections made while the broker was down")
              .isGreaterThan(3_000);
          assertThat(oldestDuringOutage)
              .as("oldest record held, late in the outage")
              .isGreaterThan(60);
          assertThat(totals.connections()).isEqualTo(connections);
          assertThat(totals.bytesClientToServer()).isEqualTo((long) connections * REQUEST_BYTES);
          assertThat(totals.bytesServerToClient()).isEqualTo((long) connections * RESPONSE_BYTES);
          assertThat(totals.unattributedRows()).isZero();
          assertThat(
                  AggregatedOutput.count(
                      Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), deadLetters))
              .as("dead letters")
              .isZero();
          assertThat(metrics.value("flowsight_sidecar_output_dropped_total")).isZero();
          assertThat(metrics.value("flowsight_sidecar_producer_errors_total")).isZero();
          assertThat(metrics.value("flowsight_sidecar_output_retries_total", "cause", "broker"))
              .as("sends retried while the broker was down")
              .isPositive();
          assertThat(collector.isAlive()).isTrue();
          // The threads waited for the broker: none failed (a thread that fails while the broker
          // is away stays in the consumer group and stalls the next rebalance).
          assertThat(collector.metrics("flowsight_collector_thread_replacements_total"))
              .as("stream threads replaced")
              .isEmpty();
        } finally {
          sidecar.close();
        }
      }
    }
  }

  /** One connection from CLIENT: 100 bytes up, 1000 down, closed by both. */
  private static void exchange(int port) {
    try {
      Exchanges.call(
          InetAddress.getByName(CLIENT),
          InetAddress.getByName(SERVER),
          port,
          REQUEST_BYTES,
          RESPONSE_BYTES);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }

  private static void createTopics(String bootstrap, Map<String, Integer> topics) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      List<NewTopic> create = new ArrayList<>();
      topics.forEach((name, partitions) -> create.add(new NewTopic(name, partitions, (short) 1)));
      admin.createTopics(create).all().get(30, TimeUnit.SECONDS);
    }
  }
}
