package io.flowsight.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.druid.DruidException;
import io.flowsight.druid.DruidSql;
import io.flowsight.druid.NamedQueries;
import io.flowsight.druid.QueryRun;
import io.flowsight.druid.SqlParameter;
import io.flowsight.druid.SqlResult;
import io.flowsight.druid.Times;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * What the console's JSON endpoints answer, from Druid SQL: the named queries of {@code
 * deploy/druid/queries} run as {@code ./flowsight query} runs them ({@link QueryRun}, the same
 * numbers), every value from the request bound as a dynamic parameter, never pasted into SQL.
 * Request parameters come as text (the query string); a bad one is a {@link BadRequest} naming it.
 */
public final class ConsoleApi {

  /** The named queries the console shows as tables; any other name is refused. */
  public static final Set<String> TABLES =
      Set.of(
          "top-talkers",
          "zone-pairs",
          "ephemeral-ports",
          "failed-connections",
          "hotspots",
          "dependencies");

  /** Edges at most in the graph (the named query's {@code limit}). */
  static final int GRAPH_LIMIT = 500;

  /** Rows at most in a table unless the request asks for fewer or more (as the CLI's --limit). */
  static final int TABLE_LIMIT = 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A request the console refuses, with the message for the page (HTTP 400). */
  public static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BadRequest(String message) {
      super(message);
    }
  }

  private final DruidSql druid;
  private final NamedQueries queries;
  private final String dataSource;
  private final String forecastDataSource;
  private final LongSupplier clock;

  /**
   * @param druid Druid SQL (the client, or a fake in unit tests)
   * @param queries the named queries ({@code deploy/druid/queries})
   * @param dataSource the flows datasource ({@code flows})
   * @param forecastDataSource the forecasts' datasource ({@code flows_forecast})
   * @param clock now, epoch milliseconds
   */
  public ConsoleApi(
      DruidSql druid,
      NamedQueries queries,
      String dataSource,
      String forecastDataSource,
      LongSupplier clock) {
    this.druid = druid;
    this.queries = queries;
    this.dataSource = dataSource;
    this.forecastDataSource = forecastDataSource;
    this.clock = clock;
  }

  // --- the graph ---------------------------------------------------------------------------------

  /**
   * The dependency graph of the time range: the named query {@code graph}, one edge per application
   * pair; its nodes are the ends of the edges, an end without an owner named by its attribution
   * status ({@code <NEVER_SEEN>}), with the bytes and connections in and out of each.
   */
  public ObjectNode graph(Map<String, String> params) {
    long now = clock.getAsLong();
    long since = time(params, "since", "1h", now);
    long until = time(params, "until", null, now);
    Map<String, Object> values = new HashMap<>();
    values.put("since_ms", since);
    values.put("until_ms", until);
    values.put("limit", GRAPH_LIMIT);
    values.put("zone", params.getOrDefault("zone", ""));
    values.put("cluster", params.getOrDefault("cluster", ""));
    NamedQueries.Bound bound = NamedQueries.bind(queries.load("graph"), values, dataSource);
    SqlResult result = run("graph", bound.sql(), bound.parameters());

    ObjectNode out = range(since, until);
    out.put("zone", params.getOrDefault("zone", ""));
    out.put("cluster", params.getOrDefault("cluster", ""));
    Map<String, ObjectNode> nodes = new TreeMap<>();
    ArrayNode edges = out.putArray("edges");
    for (ObjectNode row : result.objects()) {
      String client = row.path("client_app").asText();
      String server = row.path("server_app").asText();
      ObjectNode edge = edges.addObject();
      edge.put("source", client);
      edge.put("target", server);
      for (String column :
          List.of(
              "bytes",
              "bytes_client_to_server",
              "bytes_server_to_client",
              "connections",
              "failed",
              "retransmits")) {
        edge.put(column, row.path(column).asLong());
      }
      edge.set("retransmit_pct", row.path("retransmit_pct"));
      edge.set("mean_rtt_ms", row.path("mean_rtt_ms"));
      node(nodes, client)
          .put("bytes_out", node(nodes, client).path("bytes_out").asLong() + bytes(row));
      node(nodes, server)
          .put("bytes_in", node(nodes, server).path("bytes_in").asLong() + bytes(row));
      add(node(nodes, client), "calls", 1);
      add(node(nodes, server), "callers", 1);
      add(node(nodes, client), "failed_out", row.path("failed").asLong());
      add(node(nodes, server), "failed_in", row.path("failed").asLong());
    }
    ArrayNode nodeArray = out.putArray("nodes");
    nodes.values().forEach(nodeArray::add);
    out.put("truncated", result.rows().size() >= GRAPH_LIMIT);
    return out;
  }

  private static long bytes(ObjectNode row) {
    return row.path("bytes").asLong();
  }

  private static void add(ObjectNode node, String field, long amount) {
    node.put(field, node.path(field).asLong() + amount);
  }

  private static ObjectNode node(Map<String, ObjectNode> nodes, String name) {
    return nodes.computeIfAbsent(
        name,
        n -> {
          ObjectNode node = JSON.createObjectNode();
          node.put("name", n);
          // An end without an owner: the query names it by its attribution status in brackets.
          node.put("unattributed", n.startsWith("<") && n.endsWith(">"));
          node.put("bytes_in", 0L);
          node.put("bytes_out", 0L);
          node.put("calls", 0L);
          node.put("callers", 0L);
          node.put("failed_in", 0L);
          node.put("failed_out", 0L);
          return node;
        });
  }

  /** The zones and clusters seen in the time range, for the page's filters. */
  public ObjectNode filters(Map<String, String> params) {
    long now = clock.getAsLong();
    long since = time(params, "since", "1h", now);
    long until = time(params, "until", null, now);
    ObjectNode out = range(since, until);
    // One scan for both ends of both dimensions (Druid plans no UNION of filtered scans); the
    // datasource's name is the console's setting, the times are bound.
    String sql =
        "SELECT \"clientZone\", \"serverZone\", \"clientCluster\", \"serverCluster\" FROM \"flows\""
            + " WHERE \"__time\" >= MILLIS_TO_TIMESTAMP({{since_ms}})"
            + " AND \"__time\" < MILLIS_TO_TIMESTAMP({{until_ms}}) GROUP BY 1, 2, 3, 4";
    NamedQueries.Bound bound =
        NamedQueries.bind(sql, Map.of("since_ms", since, "until_ms", until), dataSource);
    Set<String> zones = new TreeSet<>();
    Set<String> clusters = new TreeSet<>();
    for (List<JsonNode> row : run("filters", bound.sql(), bound.parameters()).rows()) {
      for (int i = 0; i < 4; i++) {
        JsonNode value = row.get(i);
        if (!value.isNull() && !value.asText().isEmpty()) {
          (i < 2 ? zones : clusters).add(value.asText());
        }
      }
    }
    zones.forEach(out.putArray("zones")::add);
    clusters.forEach(out.putArray("clusters")::add);
    return out;
  }

  // --- tables ------------------------------------------------------------------------------------

  /**
   * A named query as a table: what {@code ./flowsight query NAME --since S --until U --limit N}
   * prints, as JSON (columns in order, rows as arrays, values as Druid gives them).
   */
  public ObjectNode table(String name, Map<String, String> params) {
    if (!TABLES.contains(name)) {
      throw new BadRequest(
          "no table '" + name + "'; the tables are: " + String.join(", ", new TreeSet<>(TABLES)));
    }
    int limit = integer(params, "limit", TABLE_LIMIT, 1, 10_000);
    String app = params.get("app");
    if (name.equals("dependencies") && (app == null || app.isBlank())) {
      throw new BadRequest("the dependencies table needs app=APP");
    }
    QueryRun run =
        new QueryRun(
            name,
            null,
            params.getOrDefault("since", "1h"),
            params.get("until"),
            name.equals("dependencies") ? app : null,
            null,
            "PT1M",
            true,
            limit,
            dataSource);
    QueryRun.Prepared prepared;
    try {
      prepared = run.prepare(queries, clock.getAsLong());
    } catch (DruidException | IllegalArgumentException e) {
      throw new BadRequest(e.getMessage());
    }
    SqlResult result = run.run(druid, prepared);
    ObjectNode out = range(prepared.sinceMs(), prepared.untilMs());
    out.put("name", name);
    ArrayNode columns = out.putArray("columns");
    result.columns().forEach(columns::add);
    ArrayNode rows = out.putArray("rows");
    for (List<JsonNode> row : result.rows()) {
      ArrayNode array = rows.addArray();
      row.forEach(array::add);
    }
    return out;
  }

  // --- time series with forecasts ----------------------------------------------------------------

  /**
   * One application pair's bytes per step (both directions), from the named query {@code
   * timeseries} with empty steps as zeros, and the forecasts of the pair from the forecasts'
   * datasource: for each step the one of the latest {@code issuedAt} (a later run supersedes an
   * earlier one). The step is the forecasts' own when there are any, so that both count bytes per
   * the same step; else one that gives at most a few hundred points.
   */
  public ObjectNode series(Map<String, String> params) {
    String client = required(params, "client");
    String server = required(params, "server");
    long now = clock.getAsLong();
    long since = time(params, "since", "1d", now);
    long until = time(params, "until", null, now);
    if (until <= since) {
      throw new BadRequest("until must be after since");
    }
    ObjectNode out = range(since, until);
    out.put("client", client);
    out.put("server", server);

    // Forecasts reach past the actuals: a quarter of the range beyond until (at least a day).
    long forecastUntil = until + Math.max((until - since) / 4, 86_400_000L);
    Map<Long, double[]> forecasts = new TreeMap<>();
    String step = null;
    String note = null;
    try {
      String sql =
          "SELECT \"__time\" AS \"time\", \"issuedAt\", \"step\", \"forecast\", \"lower\", \"upper\""
              + " FROM "
              + quoted(forecastDataSource)
              + " WHERE \"kind\" = 'app_pair' AND \"metric\" = 'bytes'"
              + " AND \"clientApp\" = ? AND \"serverApp\" = ?"
              + " AND \"__time\" >= MILLIS_TO_TIMESTAMP(?) AND \"__time\" < MILLIS_TO_TIMESTAMP(?)";
      SqlResult rows =
          druid.sql(
              sql,
              List.of(
                  SqlParameter.varchar(client),
                  SqlParameter.varchar(server),
                  SqlParameter.bigint(since),
                  SqlParameter.bigint(forecastUntil)));
      Map<Long, Long> issued = new HashMap<>();
      for (ObjectNode row : rows.objects()) {
        long t = Times.isoToMs(row.path("time").asText());
        long issuedAt = row.path("issuedAt").asLong();
        if (issued.containsKey(t) && issued.get(t) >= issuedAt) {
          continue;
        }
        issued.put(t, issuedAt);
        forecasts.put(
            t,
            new double[] {
              row.path("forecast").asDouble(),
              row.path("lower").asDouble(),
              row.path("upper").asDouble()
            });
        step = row.path("step").asText(null);
      }
      if (forecasts.isEmpty()) {
        note = "no forecast of this pair in the range (./flowsight forecast makes them)";
      }
    } catch (DruidException e) {
      if (e.status() == 0) {
        throw e;
      }
      if (!e.getMessage().contains("'" + forecastDataSource + "' not found")) {
        throw new DruidException("forecasts: " + e.getMessage(), e.status(), e);
      }
      note =
          "no forecasts: the datasource "
              + forecastDataSource
              + " does not exist (./flowsight forecast writes it); the actuals alone";
    }
    String granularity = step != null ? step : granularityFor(until - since);
    out.put("step", granularity);
    if (note != null) {
      out.put("note", note);
    }

    QueryRun run =
        new QueryRun(
            "timeseries",
            null,
            Times.iso(since),
            Times.iso(until),
            null,
            client + "," + server,
            granularity,
            true,
            TABLE_LIMIT,
            dataSource);
    QueryRun.Prepared prepared;
    try {
      prepared = run.prepare(queries, now);
    } catch (DruidException | IllegalArgumentException e) {
      throw new BadRequest(e.getMessage());
    }
    SqlResult actual = run.run(druid, prepared);
    ArrayNode actuals = out.putArray("actual");
    for (ObjectNode row : actual.objects()) {
      ArrayNode point = actuals.addArray();
      point.add(Times.isoToMs(row.path("time").asText()));
      point.add(
          row.path("bytes_client_to_server").asLong()
              + row.path("bytes_server_to_client").asLong());
    }
    ArrayNode forecastArray = out.putArray("forecast");
    forecasts.forEach(
        (t, f) -> {
          ArrayNode point = forecastArray.addArray();
          point.add(t);
          point.add(f[0]);
          point.add(f[1]);
          point.add(f[2]);
        });
    return out;
  }

  /** A step that gives a readable number of points for a range of {@code ms}. */
  static String granularityFor(long ms) {
    long minutes = ms / 60_000;
    if (minutes <= 360) {
      return minutes <= 120 ? "PT1M" : "PT5M";
    }
    return minutes <= 2 * 24 * 60 ? "PT15M" : "PT1H";
  }

  // --- helpers -----------------------------------------------------------------------------------

  private SqlResult run(String what, String sql, List<SqlParameter> parameters) {
    try {
      return druid.sql(sql, parameters);
    } catch (DruidException e) {
      if (e.getMessage().contains("'" + dataSource + "' not found")) {
        throw new DruidException(
            "datasource " + dataSource + " has no data yet (./flowsight druid status)",
            e.status(),
            e);
      }
      if (e.status() == 0) {
        throw e;
      }
      throw new DruidException(what + ": " + e.getMessage(), e.status(), e);
    }
  }

  private static ObjectNode range(long since, long until) {
    ObjectNode out = JSON.createObjectNode();
    out.put("since", Times.iso(since));
    out.put("until", Times.iso(until));
    return out;
  }

  private static long time(Map<String, String> params, String name, String fallback, long now) {
    String text = params.get(name);
    if (text == null || text.isBlank()) {
      if (fallback == null) {
        return now;
      }
      text = fallback;
    }
    try {
      return Times.parseTime(text.strip(), now);
    } catch (IllegalArgumentException e) {
      throw new BadRequest(name + ": " + e.getMessage());
    }
  }

  private static String required(Map<String, String> params, String name) {
    String value = params.get(name);
    if (value == null || value.isBlank()) {
      throw new BadRequest("missing parameter " + name);
    }
    return value.strip();
  }

  private static int integer(
      Map<String, String> params, String name, int fallback, int min, int max) {
    String text = params.get(name);
    if (text == null || text.isBlank()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(text.strip());
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // the message below
    }
    throw new BadRequest(name + ": '" + text + "': use a whole number from " + min + " to " + max);
  }

  /** A datasource name as a quoted SQL identifier (a setting of the console, checked at start). */
  static String quoted(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  /** The request's query string as a map: each name once, the last value. */
  public static Map<String, String> parameters(String rawQuery) {
    Map<String, String> out = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return out;
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      out.put(decode(name).toLowerCase(Locale.ROOT), decode(value));
    }
    return out;
  }

  private static String decode(String text) {
    try {
      return java.net.URLDecoder.decode(text, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new BadRequest("bad URL encoding: " + text);
    }
  }
}
