package io.flowsight.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.SecuredBroker;
import io.flowsight.testing.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector, as its own process, against a broker that takes only SASL_SSL: its admin client
 * creates the topics and its stream threads run, with the password from the environment (never on
 * the command line); a wrong password stops it at start-up with an error naming the settings.
 */
@ExtendWith(LocalStackExtension.class)
class SecuredCollectorIT {

  @TempDir static Path dir;
  static SecuredBroker broker;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = SecuredBroker.start(dir);
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void shouldRunOverSaslSslWithThePasswordFromTheEnvironment(LocalStack stack) throws Exception {
    String id = "secured-" + UUID.randomUUID().toString().substring(0, 8);
    int metricsPort = freePort();
    Path log = dir.resolve(id + ".log");

    Process p =
        start(stack, id, metricsPort, log, Map.of("KAFKA_SASL_PASSWORD", broker.password()));
    try {
      String cmdline = Files.readString(Path.of("/proc/" + p.pid() + "/cmdline"));
      CollectorProcesses.awaitRunning(p, metricsPort, log);

      assertThat(cmdline).contains("--kafka-sasl-username").doesNotContain(broker.password());
      try (Admin admin = Admin.create(broker.clientConfig())) {
        assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
            .contains(id + "-flows", id + "-identities", id + "-aggregated", id + "-dlq");
      }
      assertThat(Files.readString(log)).doesNotContain(broker.password());
    } finally {
      p.destroy();
      p.waitFor(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldServeItsMetricsOverTlsToItsUserOnlyAndItsHealthToAnyProbe(LocalStack stack)
      throws Exception {
    String id = "secured-" + UUID.randomUUID().toString().substring(0, 8);
    int metricsPort = freePort();
    Path log = dir.resolve(id + ".log");
    TestCertificates certs = TestCertificates.make(dir.resolve(id + "-certs"));
    Path keystorePassword =
        Files.writeString(dir.resolve(id + "-keystore-password"), certs.storePassword() + "\n");
    String metricsPassword = "metrics-" + UUID.randomUUID();

    Process p =
        start(
            stack,
            id,
            metricsPort,
            log,
            Map.of("KAFKA_SASL_PASSWORD", broker.password(), "METRICS_PASSWORD", metricsPassword),
            "--metrics-tls-keystore=" + certs.serverP12(),
            "--metrics-tls-keystore-password-file=" + keystorePassword,
            "--metrics-username=prometheus");
    try {
      HttpClient https = HttpClient.newBuilder().sslContext(trusting(certs.caPem())).build();
      URI base = URI.create("https://127.0.0.1:" + metricsPort);
      CollectorProcesses.awaitRunning(p, base, https, log);

      HttpResponse<String> anonymous = get(https, base.resolve("/metrics"), null);
      HttpResponse<String> wrong = get(https, base.resolve("/metrics"), "prometheus:wrong");
      HttpResponse<String> scrape =
          get(https, base.resolve("/metrics"), "prometheus:" + metricsPassword);
      HttpResponse<String> probe = get(https, base.resolve("/health"), null);

      assertThat(anonymous.statusCode()).isEqualTo(401);
      assertThat(anonymous.headers().firstValue("WWW-Authenticate"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("Basic realm=\"flowsight\""));
      assertThat(wrong.statusCode()).isEqualTo(401);
      assertThat(scrape.statusCode()).isEqualTo(200);
      assertThat(scrape.body()).contains("flowsight_collector_");
      assertThat(probe.statusCode()).isEqualTo(200);
      assertThat(probe.body()).contains("RUNNING");
      // No plain http on the TLS port.
      assertThatThrownBy(
              () ->
                  HttpClient.newHttpClient()
                      .send(
                          HttpRequest.newBuilder(
                                  URI.create("http://127.0.0.1:" + metricsPort + "/health"))
                              .timeout(Duration.ofSeconds(5))
                              .build(),
                          HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);
      assertThat(Files.readString(log)).doesNotContain(metricsPassword);
    } finally {
      p.destroy();
      p.waitFor(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldNameTheSettingsWhenTheBrokerRefusesThePassword(LocalStack stack) throws Exception {
    String id = "secured-" + UUID.randomUUID().toString().substring(0, 8);
    Path log = dir.resolve(id + ".log");

    Process p =
        start(stack, id, freePort(), log, Map.of("KAFKA_SASL_PASSWORD", "not-the-password"));

    assertThat(p.waitFor(90, TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(log)).isEqualTo(CollectorMain.EXIT_CONFIG);
    assertThat(Files.readString(log))
        .contains("flowsight collector: the broker refused the SASL credentials")
        .contains("--kafka-sasl-password-file or FLOWSIGHT_COLLECTOR_KAFKA_SASL_PASSWORD");
  }

  private static Process start(
      LocalStack stack,
      String id,
      int metricsPort,
      Path log,
      Map<String, String> secrets,
      String... moreOptions)
      throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                CollectorMain.class.getName(),
                "--bootstrap-servers=" + broker.bootstrapServers(),
                "--registry-url=" + stack.registryUrl(),
                "--application-id=" + id,
                "--flows-topic=" + id + "-flows",
                "--identity-topic=" + id + "-identities",
                "--output-topic=" + id + "-aggregated",
                "--dlq-topic=" + id + "-dlq",
                "--partitions=1",
                "--threads=1",
                "--state-dir=" + dir.resolve(id + "-state"),
                "--metrics-address=127.0.0.1:" + metricsPort,
                "--kafka-security-protocol=SASL_SSL",
                "--kafka-sasl-username=" + SecuredBroker.USER,
                "--kafka-ssl-truststore=" + broker.truststore()));
    command.addAll(List.of(moreOptions));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("FLOWSIGHT_COLLECTOR_"));
    secrets.forEach((k, v) -> builder.environment().put("FLOWSIGHT_COLLECTOR_" + k, v));
    return builder.start();
  }

  private static HttpResponse<String> get(HttpClient http, URI uri, String userAndPassword)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));
    if (userAndPassword != null) {
      request.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder()
                  .encodeToString(userAndPassword.getBytes(StandardCharsets.UTF_8)));
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A TLS context that trusts the certificates in {@code caPem} only. */
  private static SSLContext trusting(Path caPem) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      trust.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
