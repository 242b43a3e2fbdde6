package io.flowsight.forecast.backtest;

import io.flowsight.druid.DruidClient;
import io.flowsight.druid.DruidFiles;
import io.flowsight.druid.NamedQueries;
import io.flowsight.druid.Times;
import io.flowsight.forecast.Accuracy;
import io.flowsight.forecast.Forecast;
import io.flowsight.forecast.HoltWinters;
import io.flowsight.forecast.SeasonalNaive;
import io.flowsight.forecast.job.DruidSeries;
import io.flowsight.forecast.job.ForecastJob;
import io.flowsight.forecast.job.Series;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./flowsight bench forecast --druid}: the backtest on the traffic Druid holds (the local
 * pipeline's own, or any datasource), no target: the series the forecasting job reads (every
 * application pair's and zone pair and port's, bytes both ways), the busiest {@code --series}
 * first; for each, the model the job would pick for its history against the seasonal-naive baseline
 * (a week's season when the history holds two, else a day's when it holds two, else the last
 * value), on the same rolling origins: up to {@code --origins} of {@code --horizon} steps at the
 * end of the series.
 */
@Command(
    name = "./flowsight bench forecast --druid",
    mixinStandardHelpOptions = true,
    description = "Backtest the forecasting model on the series in Druid (no target).")
public final class DruidBacktest implements Callable<Integer> {

  private static final double COVERAGE = 0.95;

  @Option(names = "--druid", description = "read the series from Druid (this mode)")
  boolean druid;

  @Option(
      names = "--druid-url",
      description = "Druid's router (FLOWSIGHT_DRUID_URL, else the local stack's)")
  String druidUrl;

  @Option(names = "--datasource", defaultValue = "flows", description = "datasource (flows)")
  String dataSource;

  @Option(
      names = "--since",
      defaultValue = "6h",
      description = "start: a duration before --until, or an ISO 8601 time (6h)")
  String since;

  @Option(names = "--until", description = "end, exclusive (now)")
  String until;

  @Option(names = "--step", defaultValue = "PT1M", description = "the series' step (PT1M)")
  Duration step;

  @Option(names = "--horizon", defaultValue = "10", description = "steps ahead per origin (10)")
  int horizon;

  @Option(names = "--origins", defaultValue = "5", description = "origins per series at most (5)")
  int origins;

  @Option(names = "--series", defaultValue = "20", description = "busiest series to test (20)")
  int maxSeries;

  private final PrintStream out;

