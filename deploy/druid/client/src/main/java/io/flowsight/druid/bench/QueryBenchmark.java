package io.flowsight.druid.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.druid.DruidClient;
import io.flowsight.druid.DruidException;
import io.flowsight.druid.DruidFiles;
import io.flowsight.druid.NamedQueries;
import io.flowsight.druid.SqlParameter;
import io.flowsight.druid.SqlResult;
import io.flowsight.druid.Supervisors;
import io.flowsight.druid.Times;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./flowsight bench queries}: how fast the named queries and the console's queries answer on
 * a fleet's worth of rows. A {@link SyntheticFleet} is written as gzipped JSON lines (one file a
 * day), batch-loaded into a datasource of its own with the flows supervisor's columns, metrics,
 * rollup and segment granularity, and every query is timed over the last hour, the last day and all
 * days. Then the last day is loaded again in variants of the datasource's layout, and the day's
 * queries are timed on each, so that what the layout choices contribute is measured in the same
 * run.
 */
@Command(
    name = "./flowsight bench queries",
    mixinStandardHelpOptions = true,
    description = "Query latency of the named and console queries on a synthetic fleet in Druid.",
    footer = {
      "",
      "Needs a Druid with a free task slot (./flowsight up, or deploy/local/stack start druid);",
      "the range-partitioned variant needs two. At the defaults (1,000 apps, 50,000 IPs, 7 days,",
      "3,000 rows a minute: about 28 M rows) the files take about 3 GB under --data-dir and the",
      "whole run takes about 1.5 hours on 2 cores (the load alone about 35 minutes).",
      "",
      "Latency is wall time at this client: SQL planning, the query and the answer's transfer,",
      "caches off (the stack's Druid has no result cache). p50 and p95 are by nearest rank over",
      "--repeat runs after a first, unmeasured one (its time is shown as 'first')."
    })
