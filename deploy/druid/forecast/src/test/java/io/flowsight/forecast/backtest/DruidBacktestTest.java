package io.flowsight.forecast.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.forecast.job.ForecastJob;
import io.flowsight.forecast.job.Series;
import io.flowsight.forecast.job.SeriesKey;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DruidBacktestTest {

  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final DruidBacktest backtest =
      new DruidBacktest(new PrintStream(printed, true, StandardCharsets.UTF_8));
  private final ForecastJob job = new ForecastJob(Duration.ofMinutes(1), 10, 0.95);

  private static Series series(double[] values) {
    return new Series(SeriesKey.appPair("frontend", "backend"), 0, Duration.ofMinutes(1), values);
  }

  @Test
  void shouldScoreTheTrendModelAgainstTheLastValueOnAShortSeries() {
    // Two hours of a steady climb: the trend model forecasts it, the last value lags behind.
    double[] climb = new double[120];
    for (int t = 0; t < climb.length; t++) {
      climb[t] = 1000 + 10 * t + (t % 2 == 0 ? 3 : -3);
    }
    backtest.horizon = 10;
    backtest.origins = 5;
    DruidBacktest.Scored r = backtest.backtest(series(climb), job, 1440);
    assertThat(r.model()).isEqualTo(job.modelFor(70).name());
    assertThat(r.baselineSeason()).isEqualTo(1);
    assertThat(r.origins()).isEqualTo(5);
    assertThat(r.points()).isEqualTo(120);
    assertThat(r.modelMase()).isLessThan(r.baselineMase());
    assertThat(r.baselineMase()).isGreaterThan(1); // 5.5 steps behind on average, scaled by ~10
  }

  @Test
  void shouldSkipASeriesTooShortForOneOriginAndPrintTheRest() {
    backtest.horizon = 10;
    backtest.origins = 5;
    assertThat(backtest.backtest(series(new double[15]), job, 1440)).isNull();
    backtest.print(
        List.of(
            new DruidBacktest.Scored("app:a->b", 60, "holt-winters", 1, 2, 0.5, 1.0, 0.9, 1.0),
            new DruidBacktest.Scored(
                "app:c->d", 60, "holt-winters", 1, 2, Double.NaN, Double.NaN, 1.0, 1.0)));
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("| app:a->b | 60 | holt-winters | 1 | 2 | 0.500 | 1.000 | 90 % | 100 % |")
        .contains(
            "mean over 1 series with a finite MASE: model 0.500, baseline 1.000; coverage 95 % vs"
                + " 100 % (95 % nominal)");
  }
}
