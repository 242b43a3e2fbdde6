package io.flowsight.druid;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code ./flowsight query}: one named query (or ad-hoc SQL) with its options, run and printed.
 *
 * @param name the named query, or null with {@code sql}
 * @param sql ad-hoc SQL, or null
 * @param since start: a duration before now or an ISO 8601 time
 * @param until end, exclusive, same forms; null for now
 * @param app dependencies: the application
 * @param appPair timeseries: CLIENT_APP,SERVER_APP, either may be *
 * @param granularity timeseries: the bucket, an ISO 8601 period
 * @param fill timeseries: a row of zeros for every empty bucket of every pair
 * @param limit rows at most, for the ranked queries
 * @param dataSource the datasource the query reads instead of flows
 */
public record QueryRun(
    String name,
    String sql,
    String since,
    String until,
    String app,
    String appPair,
    String granularity,
    boolean fill,
    int limit,
    String dataSource) {

  /** The query with its values bound, and the time range it covers (epoch ms). */
  public record Prepared(NamedQueries.Bound bound, long sinceMs, long untilMs, long stepMs) {}

  /**
   * Checks the options against the query and binds its parameters.
   *
   * @throws DruidException for an option the query does not take or a value it needs
   */
  public Prepared prepare(NamedQueries queries, long nowMs) {
    long sinceMs = Times.parseTime(since, nowMs);
    long untilMs = until == null ? nowMs : Times.parseTime(until, nowMs);
    if (sql != null) {
      if (name != null) {
        throw new DruidException("give a query name or --sql, not both");
      }
      return new Prepared(new NamedQueries.Bound(sql, List.of()), sinceMs, untilMs, 0);
    }
    if (name == null) {
      throw new DruidException("which query? ./flowsight query --list");
    }
    String text = queries.load(name);
    Map<String, Object> values = new HashMap<>();
    values.put("since_ms", sinceMs);
    values.put("until_ms", untilMs);
    values.put("limit", limit);
    if (name.equals("dependencies")) {
      if (app == null || app.isEmpty()) {
        throw new DruidException("dependencies needs --app APP");
      }
      values.put("app", app);
    } else if (app != null) {
      throw new DruidException("--app is for the dependencies query");
    }
    if (name.equals("graph")) {
      // The whole graph: the console narrows it to a zone or a cluster ('' is any).
      values.put("zone", "");
      values.put("cluster", "");
    }
    long step = 0;
    if (name.equals("timeseries-zones")) {
      step = Times.bucketMs(granularity);
      sinceMs -= Math.floorMod(sinceMs, step);
      values.put("granularity", granularity.toUpperCase(java.util.Locale.ROOT));
      values.put("since_ms", sinceMs);
    }
    if (name.equals("timeseries")) {
      String client = "*";
      String server = "*";
      if (appPair != null) {
        String[] parts = appPair.split(",", -1);
        if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
          throw new DruidException("--app-pair takes CLIENT_APP,SERVER_APP (either may be *)");
        }
        client = parts[0].strip();
        server = parts[1].strip();
      }
      step = Times.bucketMs(granularity);
      // Whole buckets only: the first one starts at a bucket boundary (the last may be open).
      sinceMs -= Math.floorMod(sinceMs, step);
      values.put("client_app", client);
      values.put("server_app", server);
      values.put("granularity", granularity.toUpperCase(java.util.Locale.ROOT));
      values.put("since_ms", sinceMs);
    } else if (appPair != null) {
      throw new DruidException("--app-pair is for the timeseries query");
    }
    return new Prepared(NamedQueries.bind(text, values, dataSource), sinceMs, untilMs, step);
  }

  /** The time series queries, and the columns that name one series of each. */
  private static final Map<String, List<String>> SERIES_COLUMNS =
      Map.of(
          "timeseries", List.of("client_app", "server_app"),
          "timeseries-zones", List.of("client_zone", "server_zone", "service_port"));

  /** Runs the query; the rows (time series with their empty buckets filled unless told not to). */
  public SqlResult run(DruidSql druid, Prepared prepared) {
    SqlResult result;
    try {
      result = druid.sql(prepared.bound().sql(), prepared.bound().parameters());
    } catch (DruidException e) {
      if (e.getMessage().contains("Object '" + dataSource + "' not found")) {
        throw new DruidException(
            "datasource " + dataSource + " has no data yet (./flowsight druid status)");
      }
      if (e.status() == 0) {
        throw e; // Druid did not answer: the message says where and what to start
      }
      throw new DruidException(
          (name == null ? "--sql" : "query " + name) + ": " + e.getMessage(), e.status(), e);
    }
    if (SERIES_COLUMNS.containsKey(name) && fill && !result.rows().isEmpty()) {
      result =
          fillGaps(
              result,
              SERIES_COLUMNS.get(name),
              prepared.sinceMs(),
              prepared.untilMs(),
              prepared.stepMs());
    }
    return result;
  }

  /** Runs and prints; a table of a named query has a title line with its time range. */
  public void print(
      DruidClient druid, NamedQueries queries, OutputFormat format, long nowMs, PrintStream out) {
    Prepared prepared = prepare(queries, nowMs);
    SqlResult result = run(druid, prepared);
    if (format == OutputFormat.TABLE && name != null && !SERIES_COLUMNS.containsKey(name)) {
      out.printf(
          "%s, %s .. %s (UTC)%n",
          name, Times.iso(prepared.sinceMs()), Times.iso(prepared.untilMs()));
    }
    format.print(result, out);
  }

  /** {@code --show-sql}: the SQL and its parameters, as Druid gets them. */
  public static String showSql(Prepared prepared) {
    return prepared.bound().sql().strip()
        + "\n-- parameters: "
        + DruidClient.JSON.valueToTree(prepared.bound().parameters())
        + "\n";
  }

  /**
   * Adds a row of zeros (null means) for every bucket of every series without a row, from the
   * bucket of {@code sinceMs} to before {@code untilMs}; sorted by time, then series.
   */
  static SqlResult fillGaps(
      SqlResult result, List<String> seriesColumns, long sinceMs, long untilMs, long stepMs) {
    List<String> columns = result.columns();
    int timeIndex = columns.indexOf("time");
    int[] keyIndex = seriesColumns.stream().mapToInt(columns::indexOf).toArray();
    Map<String, List<JsonNode>> have = new HashMap<>();
    Map<String, List<JsonNode>> series = new TreeMap<>();
    for (List<JsonNode> row : result.rows()) {
      List<JsonNode> key = new ArrayList<>();
      for (int i : keyIndex) {
        key.add(row.get(i));
      }
      String keyText = keyText(key);
      series.put(keyText, key);
      have.put(Times.isoToMs(row.get(timeIndex).asText()) + "|" + keyText, row);
    }
    long first = sinceMs - Math.floorMod(sinceMs, stepMs);
    List<List<JsonNode>> out = new ArrayList<>();
    for (Map.Entry<String, List<JsonNode>> s : series.entrySet()) {
      for (long t = first; t < untilMs; t += stepMs) {
        List<JsonNode> row = have.get(t + "|" + s.getKey());
        if (row == null) {
          row = new ArrayList<>();
          for (String c : columns) {
            row.add(c.startsWith("mean_") ? NullNode.instance : IntNode.valueOf(0));
          }
          row.set(timeIndex, TextNode.valueOf(Times.iso(t)));
          for (int k = 0; k < keyIndex.length; k++) {
            row.set(keyIndex[k], s.getValue().get(k));
          }
        }
        out.add(row);
      }
    }
    // Stable: rows of one bucket stay in the series' order.
    out.sort(Comparator.comparing(r -> r.get(timeIndex).asText()));
    return result.withRows(out);
  }

  private static String keyText(List<JsonNode> key) {
    StringBuilder text = new StringBuilder();
    for (JsonNode k : key) {
      text.append(OutputFormat.cell(k)).append('\u0000');
    }
    return text.toString();
  }
}
