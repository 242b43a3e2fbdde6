package io.flowsight.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.druid.DruidException;
import io.flowsight.druid.DruidFiles;
import io.flowsight.druid.NamedQueries;
import io.flowsight.druid.SqlResult;
import io.flowsight.ops.OpsSecurity;
import io.flowsight.testing.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's own HTTP server on a loopback port, with a fixed Druid answer: what it answers with
 * and without the user, the page and its files, its errors as JSON with their status.
 */
class ConsoleServerTest {

  private final HttpClient http = HttpClient.newHttpClient();
  private ConsoleServer server;

  @TempDir Path dir;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private ConsoleServer start(OpsSecurity security, boolean druidAnswers) throws Exception {
    SqlResult empty = new SqlResult(List.of(), List.of(), List.of(), List.of());
    ConsoleApi api =
        new ConsoleApi(
            (sql, params) -> {
              if (!druidAnswers) {
                throw new DruidException("cannot reach Druid at http://127.0.0.1:1");
              }
              return empty;
            },
            new NamedQueries(DruidFiles.queries()),
            "flows",
            "flows_forecast",
            System::currentTimeMillis);
    server = new ConsoleServer("127.0.0.1", 0, security, api);
    return server;
  }

  private HttpResponse<String> get(String path, String user, String password) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
    if (user != null) {
      request.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder()
                  .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldAskForTheUserOnEverythingButHealth() throws Exception {
    start(new OpsSecurity(null, "analyst", "pw", false), true);

    assertThat(get("/", null, null).statusCode()).isEqualTo(401);
    assertThat(get("/api/graph", null, null).statusCode()).isEqualTo(401);
    assertThat(get("/api/graph", "analyst", "wrong").statusCode()).isEqualTo(401);
    assertThat(get("/webjars/echarts.min.js", null, null).statusCode()).isEqualTo(401);
    HttpResponse<String> health = get("/health", null, null);
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("{\"status\":\"UP\"}");

    HttpResponse<String> graph = get("/api/graph?since=1h", "analyst", "pw");
    assertThat(graph.statusCode()).isEqualTo(200);
    assertThat(graph.body()).contains("\"edges\":[]").contains("\"nodes\":[]");
  }

  @Test
  void shouldServeOverTlsWithTheKeystoresCertificate() throws Exception {
    Path keystore = TestCertificates.make(dir.resolve("certs"), "secret-1").serverP12();
    Path password = Files.writeString(dir.resolve("password"), "analyst-pw\n");
    var settings = ConsoleOptions.settings(w -> {});
    Map<String, String> env = Map.of("FLOWSIGHT_CONSOLE_TLS_KEYSTORE_PASSWORD", "secret-1");
    ConsoleOptions.Config config =
        settings
            .parse(
                new ConsoleOptions(),
                new String[] {
                  "--address",
                  "127.0.0.1:0",
                  "--tls-keystore",
                  keystore.toString(),
                  "--username",
                  "analyst",
                  "--password-file",
                  password.toString()
                },
                env)
            .toConfig(settings, env);
    start(config.security(), true);

    // A client that trusts the console's certificate (and checks that it names 127.0.0.1).
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      trusted.load(in, "secret-1".toCharArray());
    }
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, trust.getTrustManagers(), null);
    HttpClient https = HttpClient.newBuilder().sslContext(tls).build();
    URI health = URI.create("https://127.0.0.1:" + server.port() + "/health");
    assertThat(https.send(HttpRequest.newBuilder(health).build(), BodyHandlers.ofString()).body())
        .isEqualTo("{\"status\":\"UP\"}");
    URI graph = URI.create("https://127.0.0.1:" + server.port() + "/api/graph");
    assertThat(
            https.send(HttpRequest.newBuilder(graph).build(), BodyHandlers.ofString()).statusCode())
        .isEqualTo(401);
    String basic =
        "Basic "
            + Base64.getEncoder()
                .encodeToString("analyst:analyst-pw".getBytes(StandardCharsets.UTF_8));
    assertThat(
            https
                .send(
                    HttpRequest.newBuilder(graph).header("Authorization", basic).build(),
                    BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);
    // Plain http on the TLS port gets no answer a client could read as the page.
    assertThatThrownBy(() -> get("/health", null, null)).isInstanceOf(IOException.class);
  }

  @Test
  void shouldServeThePageItsFilesAndTheChartsFromTheClasspathWithAStrictPolicy() throws Exception {
    start(OpsSecurity.NONE, true);

    HttpResponse<String> page = get("/", null, null);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
        .startsWith("default-src 'self';");
    assertThat(page.body()).contains("<script src=\"/webjars/echarts.min.js\"></script>");
    assertThat(get("/static/console.js", null, null).body()).contains("window.__flowsight");
    HttpResponse<String> echarts = get("/webjars/echarts.min.js", null, null);
    assertThat(echarts.statusCode()).isEqualTo(200);
    assertThat(echarts.body()).contains("echarts");
    assertThat(get("/static/../../ConsoleServer.class", null, null).statusCode()).isEqualTo(404);
    assertThat(get("/nothing", null, null).statusCode()).isEqualTo(404);
  }

  @Test
  void shouldAnswerABadRequestWith400AndDruidFailingWith502AsJson() throws Exception {
    start(OpsSecurity.NONE, false);

    HttpResponse<String> bad = get("/api/table/nothing", null, null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).startsWith("{\"error\":\"no table 'nothing'; the tables are:");
    HttpResponse<String> down = get("/api/graph", null, null);
    assertThat(down.statusCode()).isEqualTo(502);
    assertThat(down.body()).isEqualTo("{\"error\":\"cannot reach Druid at http://127.0.0.1:1\"}");
    assertThat(get("/api/series?server=db", null, null).body())
        .isEqualTo("{\"error\":\"missing parameter client\"}");
  }
}
