package io.flowsight.druid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueryRunTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final NamedQueries QUERIES = new NamedQueries(DruidFiles.queries());
  private static final long NOW = Times.isoToMs("2026-01-31T12:34:56.789Z");

  private static QueryRun run(String name, String app, String appPair) {
    return new QueryRun(name, null, "1h", null, app, appPair, "PT5M", true, 20, "flows");
  }

  @Test
  void shouldBindTheTimeRangeAndLimitOfARankedQuery() {
    QueryRun.Prepared p = run("top-talkers", null, null).prepare(QUERIES, NOW);

    assertThat(p.bound().parameters())
        .containsExactly(
            SqlParameter.bigint(NOW - 3_600_000),
            SqlParameter.bigint(NOW),
            SqlParameter.bigint(20));
    assertThat(QueryRun.showSql(p))
        .endsWith(
            "LIMIT ?\n-- parameters: [{\"type\":\"BIGINT\",\"value\":"
                + (NOW - 3_600_000)
                + "},{\"type\":\"BIGINT\",\"value\":"
                + NOW
                + "},{\"type\":\"BIGINT\",\"value\":20}]\n");
  }

  @Test
  void shouldStartATimeSeriesAtABucketBoundaryAndBindItsAppPair() {
    QueryRun.Prepared p = run("timeseries", null, "checkout, *").prepare(QUERIES, NOW);

    long since = Times.isoToMs("2026-01-31T11:30:00Z");
    assertThat(p.sinceMs()).isEqualTo(since);
    assertThat(p.stepMs()).isEqualTo(300_000);
    assertThat(p.bound().parameters())
        .containsExactly(
            SqlParameter.varchar("PT5M"),
            SqlParameter.varchar("checkout"),
            SqlParameter.varchar("checkout"),
            SqlParameter.varchar("*"),
            SqlParameter.varchar("*"),
            SqlParameter.bigint(since),
            SqlParameter.bigint(NOW));
  }

  @Test
  void shouldRefuseOptionsTheQueryDoesNotTake() {
    assertThatThrownBy(() -> run("dependencies", null, null).prepare(QUERIES, NOW))
        .hasMessage("dependencies needs --app APP");
    assertThatThrownBy(() -> run("top-talkers", "x", null).prepare(QUERIES, NOW))
        .hasMessage("--app is for the dependencies query");
    assertThatThrownBy(() -> run("top-talkers", null, "a,b").prepare(QUERIES, NOW))
        .hasMessage("--app-pair is for the timeseries query");
    assertThatThrownBy(() -> run("timeseries", null, "a").prepare(QUERIES, NOW))
        .hasMessage("--app-pair takes CLIENT_APP,SERVER_APP (either may be *)");
    assertThatThrownBy(() -> run(null, null, null).prepare(QUERIES, NOW))
        .hasMessage("which query? ./flowsight query --list");
  }

  @Test
  void shouldFillEveryEmptyBucketOfEverySeriesWithZerosAndNullMeans() throws Exception {
    List<List<JsonNode>> rows = new ArrayList<>();
    for (String row :
        List.of(
            "[\"2026-01-31T12:01:00.000Z\", \"b\", 10, 2.5]",
            "[\"2026-01-31T12:00:00.000Z\", \"a\", 5, 1.0]")) {
      List<JsonNode> values = new ArrayList<>();
      JSON.readTree(row).forEach(values::add);
      rows.add(values);
    }
    SqlResult result =
        new SqlResult(
            List.of("time", "client_app", "bytes", "mean_rtt_micros"),
            List.of("LONG", "STRING", "LONG", "DOUBLE"),
            List.of("TIMESTAMP", "VARCHAR", "BIGINT", "DOUBLE"),
            rows);

    SqlResult filled =
        QueryRun.fillGaps(
            result,
            List.of("client_app"),
            Times.isoToMs("2026-01-31T12:00:30Z"),
            Times.isoToMs("2026-01-31T12:02:00Z"),
            60_000);

    assertThat(OutputFormat.CSV.render(filled))
        .isEqualTo(
            """
            time,client_app,bytes,mean_rtt_micros
            2026-01-31T12:00:00.000Z,a,5,1
            2026-01-31T12:00:00.000Z,b,0,
            2026-01-31T12:01:00.000Z,a,0,
            2026-01-31T12:01:00.000Z,b,10,2.5
            """);
  }

  @Test
  void shouldReadDurationsAndInstants() {
    assertThat(Times.durationSeconds("90m")).isEqualTo(5400);
    assertThat(Times.durationSeconds("PT1M30S")).isEqualTo(90);
    assertThat(Times.durationSeconds("P1W")).isEqualTo(604800);
    assertThat(Times.parseTime("2026-01-31T12:00:00", NOW))
        .isEqualTo(Times.isoToMs("2026-01-31T12:00:00Z"));
    assertThat(Times.parseTime("2026-01-31T13:00:00+01:00", NOW))
        .isEqualTo(Times.isoToMs("2026-01-31T12:00:00Z"));
    assertThatThrownBy(() -> Times.parseTime("yesterday", NOW))
        .hasMessage(
            "not a duration or an ISO 8601 time: 'yesterday' (use e.g. 1h, P7D, 2026-01-31T12:00Z)");
    assertThatThrownBy(() -> Times.bucketMs("P1M"))
        .hasMessage("granularity 'P1M': use a period like PT1M, PT5M, PT1H or P1D");
  }
}
