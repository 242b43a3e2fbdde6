package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.enrichment.IdentitySourceMain;
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
import io.flowsight.testing.SecuredBroker;
import io.flowsight.testing.SecuredRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three services on a secured deployment, each with a different way in, through to one
 * aggregated row with exact counts, bytes and both identities:
 *
 * <ul>
 *   <li>the static identity source publishes the two apps over SASL_SSL with SCRAM-SHA-256 and
 *       registers its schema with a bearer token over TLS;
 *   <li>the eBPF sidecar (this JVM) produces its records over mutual TLS (a client certificate
 *       signed by the test's CA) and registers with the bearer token;
 *   <li>the collector (its own JVM) reads, attributes and writes over SASL_SSL with SCRAM-SHA-512,
 *       its password from its environment, and fetches schemas with basic authentication over TLS.
 * </ul>
 *
 * <p>No plaintext listener or registry port is given to any of them: the broker's plaintext
 * listener serves only the test's setup (the SCRAM user), the registry is reached only through
 * nginx. The sidecar has no identity of its own here, so the row's apps come only from the identity
 * source's events.
 */
@ExtendWith(LocalStackExtension.class)
class SecuredPipelineIT {

  private static final String CLIENT = "127.0.0.2";
  private static final String SERVER = "127.0.0.3";
  private static final int CONNECTIONS = 5;
  private static final int REQUEST_BYTES = 1000;
  private static final int RESPONSE_BYTES = 5000;
  private static final ObjectMapper JSON = new ObjectMapper();

  // Kept when the test fails: the collector's and nginx's logs are in it.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  @Test
  void shouldAttributeAndAggregateOverTlsSaslAndAnAuthenticatedRegistryWithExactCounts(
      LocalStack stack) throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    String run = UUID.randomUUID().toString().substring(0, 8);
    String clientApp = "secured-client-" + run;
    String serverApp = "secured-server-" + run;
    String raw = "flows-raw-v1-secured-" + run;
    String identities = "ip-identity-v1-secured-" + run;
    String aggregated = "flows-aggregated-v1-secured-" + run;
    String deadLetters = "flows-dlq-v1-secured-" + run;

    try (SecuredBroker broker = SecuredBroker.start(dir.resolve("broker"));
        SecuredRegistry registry =
            SecuredRegistry.start(dir.resolve("registry"), upstream(stack))) {
      // The stack wrote the broker's configuration, keystore password included, for its owner
      // only: nothing under its home is open to the group or others.
      assertThat(openToOthers(broker.home())).isEmpty();
      try (Admin admin = Admin.create(broker.clientConfig())) {
        List<NewTopic> topics = new ArrayList<>();
        Map.of(raw, 3, identities, 3, aggregated, 1, deadLetters, 1)
            .forEach((name, partitions) -> topics.add(new NewTopic(name, partitions, (short) 1)));
        admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
      }

      publishIdentities(broker, registry, identities, clientApp, serverApp);

      try (CollectorProcess collector =
              CollectorProcess.start(
                  broker.bootstrapServers(),
                  registry.registryUrl(),
                  raw,
                  identities,
                  aggregated,
                  deadLetters,
                  "secured-collector-" + run,
                  dir.resolve("collector-state"),
                  dir.resolve("collector.log"),
                  List.of(
                      "--kafka-security-protocol",
                      "SASL_SSL",
                      "--kafka-sasl-mechanism",
                      "SCRAM-SHA-512",
                      "--kafka-sasl-username",
                      SecuredBroker.USER,
                      "--kafka-ssl-truststore",
                      broker.truststore().toString(),
                      "--registry-username",
                      SecuredRegistry.USER,
                      "--registry-password-file",
                      registry.passwordFile().toString(),
                      "--registry-truststore",
                      registry.truststore().toString()),
                  Map.of("FLOWSIGHT_COLLECTOR_KAFKA_SASL_PASSWORD", broker.password()));
          ServerSocket listener = new ServerSocket(0, 50, InetAddress.getByName(SERVER))) {
        SidecarConfig config =
            SidecarOptions.parse(
                    new String[] {
                      "--bootstrap-servers",
                      broker.mutualTlsBootstrapServers(),
                      "--kafka-security-protocol",
                      "SSL",
                      "--kafka-ssl-keystore",
                      broker.clientKeystore().toString(),
                      "--kafka-ssl-keystore-password-file",
                      broker.keystorePasswordFile().toString(),
                      "--kafka-ssl-truststore",
                      broker.truststore().toString(),
                      "--registry-url",
                      registry.bearerRegistryUrl(),
                      "--registry-token-file",
                      registry.tokenFile().toString(),
                      "--registry-truststore",
                      registry.truststore().toString(),
                      "--topic",
                      raw,
                      "--poll-interval",
                      "10ms",
                      "--metrics-address",
                      "127.0.0.1:0",
                      "--state-dir",
                      dir.resolve("sidecar-state").toString()
                    },
                    Map.of())
                .toConfig();
        SidecarMetrics metrics = new SidecarMetrics();
        Sidecar sidecar =
            Sidecar.start(
                config,
                metrics,
                new KafkaSink(
                    config.bootstrapServers(),
                    config.registryUrl(),
                    raw,
                    config.outputBuffer(),
                    metrics,
                    config.kafkaClientProperties(),
                    config.registryClientProperties()),
                SidecarMain.localIdentity(config));
        AggregatedOutput.Totals totals;
        try {
          Thread server = Exchanges.serve(listener, REQUEST_BYTES, RESPONSE_BYTES);
          for (int i = 0; i < CONNECTIONS; i++) {
            exchange(listener.getLocalPort());
          }
          // Positive end marker: one more connection of the same 4-tuple in a later window (the
          // collector's are 10 s). Its row follows the others through the single-partition output
          // topic: once it arrives, so has every row of the load.
          long window = 10_000;
          long markerWindow = (System.currentTimeMillis() / window + 1) * window;
          Thread.sleep(markerWindow - System.currentTimeMillis() + 500);
          exchange(listener.getLocalPort());
          totals =
              AggregatedOutput.awaitTotals(
                  broker.clientConfig(),
                  aggregated,
                  CLIENT,
                  listener.getLocalPort(),
                  markerWindow,
                  Duration.ofMinutes(3),
                  () ->
                      "collector "
                          + collector.state()
                          + ", its metrics:\n"
                          + collector.metrics("flowsight_collector_")
                          + "\n\nsidecar: sent "
                          + metrics.value("flowsight_sidecar_records_produced_total")
                          + ", producer errors "
                          + metrics.value("flowsight_sidecar_producer_errors_total"));
          server.interrupt();
        } finally {
          sidecar.close();
        }

        assertThat(totals.rows()).as("rows of the load").isNotEmpty();
        assertThat(totals.connections()).isEqualTo(CONNECTIONS);
        assertThat(totals.bytesClientToServer()).isEqualTo((long) CONNECTIONS * REQUEST_BYTES);
        assertThat(totals.bytesServerToClient()).isEqualTo((long) CONNECTIONS * RESPONSE_BYTES);
        for (JsonNode row : totals.rows()) {
          assertThat(row.path("clientApp").asText()).as(row.toString()).isEqualTo(clientApp);
          assertThat(row.path("serverApp").asText()).as(row.toString()).isEqualTo(serverApp);
          assertThat(row.path("clientAttribution").asText()).isEqualTo("OWNER");
          assertThat(row.path("serverAttribution").asText()).isEqualTo("OWNER");
          // The sidecar saw both ends: each connection was reported twice and counted once.
          assertThat(row.path("observedBy").asText()).isEqualTo("BOTH");
        }
        assertThat(AggregatedOutput.count(broker.clientConfig(), deadLetters))
            .as("dead letters")
            .isZero();
        assertThat(metrics.value("flowsight_sidecar_output_dropped_total")).isZero();
        assertThat(metrics.value("flowsight_sidecar_producer_errors_total")).isZero();
        assertThat(collector.isAlive()).isTrue();
        assertThat(Files.readString(dir.resolve("collector.log")))
            .doesNotContain(broker.password())
            .doesNotContain(registry.password());
      }
    }
  }

  /**
   * The static identity source, once, as its own process: the two apps' IPs over SASL_SSL with
   * SCRAM-SHA-256, the schema registered with the bearer token.
   */
  private void publishIdentities(
      SecuredBroker broker,
      SecuredRegistry registry,
      String topic,
      String clientApp,
      String serverApp)
      throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("identities.yaml"),
            "identities:\n"
                + "  - ip: "
                + CLIENT
                + "\n    app: "
                + clientApp
                + "\n  - ip: "
                + SERVER
                + "\n    app: "
                + serverApp
                + "\n");
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx128m",
            "-cp",
            System.getProperty("java.class.path"),
            IdentitySourceMain.class.getName(),
            "static",
            "--once",
            "--file",
            file.toString(),
            "--topic",
            topic,
            "--bootstrap-servers",
            broker.bootstrapServers(),
            "--kafka-security-protocol",
            "SASL_SSL",
            "--kafka-sasl-mechanism",
            "SCRAM-SHA-256",
            "--kafka-sasl-username",
            SecuredBroker.USER,
            "--kafka-sasl-password-file",
            broker.passwordFile().toString(),
            "--kafka-ssl-truststore",
            broker.truststore().toString(),
            "--registry-url",
            registry.bearerRegistryUrl(),
            "--registry-token-file",
            registry.tokenFile().toString(),
            "--registry-truststore",
            registry.truststore().toString(),
            "--read-back-timeout",
            "30s");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().keySet().removeIf(k -> k.startsWith("FLOWSIGHT_IDENTITY_"));
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(2, TimeUnit.MINUTES)).as(output).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(output).contains("published 2 events to " + topic);
  }

  /** Files and directories under {@code root} with any group or other permission bit. */
  private static List<String> openToOthers(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(
              p -> {
                try {
                  Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(p);
                  return permissions.stream()
                      .anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"));
                } catch (IOException e) {
                  return true;
                }
              })
          .map(p -> p + " " + permissionsOf(p))
          .toList();
    }
  }

  private static String permissionsOf(Path p) {
    try {
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static String upstream(LocalStack stack) {
    URI registry = URI.create(stack.registryUrl());
    return registry.getScheme() + "://" + registry.getAuthority();
  }

  /** One connection from CLIENT: REQUEST_BYTES up, RESPONSE_BYTES down, closed by both. */
  private static void exchange(int port) throws IOException {
    Exchanges.call(
        InetAddress.getByName(CLIENT),
        InetAddress.getByName(SERVER),
        port,
        REQUEST_BYTES,
        RESPONSE_BYTES);
  }
}
