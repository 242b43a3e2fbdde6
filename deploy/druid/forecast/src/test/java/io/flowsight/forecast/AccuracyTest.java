package io.flowsight.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class AccuracyTest {

  @Test
  void shouldScaleTheErrorByTheInSampleSeasonalNaiveError() {
    // In sample, one season (2) apart: |3-1| + |4-2| + |7-3| = 8 over 3 -> scale 8/3.
    double[] history = {1, 2, 3, 4, 7};
    double[] actual = {10, 20};
    double[] forecast = {12, 19};

    // Mean absolute error 1.5, scaled: 1.5 / (8/3) = 0.5625.
    assertThat(Accuracy.mase(history, 2, actual, forecast)).isCloseTo(0.5625, within(1e-12));
  }

  @Test
  void shouldCountThePointsInsideTheIntervals() {
    Forecast f =
        new Forecast(new double[] {5, 5, 5}, new double[] {4, 4, 4}, new double[] {6, 6, 6}, 0.95);

    assertThat(Accuracy.coverage(new double[] {4, 6.5, 5.5}, f)).isCloseTo(2 / 3.0, within(1e-12));
  }

  @Test
  void shouldRefuseAConstantHistory() {
    assertThatThrownBy(
            () -> Accuracy.mase(new double[] {3, 3, 3}, 1, new double[] {1}, new double[] {1}))
        .hasMessage("MASE needs more than a season of history that is not constant");
  }
}
