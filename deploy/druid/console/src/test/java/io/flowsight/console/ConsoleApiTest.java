package io.flowsight.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.druid.DruidException;
import io.flowsight.druid.DruidFiles;
import io.flowsight.druid.DruidSql;
import io.flowsight.druid.NamedQueries;
import io.flowsight.druid.SqlParameter;
import io.flowsight.druid.SqlResult;
import io.flowsight.druid.Times;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The JSON endpoints' answers from fixed Druid answers (a fake of the SQL interface): the graph's
 * nodes and edges with an unattributed end, the tables as the named queries give them, the series
 * with the latest forecast per step, and what a request's values become (bound parameters only).
 */
class ConsoleApiTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long NOW = Times.isoToMs("2026-01-31T11:00:00Z");

  /** Every query the console sent, with its parameters. */
  private final List<String> sent = new ArrayList<>();

  private final List<List<SqlParameter>> parameters = new ArrayList<>();

  private ConsoleApi api(Function<String, SqlResult> answers) {
    DruidSql fake =
        (sql, params) -> {
          sent.add(sql);
          parameters.add(params);
          return answers.apply(sql);
        };
    return new ConsoleApi(
        fake, new NamedQueries(DruidFiles.queries()), "flows", "flows_forecast", () -> NOW);
  }

  private static SqlResult result(List<String> columns, Object[]... rows) {
    List<List<JsonNode>> out = new ArrayList<>();
    for (Object[] row : rows) {
      List<JsonNode> values = new ArrayList<>();
      for (Object v : row) {
        values.add(JSON.valueToTree(v));
      }
      out.add(values);
    }
    List<String> types = columns.stream().map(c -> "STRING").toList();
    return new SqlResult(columns, types, types, out);
  }

  private static final List<String> GRAPH_COLUMNS =
      List.of(
          "client_app",
          "server_app",
          "bytes",
          "bytes_client_to_server",
          "bytes_server_to_client",
          "connections",
          "failed",
          "retransmits",
          "retransmit_pct",
          "mean_rtt_ms");

  private static SqlResult graphRows() {
    return result(
        GRAPH_COLUMNS,
        new Object[] {"frontend", "backend", 5500, 500, 5000, 5, 1, 2, 5.0, 1.4},
        new Object[] {"backend", "db", 120, 50, 70, 1, 0, 1, 20.0, 10.0},
        new Object[] {"<NEVER_SEEN>", "backend", 0, 0, 0, 0, 4, 0, null, null});
  }

  @Test
  void graphShouldHaveOneEdgePerPairAndANodePerEndUnattributedOnesNamedByTheirStatus() {
    ObjectNode graph = api(sql -> graphRows()).graph(Map.of("since", "1h"));

    assertThat(graph.path("since").asText()).isEqualTo("2026-01-31T10:00:00.000Z");
    assertThat(graph.path("until").asText()).isEqualTo("2026-01-31T11:00:00.000Z");
    assertThat(graph.path("edges")).hasSize(3);
    JsonNode first = graph.path("edges").get(0);
    assertThat(first.path("source").asText()).isEqualTo("frontend");
    assertThat(first.path("target").asText()).isEqualTo("backend");
    assertThat(first.path("bytes").asLong()).isEqualTo(5500);
    assertThat(first.path("failed").asLong()).isEqualTo(1);
    assertThat(first.path("retransmit_pct").asDouble()).isEqualTo(5.0);
    assertThat(graph.path("edges").get(2).path("retransmit_pct").isNull()).isTrue();

    List<String> names = new ArrayList<>();
    graph.path("nodes").forEach(n -> names.add(n.path("name").asText()));
    assertThat(names).containsExactly("<NEVER_SEEN>", "backend", "db", "frontend");
    JsonNode unattributed = graph.path("nodes").get(0);
    assertThat(unattributed.path("unattributed").asBoolean()).isTrue();
    assertThat(unattributed.path("failed_out").asLong()).isEqualTo(4);
    JsonNode backend = graph.path("nodes").get(1);
    assertThat(backend.path("unattributed").asBoolean()).isFalse();
    assertThat(backend.path("bytes_in").asLong()).isEqualTo(5500);
    assertThat(backend.path("bytes_out").asLong()).isEqualTo(120);
    assertThat(backend.path("callers").asLong()).isEqualTo(2);
    assertThat(backend.path("calls").asLong()).isEqualTo(1);
    assertThat(backend.path("failed_in").asLong()).isEqualTo(5);
  }

  @Test
  void graphShouldBindZoneClusterAndTimesAsParametersNeverInTheSqlText() {
    String hostile = "zone-a' OR '1'='1";
    api(sql -> graphRows())
        .graph(
            Map.of(
                "since",
                "2026-01-31T10:00:00Z",
                "until",
                "2026-01-31T10:05:00Z",
                "zone",
                hostile,
                "cluster",
                "prod"));

    assertThat(sent).hasSize(1);
    assertThat(sent.get(0)).doesNotContain(hostile).doesNotContain("prod").contains("?");
    assertThat(parameters.get(0))
        .containsExactly(
            SqlParameter.varchar(hostile),
            SqlParameter.varchar(hostile),
            SqlParameter.varchar(hostile),
            SqlParameter.varchar("prod"),
            SqlParameter.varchar("prod"),
            SqlParameter.varchar("prod"),
            SqlParameter.bigint(Times.isoToMs("2026-01-31T10:00:00Z")),
            SqlParameter.bigint(Times.isoToMs("2026-01-31T10:05:00Z")),
            SqlParameter.bigint(ConsoleApi.GRAPH_LIMIT));
  }

  @Test
  void tablesShouldRunTheNamedQueriesAsTheCliDoes() {
    NamedQueries queries = new NamedQueries(DruidFiles.queries());
    SqlResult rows =
        result(
            List.of("client_app", "server_app", "bytes"),
            new Object[] {"frontend", "backend", 5500});
    ObjectNode table = api(sql -> rows).table("top-talkers", Map.of("since", "1h", "limit", "5"));

    NamedQueries.Bound expected =
        NamedQueries.bind(
            queries.load("top-talkers"),
            Map.of("since_ms", NOW - 3_600_000L, "until_ms", NOW, "limit", 5),
            "flows");
    assertThat(sent).containsExactly(expected.sql());
    assertThat(parameters).containsExactly(expected.parameters());
    assertThat(table.path("columns").toString())
        .isEqualTo("[\"client_app\",\"server_app\",\"bytes\"]");
    assertThat(table.path("rows").toString()).isEqualTo("[[\"frontend\",\"backend\",5500]]");
    assertThat(table.path("name").asText()).isEqualTo("top-talkers");
  }

  @Test
  void tablesShouldRefuseOtherNamesAndDependenciesWithoutAnApp() {
    ConsoleApi api = api(sql -> graphRows());
    assertThatThrownBy(() -> api.table("timeseries", Map.of()))
        .isInstanceOf(ConsoleApi.BadRequest.class)
        .hasMessageContaining("no table 'timeseries'")
        .hasMessageContaining("top-talkers");
    assertThatThrownBy(() -> api.table("dependencies", Map.of()))
        .isInstanceOf(ConsoleApi.BadRequest.class)
        .hasMessage("the dependencies table needs app=APP");
    assertThatThrownBy(() -> api.table("top-talkers", Map.of("since", "yesterday")))
        .isInstanceOf(ConsoleApi.BadRequest.class)
        .hasMessageContaining("yesterday");
    assertThatThrownBy(() -> api.table("top-talkers", Map.of("limit", "0")))
        .isInstanceOf(ConsoleApi.BadRequest.class)
        .hasMessageContaining("limit: '0'");
    assertThat(sent).isEmpty();
  }

  @Test
  void seriesShouldOverlayTheLatestIssuedForecastOfEachStepAtTheForecastsStep() {
    SqlResult forecasts =
        result(
            List.of("time", "issuedAt", "step", "forecast", "lower", "upper"),
            new Object[] {"2026-01-31T10:00:00.000Z", 100L, "PT1H", 10.0, 5.0, 15.0},
            new Object[] {"2026-01-31T10:00:00.000Z", 200L, "PT1H", 20.0, 15.0, 25.0},
            new Object[] {"2026-01-31T11:00:00.000Z", 100L, "PT1H", 30.0, 25.0, 35.0});
    SqlResult actuals =
        result(
            List.of(
                "time",
                "client_app",
                "server_app",
                "bytes_client_to_server",
                "bytes_server_to_client",
                "connections",
                "failed_connections",
                "retransmits",
                "rtt_sum_micros",
                "rtt_count",
                "mean_rtt_micros"),
            new Object[] {
              "2026-01-31T09:00:00.000Z", "frontend", "backend", 100, 900, 1, 0, 0, 0, 0, null
            });
    ObjectNode series =
        api(sql -> sql.contains("flows_forecast") ? forecasts : actuals)
            .series(Map.of("client", "frontend", "server", "backend", "since", "2h"));

    assertThat(series.path("step").asText()).isEqualTo("PT1H");
    assertThat(series.has("note")).isFalse();
    // 09:00 from Druid, 10:00 filled with zero: the timeseries query's own filling.
    assertThat(series.path("actual").toString())
        .isEqualTo(
            "[["
                + Times.isoToMs("2026-01-31T09:00:00Z")
                + ",1000],["
                + Times.isoToMs("2026-01-31T10:00:00Z")
                + ",0]]");
    assertThat(series.path("forecast").toString())
        .isEqualTo(
            "[["
                + Times.isoToMs("2026-01-31T10:00:00Z")
                + ",20.0,15.0,25.0],["
                + Times.isoToMs("2026-01-31T11:00:00Z")
                + ",30.0,25.0,35.0]]");
    assertThat(parameters.get(0))
        .startsWith(SqlParameter.varchar("frontend"), SqlParameter.varchar("backend"));
    assertThat(sent.get(1)).contains("TIME_FLOOR");
    assertThat(parameters.get(1)).contains(SqlParameter.varchar("PT1H"));
  }

  @Test
  void seriesShouldShowTheActualsAloneWithANoteWhenTheForecastsDatasourceDoesNotExist() {
    SqlResult none = result(List.of("time"));
    ObjectNode series =
        api(sql -> {
              if (sql.contains("flows_forecast")) {
                throw new DruidException(
                    "POST /druid/v2/sql: HTTP 400: Object 'flows_forecast' not found", 400, null);
              }
              return none;
            })
            .series(Map.of("client", "frontend", "server", "backend", "since", "1h"));

    assertThat(series.path("note").asText())
        .isEqualTo(
            "no forecasts: the datasource flows_forecast does not exist (./flowsight forecast"
                + " writes it); the actuals alone");
    assertThat(series.path("forecast")).isEmpty();
    assertThat(series.path("step").asText()).isEqualTo("PT1M");
  }

  @Test
  void druidNotAnsweringShouldComeBackAsItsOwnMessage() {
    ConsoleApi api =
        api(
            sql -> {
              throw new DruidException(
                  "cannot reach Druid at http://127.0.0.1:1 (connection refused): is it running?"
                      + " ./flowsight druid start");
            });
    assertThatThrownBy(() -> api.graph(Map.of()))
        .isInstanceOf(DruidException.class)
        .hasMessageStartingWith("cannot reach Druid at http://127.0.0.1:1");
  }

  @Test
  void filtersShouldListTheZonesAndClustersOfBothEndsOnce() {
    SqlResult rows =
        result(
            List.of("clientZone", "serverZone", "clientCluster", "serverCluster"),
            new Object[] {"zone-a", "zone-b", "prod", "prod"},
            new Object[] {null, "zone-b", null, "prod"},
            new Object[] {"zone-b", "zone-c", "prod", "data"});
    ObjectNode filters = api(sql -> rows).filters(Map.of("since", "1h"));

    assertThat(filters.path("zones").toString()).isEqualTo("[\"zone-a\",\"zone-b\",\"zone-c\"]");
    assertThat(filters.path("clusters").toString()).isEqualTo("[\"data\",\"prod\"]");
    assertThat(parameters.get(0))
        .containsExactly(SqlParameter.bigint(NOW - 3_600_000L), SqlParameter.bigint(NOW));
  }

  @Test
  void queryStringsShouldDecodeAndKeepTheLastValue() {
    assertThat(ConsoleApi.parameters("since=1h&zone=a%20b&zone=c&client=%3CNEVER_SEEN%3E"))
        .containsExactly(
            Map.entry("since", "1h"), Map.entry("zone", "c"), Map.entry("client", "<NEVER_SEEN>"));
  }
}