public final class QueryBenchmark implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--apps", defaultValue = "1000", description = "applications (1000)")
  int apps;

  @Option(names = "--ips", defaultValue = "50000", description = "IP addresses (50000)")
  int ips;

  @Option(names = "--days", defaultValue = "7", description = "days of 1-minute rows (7)")
  int days;

  @Option(
      names = "--rows-per-minute",
      defaultValue = "3000",
      description = "rows a minute at the daily mean (3000)")
  int rowsPerMinute;

  @Option(names = "--seed", defaultValue = "42", description = "random seed (42)")
  long seed;

  @Option(
      names = "--first-day",
      defaultValue = "2026-01-05",
      description = "the first day, UTC (2026-01-05, a Monday)")
  LocalDate firstDay;

  @Option(
      names = "--repeat",
      defaultValue = "20",
      description = "measured runs of each query and range (20)")
  int repeat;

  @Option(
      names = "--ranges",
      split = ",",
      defaultValue = "1h,1d,all",
      description =
          "the ranges to time, at the end of the data: 1h, 1d, all (the default: all three)")
  List<String> rangeNames;

  @Option(
      names = "--no-variants",
      description = "skip loading the last day in the layout variants and comparing them")
  boolean noVariants;

  @Option(
      names = "--data-dir",
      required = true,
      description = "where the generated files go (kept for the next run: same shape, no rewrite)")
  Path dataDir;

  @Option(
      names = "--datasource",
      defaultValue = "flows_bench",
      description = "the datasource to load (flows_bench); variants get a suffix")
  String dataSource;

  @Option(
      names = "--reuse",
      description = "query the datasource as it is when it holds the generated rows already")
  boolean reuse;

  @Option(names = "--keep", description = "keep the datasources at the end (default: drop them)")
  boolean keep;

  @Option(
      names = "--druid-url",
      description = "Druid's router (FLOWSIGHT_DRUID_URL, else the local stack's)")
  String druidUrl;

  private final PrintStream out;
  private DruidClient druid;

  QueryBenchmark(PrintStream out) {
    this.out = out;
  }

  public static void main(String[] args) {
    System.exit(
        new CommandLine(new QueryBenchmark(System.out))
            .registerConverter(LocalDate.class, LocalDate::parse)
            .execute(args));
  }

  /** One query to time: its label in the tables, the named query and its values. */
  record Query(String label, String name, Map<String, Object> values) {}

  /** Latencies of one query over one range, ms; or the error Druid answered with. */
  record Latency(double firstMs, double p50Ms, double p95Ms, int runs, int rows, String error) {}

  /** A time range of the data: its label and bounds, epoch ms, end exclusive. */
  record Range(String label, long sinceMs, long untilMs) {}

  /** A loaded datasource: load times, rows before and after rollup, segments and their bytes. */
  record Loaded(
      String dataSource,
      double taskSeconds,
      double queryableSeconds,
      long rowsIn,
      long rows,
      long segments,
      long bytes) {}

  @Override
  public Integer call() throws Exception {
    druid =
        new DruidClient(
            druidUrl != null ? druidUrl : DruidClient.defaultUrl(System.getenv()),
            Duration.ofMinutes(10));
    if (!druid.ready()) {
      throw new DruidException(
          "Druid at "
              + druid.url()
              + " is not ready: start it with ./flowsight up or deploy/local/stack start druid");
    }
    long start = firstDay.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    SyntheticFleet fleet =
        new SyntheticFleet(new SyntheticFleet.Shape(apps, ips, days, rowsPerMinute, seed, start));
    long end = start + days * SyntheticFleet.DAY_MS;

    out.printf(
        "Fleet: %,d apps, %,d IPs, %d days from %s, %,d rows a minute at the daily mean, seed %d%n",
        apps, ips, days, firstDay, rowsPerMinute, seed);
    long[] dayRows = generate(fleet);
    long rowsIn = Arrays.stream(dayRows).sum();

    Loaded main;
    if (reuse && holds(dataSource, rowsIn)) {
      out.printf("Reusing %s: it holds the %,d generated rows%n", dataSource, rowsIn);
      main = describe(dataSource, Double.NaN, Double.NaN, rowsIn);
    } else {
      main =
          load(
              dataSource,
              flowsSchema(dataSource),
              dynamicTuning(),
              "day-*.json.gz",
              rowsIn,
              start,
              end);
    }
    printLoads(List.of(main), "the flows layout: HOUR segments, MINUTE rollup, time-sorted");

    String[] pair = fleet.heaviestPair();
    Range day = new Range("1 d", end - SyntheticFleet.DAY_MS, end);
    List<Range> ranges = new ArrayList<>();
    for (String r : rangeNames) {
      switch (r) {
        case "1h" -> ranges.add(new Range("1 h", end - 3_600_000, end));
        case "1d" -> ranges.add(day);
        case "all" -> ranges.add(new Range(days + " d", start, end));
        default ->
            throw new CommandLine.ParameterException(
                new CommandLine(this), "--ranges takes 1h, 1d and all, not " + r);
      }
    }
    Map<String, Map<String, Latency>> byQuery = new LinkedHashMap<>();
    for (Range range : ranges) {
      out.printf("Timing the queries over %s...%n", range.label());
      for (Query q : queries(range, pair)) {
        byQuery
            .computeIfAbsent(q.label(), k -> new LinkedHashMap<>())
            .put(range.label(), time(q, main.dataSource(), range, repeat));
      }
    }
    out.printf(
        "%nLatency, ms (p50 / p95 of %d runs; first run in brackets), %s; dependencies of %s,"
            + " timeseries of %s -> %s%n",
        repeat, main.dataSource(), SyntheticFleet.appName(0), pair[0], pair[1]);
    printLatencies(byQuery, ranges.stream().map(Range::label).toList());

    if (!noVariants) {
      compareLayouts(main, day, dayRows[days - 1], pair);
    }
    if (!keep) {
      drop(main.dataSource());
    }
    return 0;
  }

  // --- generating --------------------------------------------------------------------------------

  /** Writes day-N.json.gz for every day (unless a run of the same shape wrote them); rows a day. */
  long[] generate(SyntheticFleet fleet) throws Exception {
    Files.createDirectories(dataDir);
    Path stamp = dataDir.resolve("shape.txt");
    Path counts = dataDir.resolve("rows.txt");
    String shape = fleet.shape().toString();
    if (Files.exists(stamp) && Files.readString(stamp).equals(shape) && Files.exists(counts)) {
      long[] rows =
          Arrays.stream(Files.readString(counts).strip().split(","))
              .mapToLong(Long::parseLong)
              .toArray();
      out.printf(
          "Generated rows: %,d, from %s (written before)%n", Arrays.stream(rows).sum(), dataDir);
      return rows;
    }
    Files.deleteIfExists(stamp);
    long t0 = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<Future<Long>> written = new ArrayList<>();
    for (int d = 0; d < days; d++) {
      int day = d;
      written.add(
          pool.submit(
              () -> {
                Path file = dataDir.resolve("day-" + day + ".json.gz");
                try (OutputStream os =
                    new BufferedOutputStream(new FastGzip(Files.newOutputStream(file)), 1 << 16)) {
                  return fleet.writeDay(day, os);
                }
              }));
    }
    long[] rows = new long[days];
    for (int d = 0; d < days; d++) {
      rows[d] = written.get(d).get();
    }
    pool.shutdown();
    long bytes = 0;
    for (int d = 0; d < days; d++) {
      bytes += Files.size(dataDir.resolve("day-" + d + ".json.gz"));
    }
    Files.writeString(
        counts, String.join(",", Arrays.stream(rows).mapToObj(Long::toString).toList()));
    Files.writeString(stamp, shape);
    out.printf(
        "Generated rows: %,d (%,.0f a minute on average) in %.0f s, %,.0f MB gzipped, in %s%n",
        Arrays.stream(rows).sum(),
        Arrays.stream(rows).sum() / (days * 1440.0),
        (System.nanoTime() - t0) / 1e9,
        bytes / 1e6,
        dataDir);
    return rows;
  }

  /** gzip at its fastest level: the files are read once or twice, written once. */
  private static final class FastGzip extends GZIPOutputStream {
    FastGzip(OutputStream out) throws IOException {
      super(out, 1 << 16);
      def.setLevel(Deflater.BEST_SPEED);
    }
  }

  // --- loading -----------------------------------------------------------------------------------

  /** The flows supervisor's dataSchema, for {@code name}. */
  static ObjectNode flowsSchema(String name) {
    return (ObjectNode)
        Supervisors.loadSpec(DruidFiles.supervisorSpec(), name, null, null, Map.of())
            .path("spec")
            .path("dataSchema")
            .deepCopy();
  }

  /** One task, dynamic partitioning: what a Kafka task does too (segments up to 5 M rows). */
  static ObjectNode dynamicTuning() {
    ObjectNode tuning = JSON.createObjectNode().put("type", "index_parallel");
    tuning.put("maxNumConcurrentSubTasks", 1);
    tuning.putObject("partitionsSpec").put("type", "dynamic").put("maxRowsPerSegment", 5_000_000);
    return tuning;
  }

  /** Loads the files matching {@code filter} by native batch ingestion; waits until queryable. */
  Loaded load(
      String name,
      ObjectNode dataSchema,
      ObjectNode tuning,
      String filter,
      long rowsIn,
      long sinceMs,
      long untilMs) {
    drop(name);
    // Known intervals spare the task a whole first pass over the input to find them.
    ((ObjectNode) dataSchema.get("granularitySpec"))
        .putArray("intervals")
        .add(Times.iso(sinceMs) + "/" + Times.iso(untilMs));
    ObjectNode task = JSON.createObjectNode().put("type", "index_parallel");
    ObjectNode spec = task.putObject("spec");
    spec.set("dataSchema", dataSchema);
    ObjectNode io = spec.putObject("ioConfig").put("type", "index_parallel");
    io.putObject("inputSource")
        .put("type", "local")
        .put("baseDir", dataDir.toAbsolutePath().toString())
        .put("filter", filter);
    io.putObject("inputFormat").put("type", "json");
    spec.set("tuningConfig", tuning);
    out.printf("Loading %,d rows into %s...%n", rowsIn, name);
    long t0 = System.nanoTime();
    String id = druid.submitTask(task);
    Supervisors.awaitTask(druid, "ingestion task", id, 4 * 3600);
    double taskSeconds = (System.nanoTime() - t0) / 1e9;
    Supervisors.waitFor("the rows of " + name + " in SQL", () -> holds(name, rowsIn), 1800);
    double queryable = (System.nanoTime() - t0) / 1e9;
    return describe(name, taskSeconds, queryable, rowsIn);
  }

  /** Whether Druid SQL counts {@code rowsIn} rows before rollup in the datasource. */
  boolean holds(String name, long rowsIn) {
    try {
      return druid.sql("SELECT SUM(\"rows\") AS \"n\" FROM " + quoted(name)).value(0, "n").asLong()
          == rowsIn;
    } catch (DruidException notYet) {
      return false;
    }
  }

  Loaded describe(String name, double taskSeconds, double queryableSeconds, long rowsIn) {
    SqlResult rows = druid.sql("SELECT COUNT(*) AS \"n\" FROM " + quoted(name));
    SqlResult segments =
        druid.sql(
            "SELECT COUNT(*) AS \"n\", SUM(\"size\") AS \"bytes\" FROM sys.segments"
                + " WHERE \"datasource\" = ? AND \"is_published\" = 1 AND \"is_overshadowed\" = 0",
            SqlParameter.varchar(name));
    return new Loaded(
        name,
        taskSeconds,
        queryableSeconds,
        rowsIn,
        rows.value(0, "n").asLong(),
        segments.value(0, "n").asLong(),
        segments.value(0, "bytes").asLong());
  }

  void drop(String name) {
    try {
      if (druid.usedSegments(name).size() > 0) {
        new Supervisors(
                druid,
                new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8))
            .remove(name, true, 300);
      }
    } catch (DruidException e) {
      out.println("could not drop " + name + ": " + e.getMessage());
    }
  }

  // --- timing ------------------------------------------------------------------------------------

  /**
   * The named queries as the CLI runs them (ranked ones with the console's table limit), the
   * console's graph (whole, and narrowed to one zone), one pair's series at the console's step for
   * the range, and every pair's and zone pair's hourly series as the forecasting job reads them.
   */
  static List<Query> queries(Range range, String[] pair) {
    long span = range.untilMs() - range.sinceMs();
    String step =
        span <= 2 * 3_600_000 ? "PT1M" : span <= 2 * SyntheticFleet.DAY_MS ? "PT15M" : "PT1H";
    Map<String, Object> ranked = Map.of("limit", 20);
    List<Query> out = new ArrayList<>();
    out.add(new Query("top-talkers", "top-talkers", ranked));
    out.add(new Query("graph (console)", "graph", Map.of("zone", "", "cluster", "", "limit", 500)));
    out.add(
        new Query(
            "graph, one zone (console)",
            "graph",
            Map.of("zone", SyntheticFleet.zoneName(0), "cluster", "", "limit", 500)));
    out.add(
        new Query(
            "dependencies", "dependencies", Map.of("app", SyntheticFleet.appName(0), "limit", 20)));
    out.add(new Query("zone-pairs", "zone-pairs", ranked));
    out.add(new Query("hotspots", "hotspots", ranked));
    out.add(new Query("failed-connections", "failed-connections", ranked));
    out.add(new Query("ephemeral-ports", "ephemeral-ports", ranked));
    out.add(
        new Query(
            "timeseries, one pair at " + step,
            "timeseries",
            Map.of("client_app", pair[0], "server_app", pair[1], "granularity", step)));
    out.add(
        new Query(
            "timeseries, all pairs at PT1H",
            "timeseries",
            Map.of("client_app", "*", "server_app", "*", "granularity", "PT1H")));
    out.add(
        new Query("timeseries-zones at PT1H", "timeseries-zones", Map.of("granularity", "PT1H")));
    return out;
  }

  private final NamedQueries namedQueries = new NamedQueries(DruidFiles.queries());

  /** Runs the query once unmeasured, then {@code runs} times; p50 and p95 by nearest rank. */
  Latency time(Query q, String source, Range range, int runs) {
    Map<String, Object> values = new HashMap<>(q.values());
    values.put("since_ms", range.sinceMs());
    values.put("until_ms", range.untilMs());
    NamedQueries.Bound bound = NamedQueries.bind(namedQueries.load(q.name()), values, source);
    long t0 = System.nanoTime();
    SqlResult first;
    try {
      first = druid.sql(bound.sql(), bound.parameters());
    } catch (DruidException e) {
      if (e.status() == 0) {
        throw e; // Druid did not answer at all
      }
      out.printf("  %s over %s: %s%n", q.label(), range.label(), e.getMessage());
      return new Latency(Double.NaN, Double.NaN, Double.NaN, 0, 0, e.getMessage());
    }
    double firstMs = (System.nanoTime() - t0) / 1e6;
    // A query slower than 10 s is run 3 more times, not --repeat: its p95 is then its worst.
    int n = firstMs > 10_000 ? Math.min(3, runs) : runs;
    List<Double> ms = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t = System.nanoTime();
      druid.sql(bound.sql(), bound.parameters());
      ms.add((System.nanoTime() - t) / 1e6);
    }
    return new Latency(
        firstMs,
        FreshnessBenchmark.percentile(ms, 50),
        FreshnessBenchmark.percentile(ms, 95),
        n,
        first.rows().size(),
        null);
  }

  // --- layout variants ---------------------------------------------------------------------------

  /**
   * Loads the last day again in each variant of the layout and times the day's queries on each,
   * beside the main datasource over the same day.
   */
  void compareLayouts(Loaded main, Range day, long dayRows, String[] pair) {
    String file = "day-" + (days - 1) + ".json.gz";
    Map<String, ObjectNode[]> layouts = new LinkedHashMap<>();

    ObjectNode daySegments = flowsSchema(main.dataSource() + "_day");
    ((ObjectNode) daySegments.get("granularitySpec")).put("segmentGranularity", "DAY");
    layouts.put("DAY segments", new ObjectNode[] {daySegments, dynamicTuning()});

    ObjectNode ranged = flowsSchema(main.dataSource() + "_range");
    ((ObjectNode) ranged.get("granularitySpec")).put("segmentGranularity", "DAY");
    ObjectNode rangeTuning = JSON.createObjectNode().put("type", "index_parallel");
    rangeTuning.put("forceGuaranteedRollup", true).put("maxNumConcurrentSubTasks", 2);
    ObjectNode partitions = rangeTuning.putObject("partitionsSpec").put("type", "range");
    partitions.putArray("partitionDimensions").add("serverApp").add("clientApp");
    partitions.put("targetRowsPerSegment", 1_000_000);
    layouts.put(
        "DAY segments, range-partitioned by serverApp, clientApp",
        new ObjectNode[] {ranged, rangeTuning});

    ObjectNode sorted = flowsSchema(main.dataSource() + "_sorted");
    ObjectNode dimensions = ((ObjectNode) sorted.get("dimensionsSpec"));
    ArrayNode list = (ArrayNode) dimensions.get("dimensions");
    ArrayNode reordered = JSON.createArrayNode().add("serverApp").add("clientApp");
    reordered.addObject().put("type", "long").put("name", "__time");
    list.forEach(
        d -> {
          String name = d.isTextual() ? d.asText() : d.path("name").asText();
          if (!name.equals("serverApp") && !name.equals("clientApp")) {
            reordered.add(d);
          }
        });
    dimensions.set("dimensions", reordered);
    dimensions.put("forceSegmentSortByTime", false);
    layouts.put(
        "HOUR segments, sorted by serverApp, clientApp, then time",
        new ObjectNode[] {sorted, dynamicTuning()});

    ObjectNode hourly = flowsSchema(main.dataSource() + "_hourly");
    ((ObjectNode) hourly.get("granularitySpec")).put("queryGranularity", "HOUR");
    layouts.put(
        "HOUR rollup (as a compaction to hourly rows would give)",
        new ObjectNode[] {hourly, dynamicTuning()});

    int slots = freeSlots();
    List<Loaded> loads = new ArrayList<>();
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(main.dataSource(), "the flows layout (the main datasource, same day)");
    for (Map.Entry<String, ObjectNode[]> layout : layouts.entrySet()) {
      ObjectNode schema = layout.getValue()[0];
      ObjectNode tuning = layout.getValue()[1];
      String name = schema.path("dataSource").asText();
      if (tuning.path("maxNumConcurrentSubTasks").asInt() > 1 && slots < 2) {
        out.printf(
            "Skipping %s: range partitioning runs subtasks and needs 2 free task slots, the"
                + " indexer has %d free (FLOWSIGHT_DRUID_INDEXER_CAPACITY)%n",
            layout.getKey(), slots);
        continue;
      }
      loads.add(load(name, schema, tuning, file, dayRows, day.sinceMs(), day.untilMs()));
      labels.put(name, layout.getKey());
    }
    printLoads(loads, "the last day, in each layout");

    Map<String, Map<String, Latency>> byQuery = new LinkedHashMap<>();
    int runs = Math.max(5, repeat / 2);
    out.printf("Timing the day's queries in each layout (%d runs each)...%n", runs);
    for (String source : labels.keySet()) {
      for (Query q : queries(day, pair)) {
        byQuery
            .computeIfAbsent(q.label(), k -> new LinkedHashMap<>())
            .put(source, time(q, source, day, runs));
      }
    }
    out.printf("%nLatency over the last day by layout, ms (p50 / p95 of %d runs):%n", runs);
    labels.forEach((source, label) -> out.printf("  %-22s %s%n", source, label));
    printLatencies(byQuery, new ArrayList<>(labels.keySet()));
    if (!keep) {
      loads.forEach(l -> drop(l.dataSource()));
    }
  }

  int freeSlots() {
    int free = 0;
    for (JsonNode worker : druid.request("GET", "/druid/indexer/v1/workers", null)) {
      free +=
          worker.path("worker").path("capacity").asInt() - worker.path("currCapacityUsed").asInt();
    }
    return free;
  }

  // --- printing ----------------------------------------------------------------------------------

  void printLoads(List<Loaded> loads, String what) {
    out.printf("%nLoad, %s:%n", what);
    out.printf(
        "| datasource | rows in | rows after rollup | segments | MB | task, s | until queryable, s |%n");
    out.printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |%n");
    for (Loaded l : loads) {
      out.printf(
          "| %s | %,d | %,d | %,d | %,.0f | %.0f | %.0f |%n",
          l.dataSource(),
          l.rowsIn(),
          l.rows(),
          l.segments(),
          l.bytes() / 1e6,
          l.taskSeconds(),
          l.queryableSeconds());
    }
    out.println();
  }

  void printLatencies(Map<String, Map<String, Latency>> byQuery, List<String> columns) {
    StringBuilder header = new StringBuilder("| query |");
    StringBuilder rule = new StringBuilder("| --- |");
    for (String c : columns) {
      header.append(' ').append(c).append(" |");
      rule.append(" ---: |");
    }
    out.println(header);
    out.println(rule);
    for (Map.Entry<String, Map<String, Latency>> q : byQuery.entrySet()) {
      StringBuilder line = new StringBuilder("| ").append(q.getKey()).append(" |");
      for (String c : columns) {
        Latency l = q.getValue().get(c);
        line.append(
            l == null
                ? " - |"
                : l.error() != null
                    ? " failed |"
                    : String.format(
                        Locale.ROOT, " %.0f / %.0f (%.0f) |", l.p50Ms(), l.p95Ms(), l.firstMs()));
      }
      out.println(line);
    }
    out.println();
  }

  private static String quoted(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }
}
