package io.flowsight.druid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client's requests and its handling of Druid's answers, against a JDK HTTP server that answers
 * as Druid does (canned answers: no Druid here; DruidClientIT runs the real one).
 */
class DruidClientTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  private HttpServer server;

  /** Serves {@code body} with {@code status} for every request, keeping the request bodies. */
  private String serve(int status, String contentType, String body) throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          byte[] in = exchange.getRequestBody().readAllBytes();
          requests.add(in.length == 0 ? JSON.nullNode() : JSON.readTree(in));
          byte[] out = body.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", contentType);
          exchange.sendResponseHeaders(status, out.length);
          exchange.getResponseBody().write(out);
          exchange.close();
        });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void shouldSendTheParametersAndReadTheThreeHeaderRows() throws Exception {
    String url =
        serve(
            200,
            "application/json",
            "[[\"app\",\"bytes\"],[\"STRING\",\"LONG\"],[\"VARCHAR\",\"BIGINT\"],"
                + "[\"frontend\",2000],[null,5]]");

    SqlResult result =
        new DruidClient(url)
            .sql(
                "SELECT app, bytes FROM flows WHERE app = ? LIMIT ?",
                SqlParameter.varchar("fron'tend"),
                SqlParameter.bigint(10));

    assertThat(result.columns()).containsExactly("app", "bytes");
    assertThat(result.types()).containsExactly("STRING", "LONG");
    assertThat(result.sqlTypes()).containsExactly("VARCHAR", "BIGINT");
    assertThat(result.rows()).hasSize(2);
    assertThat(result.objects().get(0).toString())
        .isEqualTo("{\"app\":\"frontend\",\"bytes\":2000}");
    assertThat(result.objects().get(1).toString()).isEqualTo("{\"app\":null,\"bytes\":5}");
    JsonNode sent = requests.get(0);
    assertThat(sent.path("query").asText())
        .isEqualTo("SELECT app, bytes FROM flows WHERE app = ? LIMIT ?");
    assertThat(sent.path("parameters").toString())
        .isEqualTo(
            "[{\"type\":\"VARCHAR\",\"value\":\"fron'tend\"},{\"type\":\"BIGINT\",\"value\":10}]");
    assertThat(sent.path("resultFormat").asText()).isEqualTo("array");
    assertThat(sent.path("header").asBoolean()).isTrue();
    assertThat(sent.path("typesHeader").asBoolean()).isTrue();
    assertThat(sent.path("sqlTypesHeader").asBoolean()).isTrue();
    assertThat(sent.path("context").path("sqlTimeZone").asText()).isEqualTo("Etc/UTC");
  }

  @Test
  void shouldGiveDruidsOwnMessageAndTheQueryNameForBadSql() throws Exception {
    String url =
        serve(
            400,
            "application/json",
            "{\"error\":\"druidException\",\"errorCode\":\"invalidInput\",\"persona\":\"USER\","
                + "\"category\":\"INVALID_INPUT\",\"errorMessage\":\"Column 'nope' not found in any"
                + " table (line [1], column [8])\",\"context\":{}}");
    QueryRun run =
        new QueryRun(
            null, "SELECT nope FROM flows", "1h", null, null, null, "PT1M", true, 20, "flows");

    assertThatThrownBy(() -> run.run(new DruidClient(url), run.prepare(null, 0)))
        .isInstanceOf(DruidException.class)
        .hasMessage(
            "--sql: POST /druid/v2/sql: HTTP 400: Column 'nope' not found in any table (line [1],"
                + " column [8])");
  }

  @Test
  void shouldNameTheNamedQueryWhoseSqlDruidRefuses() throws Exception {
    String url = serve(400, "application/json", "{\"errorMessage\":\"Encountered \\\"FROM\\\"\"}");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        DruidMain.run(
            new String[] {"--url", url, "query", "top-talkers"},
            Map.of(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(1);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "druid: query top-talkers: POST /druid/v2/sql: HTTP 400: Encountered \"FROM\""
                + System.lineSeparator());
  }

  @Test
  void shouldSayTheDatasourceHasNoDataWhenDruidDoesNotKnowIt() throws Exception {
    String url =
        serve(
            400,
            "application/json",
            "{\"errorMessage\":\"Object 'flows' not found within 'druid' (line [10], column [6])\"}");
    QueryRun run =
        new QueryRun("top-talkers", null, "1h", null, null, null, "PT1M", true, 20, "flows");

    assertThatThrownBy(
            () ->
                run.run(
                    new DruidClient(url), run.prepare(new NamedQueries(DruidFiles.queries()), 0)))
        .hasMessage("datasource flows has no data yet (./flowsight druid status)");
  }

  @Test
  void shouldNameTheUrlAndWhatToStartWhenDruidDoesNotAnswer() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port;

    assertThatThrownBy(() -> new DruidClient(url).sql("SELECT 1"))
        .isInstanceOf(DruidException.class)
        .hasMessage(
            "cannot reach Druid at "
                + url
                + " (connection refused): is it running? ./flowsight druid start (or"
                + " deploy/local/stack start druid)");
  }

  @Test
  void shouldTakeTheTextOfAProxysHtmlError() throws Exception {
    String url =
        serve(
            502,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1>\n<p>no broker</p></body></html>");

    assertThatThrownBy(() -> new DruidClient(url).sql("SELECT 1"))
        .hasMessage("POST /druid/v2/sql: HTTP 502: 502 Bad Gateway no broker");
  }

  @Test
  void shouldReportEachFailedReadinessCheck() throws Exception {
    String url = serve(503, "text/plain", "Service Unavailable");

    List<DruidClient.Check> checks = new DruidClient(url).readiness();

    assertThat(checks).hasSize(4).noneMatch(DruidClient.Check::ok);
    assertThat(checks.get(0).what()).isEqualTo("router " + url + "/status/health");
    assertThat(checks.get(0).failure())
        .isEqualTo("GET /status/health: HTTP 503: Service Unavailable");
    assertThat(checks.get(3).failure())
        .isEqualTo("POST /druid/v2/sql: HTTP 503: Service Unavailable");
  }

  @Test
  void shouldSubstituteTheDatasourceTopicAndBootstrapServersOfTheSpec() {
    JsonNode spec =
        Supervisors.loadSpec(
            DruidFiles.supervisorSpec(),
            "flows_test",
            "topic-x",
            null,
            Map.of("FLOWSIGHT_KAFKA_PORT", "19092"));

    assertThat(spec.at("/spec/dataSchema/dataSource").asText()).isEqualTo("flows_test");
    assertThat(spec.at("/spec/ioConfig/topic").asText()).isEqualTo("topic-x");
    assertThat(spec.at("/spec/ioConfig/consumerProperties/bootstrap.servers").asText())
        .isEqualTo("127.0.0.1:19092");
    JsonNode asIs = Supervisors.loadSpec(DruidFiles.supervisorSpec(), null, null, null, Map.of());
    assertThat(asIs.at("/spec/dataSchema/dataSource").asText()).isEqualTo("flows");
    assertThat(asIs.at("/spec/ioConfig/topic").asText()).isEqualTo("flows-aggregated-v1");
    assertThat(asIs.at("/spec/ioConfig/consumerProperties/bootstrap.servers").asText())
        .isEqualTo("127.0.0.1:9092");
    JsonNode given =
        Supervisors.loadSpec(
            DruidFiles.supervisorSpec(),
            null,
            null,
            "kafka:9093",
            Map.of("FLOWSIGHT_KAFKA_PORT", "1"));
    assertThat(given.at("/spec/ioConfig/consumerProperties/bootstrap.servers").asText())
        .isEqualTo("kafka:9093");
  }
}
