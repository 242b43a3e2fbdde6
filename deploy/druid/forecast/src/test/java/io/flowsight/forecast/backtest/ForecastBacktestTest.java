package io.flowsight.forecast.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ForecastBacktestTest {

  @Test
  void shouldBeatTheSeasonalNaiveBaselineOnTheSyntheticSeries() {
    double[] series = SyntheticTraffic.series(24, 8 * 7, 80, 42);

    ForecastBacktest.Result result = ForecastBacktest.run(series, 24, 6 * 7 * 24, 24, 14);
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    ForecastBacktest.print(result, new PrintStream(text, true, StandardCharsets.UTF_8));
    System.out.print(text.toString(StandardCharsets.UTF_8));

    assertThat(result.origins()).hasSize(14);
    // The baseline repeats last week's noise on top of this week's: about sqrt(2) times the
    // noise's error. The model smooths it away: clearly lower, not merely lower.
    assertThat(result.modelMase()).isLessThan(0.85 * result.baselineMase());
    assertThat(result.modelCoverage()).isBetween(0.85, 1.0);
    assertThat(text.toString(StandardCharsets.UTF_8)).contains("the model beats the baseline");
  }
}