  DruidBacktest(PrintStream out) {
    this.out = out;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new DruidBacktest(System.out)).execute(args));
  }

  /** One series' scores, averaged over its origins. */
  record Scored(
      String series,
      int points,
      String model,
      int baselineSeason,
      int origins,
      double modelMase,
      double baselineMase,
      double modelCoverage,
      double baselineCoverage) {}

  @Override
  public Integer call() {
    DruidClient client =
        new DruidClient(druidUrl != null ? druidUrl : DruidClient.defaultUrl(System.getenv()));
    long now = System.currentTimeMillis();
    long untilMs = until == null ? now : Times.parseTime(until, now);
    untilMs -= Math.floorMod(untilMs, step.toMillis()); // whole steps only
    long sinceMs = Times.parseTime(since, untilMs);
    sinceMs -= Math.floorMod(sinceMs, step.toMillis());
    List<Series> all =
        new DruidSeries(client, new NamedQueries(DruidFiles.queries()), dataSource)
            .read(Instant.ofEpochMilli(sinceMs), Instant.ofEpochMilli(untilMs), step);
    all.sort(Comparator.comparingDouble((Series s) -> -Arrays.stream(s.values()).sum()));
    out.printf(
        "%s, %s .. %s, step %s: %d series; the %d busiest, up to %d origins of %d steps each%n",
        dataSource,
        Times.iso(sinceMs),
        Times.iso(untilMs),
        step,
        all.size(),
        Math.min(maxSeries, all.size()),
        origins,
        horizon);
    ForecastJob job = new ForecastJob(step, horizon, COVERAGE);
    int perDay = (int) (Duration.ofDays(1).toMillis() / step.toMillis());
    List<Scored> scored = new ArrayList<>();
    for (Series s : all.subList(0, Math.min(maxSeries, all.size()))) {
      Scored r = backtest(s, job, perDay);
      if (r == null) {
        out.printf(
            "  %s: %d points, too short for %d steps ahead after the shortest model's history%n",
            s.key().text(), s.values().length, horizon);
      } else {
        scored.add(r);
      }
    }
    print(scored);
    return 0;
  }

  Scored backtest(Series s, ForecastJob job, int perDay) {
    double[] v = s.values();
    HoltWinters shortest = HoltWinters.trendOnly();
    int n = Math.min(origins, (v.length - shortest.minimumHistory()) / horizon);
    if (n < 1) {
      return null;
    }
    int first = v.length - n * horizon;
    int season = first >= 14 * perDay ? 7 * perDay : first >= 2 * perDay ? perDay : 1;
    double[] mase = new double[2];
    double[] coverage = new double[2];
    String model = null;
    for (int i = 0; i < n; i++) {
      int origin = first + i * horizon;
      double[] train = Arrays.copyOfRange(v, 0, origin);
      double[] actual = Arrays.copyOfRange(v, origin, origin + horizon);
      HoltWinters m = job.modelFor(origin);
      model = m.name();
      Forecast f = m.fit(train).forecast(horizon, COVERAGE);
      Forecast b = SeasonalNaive.forecast(train, season, horizon, COVERAGE);
      mase[0] += mase(train, season, actual, f.mean()) / n;
      mase[1] += mase(train, season, actual, b.mean()) / n;
      coverage[0] += Accuracy.coverage(actual, f) / n;
      coverage[1] += Accuracy.coverage(actual, b) / n;
    }
    return new Scored(
        s.key().text(), v.length, model, season, n, mase[0], mase[1], coverage[0], coverage[1]);
  }

  /** MASE, or NaN when the history has no seasonal-naive error to scale by (constant). */
  private static double mase(double[] train, int season, double[] actual, double[] forecast) {
    try {
      return Accuracy.mase(train, season, actual, forecast);
    } catch (IllegalArgumentException constant) {
      return Double.NaN;
    }
  }

  void print(List<Scored> scored) {
    out.println(
        "| series | points | model | baseline season | origins | model MASE | baseline MASE"
            + " | model coverage | baseline coverage |");
    out.println("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Scored r : scored) {
      out.println(
          String.format(
              Locale.ROOT,
              "| %s | %d | %s | %d | %d | %.3f | %.3f | %.0f %% | %.0f %% |",
              r.series(),
              r.points(),
              r.model(),
              r.baselineSeason(),
              r.origins(),
              r.modelMase(),
              r.baselineMase(),
              100 * r.modelCoverage(),
              100 * r.baselineCoverage()));
    }
    // Series whose in-sample baseline error is zero (a constant history) have no finite MASE.
    double[] model =
        scored.stream().mapToDouble(Scored::modelMase).filter(Double::isFinite).toArray();
    double[] baseline =
        scored.stream().mapToDouble(Scored::baselineMase).filter(Double::isFinite).toArray();
    out.println(
        String.format(
            Locale.ROOT,
            "mean over %d series with a finite MASE: model %.3f, baseline %.3f; coverage %.0f %% vs"
                + " %.0f %% (95 %% nominal)",
            model.length,
            Arrays.stream(model).average().orElse(Double.NaN),
            Arrays.stream(baseline).average().orElse(Double.NaN),
            100 * scored.stream().mapToDouble(Scored::modelCoverage).average().orElse(Double.NaN),
            100
                * scored.stream()
                    .mapToDouble(Scored::baselineCoverage)
                    .average()
                    .orElse(Double.NaN)));
  }
}
