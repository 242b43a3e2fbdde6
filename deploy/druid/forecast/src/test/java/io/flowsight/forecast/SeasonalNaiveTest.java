package io.flowsight.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SeasonalNaiveTest {

  @Test
  void shouldRepeatTheLastSeasonWithIntervalsFromTheSeasonalDifferences() {
    double[] history = {1, 2, 3, 2, 3, 5};

    Forecast f = SeasonalNaive.forecast(history, 3, 4, 0.95);

    // The last season [2, 3, 5], then again from its start.
    assertThat(f.mean()).containsExactly(2, 3, 5, 2);
    // Differences one season apart: 1, 1, 2 -> sigma sqrt(6 / 3); two seasons out: sqrt(2) wider.
    double width = 1.959963984540054 * Math.sqrt(2);
    assertThat(f.upper()[0] - f.mean()[0]).isCloseTo(width, within(1e-9));
    assertThat(f.upper()[3] - f.mean()[3]).isCloseTo(width * Math.sqrt(2), within(1e-9));
  }
}
