package io.flowsight.forecast.job;

import io.flowsight.forecast.Forecast;
import io.flowsight.forecast.HoltWinters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Fits the model to each series and forecasts the steps after its end. A series shorter than the
 * model needs (two weeks) is skipped with the reason, not forecast with a model that cannot see its
 * seasons; a series without any traffic is skipped too (nothing to forecast).
 */
public final class ForecastJob {

  /** What a run made, and what it skipped and why. */
  public record Result(List<ForecastPoint> points, List<Skipped> skipped, int forecastSeries) {}

  /** A series not forecast. */
  public record Skipped(SeriesKey key, String reason) {}

  private final Duration step;
  private final int horizon;
  private final double coverage;
  // Richest first.
  private final List<HoltWinters> models;

  /**
   * @param step the series' step; a day and a week must be whole numbers of it
   * @param horizon how many steps to forecast
   * @param coverage the intervals' nominal coverage
   */
  public ForecastJob(Duration step, int horizon, double coverage) {
    if (step.isZero()
        || step.isNegative()
        || Duration.ofDays(1).toMillis() % step.toMillis() != 0) {
      throw new IllegalArgumentException("a day must be a whole number of steps: step " + step);
    }
    long perDay = Duration.ofDays(1).toMillis() / step.toMillis();
    this.step = step;
    this.horizon = horizon;
    this.coverage = coverage;
    this.models =
        List.of(
            HoltWinters.dailyAndWeekly((int) perDay, (int) (7 * perDay)),
            HoltWinters.daily((int) perDay),
            HoltWinters.trendOnly());
  }

  /**
   * The richest model {@code history} steps can fit: daily and weekly seasons, the daily alone, or
   * the trend alone; null when even that needs more.
   */
  public HoltWinters modelFor(int history) {
    return models.stream().filter(m -> history >= m.minimumHistory()).findFirst().orElse(null);
  }

  public Result run(List<Series> series, long issuedAt) {
    List<ForecastPoint> points = new ArrayList<>();
    List<Skipped> skipped = new ArrayList<>();
    int forecast = 0;
    for (Series s : series) {
      if (!s.step().equals(step)) {
        throw new IllegalArgumentException("series " + s.key().text() + " has step " + s.step());
      }
      HoltWinters model = modelFor(s.values().length);
      if (model == null) {
        skipped.add(
            new Skipped(
                s.key(),
                s.values().length
                    + " steps of history; the shortest model needs "
                    + models.get(models.size() - 1).minimumHistory()));
        continue;
      }
      if (Arrays.stream(s.values()).allMatch(v -> v == 0)) {
        skipped.add(new Skipped(s.key(), "no traffic in its history"));
        continue;
      }
      Forecast f = model.fit(s.values()).forecast(horizon, coverage);
      forecast++;
      long stepMillis = step.toMillis();
      for (int h = 0; h < horizon; h++) {
        SeriesKey k = s.key();
        points.add(
            new ForecastPoint(
                s.endMillis() + h * stepMillis,
                issuedAt,
                k.kind().name().toLowerCase(Locale.ROOT),
                k.clientApp(),
                k.serverApp(),
                k.clientZone(),
                k.serverZone(),
                k.servicePort(),
                step.toString(),
                "bytes",
                f.mean()[h],
                f.lower()[h],
                f.upper()[h],
                coverage,
                model.name(),
                s.values().length));
      }
    }
    return new Result(points, skipped, forecast);
  }
}
