package io.flowsight.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.flowsight.forecast.HoltWinters.Fit;
import io.flowsight.forecast.HoltWinters.Parameters;
import io.flowsight.forecast.backtest.SyntheticTraffic;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HoltWintersTest {

  @Test
  void shouldFilterAndForecastAsComputedByHand() {
    // Days of 2 points, weeks of 2 days. Both weeks' means are 2.5: no trend, level 2.5. The
    // first week less 2.5 is [-1.5, 0.5, -0.5, 1.5]: daily season [-1, 1] (each day's deviations
    // from its mean), weekly season [-0.5, -0.5, 0.5, 0.5] (the rest); they fit the first week
    // exactly (errors 0). Second week, alpha 0.5, no trend, seasons fixed: errors 1, 0.5, -1.75,
    // -0.875, each moving the level by half of it: 3.0, 3.25, 2.375, 1.9375.
    double[] y = {1, 3, 2, 4, 2, 4, 1, 3};
    HoltWinters model = HoltWinters.dailyAndWeekly(2, 4);

    Fit fit = model.fit(y, new Parameters(0.5, 0, 0.9, new double[] {0, 0}));

    assertThat(fit.level()).isEqualTo(1.9375);
    assertThat(fit.trend()).isZero();
    assertThat(fit.seasons()[0]).containsExactly(-1, 1);
    assertThat(fit.seasons()[1]).containsExactly(-0.5, -0.5, 0.5, 0.5);
    double sigma = Math.sqrt((1 + 0.25 + 3.0625 + 0.765625) / 4);
    assertThat(fit.sigma()).isCloseTo(sigma, within(1e-12));

    Forecast f = fit.forecast(2, 0.95);

    // Point 8: level + daily[0] + weekly[0]; point 9: level + daily[1] + weekly[1].
    assertThat(f.mean()).containsExactly(0.4375, 2.4375);
    double z = 1.959963984540054;
    // Step 1: sigma; step 2: sigma * sqrt(1 + alpha^2) (no trend, no season boundary at 1).
    assertThat(f.upper()[0] - f.mean()[0]).isCloseTo(z * sigma, within(1e-9));
    assertThat(f.upper()[1] - f.mean()[1]).isCloseTo(z * sigma * Math.sqrt(1.25), within(1e-9));
    // 0.4375 - 2.21 and 2.4375 - 2.47 are below 0: traffic is never negative, the bounds stop at 0.
    assertThat(f.lower()).containsExactly(0, 0);
  }

  @Test
  void shouldForecastANoiselessSeriesAlmostExactly() {
    double[] series = SyntheticTraffic.series(24, 5 * 7, 0, 1);
    double[] train = Arrays.copyOfRange(series, 0, 4 * 7 * 24);
    double[] actual = Arrays.copyOfRange(series, 4 * 7 * 24, 4 * 7 * 24 + 24);

    Forecast f = HoltWinters.dailyAndWeekly(24, 168).fit(train).forecast(24, 0.95);

    // The weekday peak is 1600: an error of a few units is well under 1 %.
    assertThat(Accuracy.meanAbsoluteError(actual, f.mean())).isLessThan(5);
  }

  @Test
  void shouldCoverAbout95PercentOfPureNoiseWithIts95PercentIntervals() {
    Random random = new Random(7);
    double[] series = new double[6 * 168];
    for (int t = 0; t < series.length; t++) {
      series[t] = 500 + 20 * random.nextGaussian();
    }
    HoltWinters model = HoltWinters.dailyAndWeekly(24, 168);
    int inside = 0;
    int total = 0;
    for (int origin = 4 * 168; origin + 24 <= series.length; origin += 24) {
      Forecast f = model.fit(Arrays.copyOfRange(series, 0, origin)).forecast(24, 0.95);
      for (int h = 0; h < 24; h++) {
        double actual = series[origin + h];
        inside += actual >= f.lower()[h] && actual <= f.upper()[h] ? 1 : 0;
        total++;
      }
    }

    assertThat((double) inside / total).isBetween(0.90, 0.995);
  }

  @Test
  void shouldNeverForecastNegativeTraffic() {
    double[] series = new double[3 * 168];
    for (int t = 0; t < series.length; t++) {
      series[t] = (t % 24) < 2 ? 100 : 0; // mostly idle
    }

    Forecast f = HoltWinters.dailyAndWeekly(24, 168).fit(series).forecast(48, 0.95);

    assertThat(Arrays.stream(f.mean()).min().orElseThrow()).isGreaterThanOrEqualTo(0);
    assertThat(Arrays.stream(f.lower()).min().orElseThrow()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void shouldSayHowMuchHistoryItNeeds() {
    HoltWinters model = HoltWinters.dailyAndWeekly(24, 168);

    assertThat(model.minimumHistory()).isEqualTo(336);
    assertThatThrownBy(() -> model.fit(new double[335]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "holt-winters-daily-weekly needs 336 points of history (two cycles of its longest"
                + " season), got 335");
    assertThatThrownBy(() -> HoltWinters.dailyAndWeekly(24, 100))
        .hasMessage("a week must be a whole number (at least 2) of days: day 24, week 100");
  }

  @Test
  void shouldFitTheDailySeasonAloneAsComputedByHand() {
    // Days of 2 points. Both days' means are 2: no trend; the first day less 2 is [-1, 1], the
    // daily season. Second day, alpha 0.5, season fixed: errors 2 (3 against 2 - 1) and -3 (1
    // against 3 + 1), level 3 then 1.5.
    double[] y = {1, 3, 3, 1};
    HoltWinters model = HoltWinters.daily(2);

    Fit fit = model.fit(y, new Parameters(0.5, 0, 0.9, new double[] {0}));

    assertThat(model.minimumHistory()).isEqualTo(4);
    assertThat(model.name()).isEqualTo("holt-winters-daily");
    assertThat(fit.seasons()[0]).containsExactly(-1, 1);
    assertThat(fit.level()).isEqualTo(1.5);
    assertThat(fit.forecast(2, 0.95).mean()).containsExactly(0.5, 2.5);
  }

  @Test
  void shouldFollowALineWithTheTrendOnlyModel() {
    double[] line = new double[20];
    for (int t = 0; t < line.length; t++) {
      line[t] = 100 + 5 * t;
    }
    HoltWinters model = HoltWinters.trendOnly();

    Forecast f = model.fit(line).forecast(3, 0.95);

    assertThat(model.name()).isEqualTo("damped-holt");
    assertThat(model.minimumHistory()).isEqualTo(12);
    // Damped: a little under the line's 200, 205, 210, and not far.
    assertThat(f.mean()[0]).isBetween(199.0, 200.0 + 1e-9);
    assertThat(f.mean()[2]).isBetween(205.0, 210.0 + 1e-9);
  }
}
