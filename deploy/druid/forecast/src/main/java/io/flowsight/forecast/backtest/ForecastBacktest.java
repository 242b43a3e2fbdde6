package io.flowsight.forecast.backtest;

import io.flowsight.forecast.Accuracy;
import io.flowsight.forecast.Forecast;
import io.flowsight.forecast.HoltWinters;
import io.flowsight.forecast.SeasonalNaive;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * Backtests the forecasting model against the seasonal-naive baseline on a series, with rolling
 * origins: fit on everything before the origin, forecast the next {@code horizon} points, score
 * them (MASE, scaled by the weekly seasonal-naive error of the training part; coverage of the 95 %
 * intervals), move the origin by the horizon, repeat. Both are scored on the same points in the
 * same run.
 */
public final class ForecastBacktest {

  /** One origin's scores. */
  public record Origin(
      int origin,
      double modelMase,
      double baselineMase,
      double modelCoverage,
      double baselineCoverage) {}

  /** All origins' scores and their means. */
  public record Result(Origin[] origins) {
    public double modelMase() {
      return Arrays.stream(origins).mapToDouble(Origin::modelMase).average().orElse(Double.NaN);
    }

    public double baselineMase() {
      return Arrays.stream(origins).mapToDouble(Origin::baselineMase).average().orElse(Double.NaN);
    }

    public double modelCoverage() {
      return Arrays.stream(origins).mapToDouble(Origin::modelCoverage).average().orElse(Double.NaN);
    }

    public double baselineCoverage() {
      return Arrays.stream(origins)
          .mapToDouble(Origin::baselineCoverage)
          .average()
          .orElse(Double.NaN);
    }
  }

  private static final double COVERAGE = 0.95;

  private ForecastBacktest() {}

  /**
   * @param series the whole series, oldest first
   * @param pointsPerDay points per day
   * @param firstOrigin the number of points the first fit sees
   * @param horizon points forecast from each origin
   * @param origins how many origins
   */
  public static Result run(
      double[] series, int pointsPerDay, int firstOrigin, int horizon, int origins) {
    int week = 7 * pointsPerDay;
    if (firstOrigin + (long) horizon * origins > series.length) {
      throw new IllegalArgumentException(
          "the series has "
              + series.length
              + " points; the backtest needs "
              + (firstOrigin + (long) horizon * origins));
    }
    HoltWinters model = HoltWinters.dailyAndWeekly(pointsPerDay, week);
    Origin[] scores = new Origin[origins];
    for (int i = 0; i < origins; i++) {
      int origin = firstOrigin + i * horizon;
      double[] train = Arrays.copyOfRange(series, 0, origin);
      double[] actual = Arrays.copyOfRange(series, origin, origin + horizon);
      Forecast forecast = model.fit(train).forecast(horizon, COVERAGE);
      Forecast baseline = SeasonalNaive.forecast(train, week, horizon, COVERAGE);
      scores[i] =
          new Origin(
              origin,
              Accuracy.mase(train, week, actual, forecast.mean()),
              Accuracy.mase(train, week, actual, baseline.mean()),
              Accuracy.coverage(actual, forecast),
              Accuracy.coverage(actual, baseline));
    }
    return new Result(scores);
  }

  /** Prints a result: one line per origin, then the means and the verdict. */
  public static void print(Result result, PrintStream out) {
    out.println("origin  model MASE  seasonal-naive MASE  model 95% coverage  naive 95% coverage");
    for (Origin o : result.origins()) {
      out.println(
          String.format(
              Locale.ROOT,
              "%6d  %10.3f  %19.3f  %17.0f%%  %17.0f%%",
              o.origin(),
              o.modelMase(),
              o.baselineMase(),
              100 * o.modelCoverage(),
              100 * o.baselineCoverage()));
    }
    out.println(
        String.format(
            Locale.ROOT,
            "  mean  %10.3f  %19.3f  %17.0f%%  %17.0f%%",
            result.modelMase(),
            result.baselineMase(),
            100 * result.modelCoverage(),
            100 * result.baselineCoverage()));
    boolean beats = result.modelMase() < result.baselineMase();
    out.println(
        String.format(
            Locale.ROOT,
            "model vs seasonal naive: MASE %.3f vs %.3f (%.0f%% lower): %s",
            result.modelMase(),
            result.baselineMase(),
            100 * (1 - result.modelMase() / result.baselineMase()),
            beats ? "the model beats the baseline" : "THE MODEL DOES NOT BEAT THE BASELINE"));
  }

  /**
   * The synthetic backtest: 8 weeks of hourly points (seed 42, noise 80), the first fit on 6 weeks,
   * then 14 daily origins forecasting a day each. Options: {@code --seed N}, {@code --noise X},
   * {@code --points-per-day N}. Exit code 1 when the model does not beat the baseline.
   */
  public static void main(String[] args) {
    long seed = 42;
    double noise = 80;
    int pointsPerDay = 24;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--noise" -> noise = Double.parseDouble(args[++i]);
        case "--points-per-day" -> pointsPerDay = Integer.parseInt(args[++i]);
        case "-h", "--help" -> {
          System.out.println(
              "Usage: ./flowsight bench forecast [--seed N] [--noise X] [--points-per-day N]");
          return;
        }
        default -> {
          System.err.println("bench forecast: unknown option " + args[i] + " (see --help)");
          System.exit(2);
        }
      }
    }
    double[] series = SyntheticTraffic.series(pointsPerDay, 8 * 7, noise, seed);
    System.out.printf(
        Locale.ROOT,
        "synthetic traffic: 8 weeks, %d points a day, trend, daily and weekly seasons, noise sd %.0f,"
            + " seed %d; fit on 6 weeks, then 14 origins a day apart, a day ahead each%n",
        pointsPerDay,
        noise,
        seed);
    long start = System.nanoTime();
    Result result = run(series, pointsPerDay, 6 * 7 * pointsPerDay, pointsPerDay, 14);
    print(result, System.out);
    System.out.printf(Locale.ROOT, "14 fits in %.1f s%n", (System.nanoTime() - start) / 1e9);
    if (result.modelMase() >= result.baselineMase()) {
      System.exit(1);
    }
  }
}
