package io.flowsight.forecast.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.druid.DruidClient;
import io.flowsight.druid.NamedQueries;
import io.flowsight.druid.SqlResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The series the job forecasts, read from Druid with the named queries analysts run too: {@code
 * timeseries} (per application pair) and {@code timeseries-zones} (per zone pair and service port),
 * bucketed by the job's step. The value is bytes in both directions.
 */
public final class DruidSeries {

  private final DruidClient druid;
  private final NamedQueries queries;
  private final String dataSource;

  public DruidSeries(DruidClient druid, NamedQueries queries, String dataSource) {
    this.druid = druid;
    this.queries = queries;
    this.dataSource = dataSource;
  }

  /** Every application pair's and zone pair and port's series over {@code [since, until)}. */
  public List<Series> read(Instant since, Instant until, Duration step) {
    Map<String, Object> values =
        Map.of(
            "client_app", "*",
            "server_app", "*",
            "granularity", step.toString(),
            "since_ms", since.toEpochMilli(),
            "until_ms", until.toEpochMilli());
    List<Series.Point> points = new ArrayList<>();
    for (JsonNode row : run("timeseries", values)) {
      points.add(
          new Series.Point(
              time(row),
              SeriesKey.appPair(row.path("client_app").asText(), row.path("server_app").asText()),
              bytes(row)));
    }
    for (JsonNode row : run("timeseries-zones", values)) {
      points.add(
          new Series.Point(
              time(row),
              SeriesKey.zonePort(
                  row.path("client_zone").asText(),
                  row.path("server_zone").asText(),
                  row.path("service_port").asInt()),
              bytes(row)));
    }
    List<Series> out = new ArrayList<>();
    for (Series s : Series.assemble(points, since.toEpochMilli(), until.toEpochMilli(), step)) {
      out.add(s.fromFirstTraffic());
    }
    return out;
  }

  private List<ObjectNode> run(String name, Map<String, Object> values) {
    NamedQueries.Bound bound = NamedQueries.bind(queries.load(name), values, dataSource);
    SqlResult result = druid.sql(bound.sql(), bound.parameters());
    return result.objects();
  }

  private static long time(JsonNode row) {
    return Instant.parse(row.path("time").asText()).toEpochMilli();
  }

  private static double bytes(JsonNode row) {
    return row.path("bytes_client_to_server").asDouble()
        + row.path("bytes_server_to_client").asDouble();
  }
}
