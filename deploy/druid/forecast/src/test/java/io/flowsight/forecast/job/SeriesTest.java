package io.flowsight.forecast.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SeriesTest {

  private static final Duration HOUR = Duration.ofHours(1);
  private static final long H = HOUR.toMillis();

  @Test
  void shouldFillTheStepsWithoutRowsWithZero() {
    SeriesKey ab = SeriesKey.appPair("a", "b");
    SeriesKey cd = SeriesKey.zonePort("z1", "z2", 443);

    List<Series> series =
        Series.assemble(
            List.of(
                new Series.Point(10 * H, ab, 5),
                new Series.Point(13 * H, ab, 7),
                new Series.Point(11 * H, cd, 1),
                new Series.Point(11 * H, cd, 2)),
            10 * H,
            14 * H,
            HOUR);

    assertThat(series).hasSize(2);
    assertThat(series.get(0).key()).isEqualTo(ab);
    assertThat(series.get(0).values()).containsExactly(5, 0, 0, 7);
    assertThat(series.get(0).endMillis()).isEqualTo(14 * H);
    // Two rows of one step (Druid splits a step's rows by other dimensions): summed.
    assertThat(series.get(1).values()).containsExactly(0, 3, 0, 0);
    assertThat(cd.text()).isEqualTo("zone:z1->z2:443");
    assertThat(ab.text()).isEqualTo("app:a->b");
  }

  @Test
  void shouldRefuseARowOffTheSteps() {
    SeriesKey ab = SeriesKey.appPair("a", "b");

    assertThatThrownBy(
            () ->
                Series.assemble(List.of(new Series.Point(10 * H + 1, ab, 5)), 10 * H, 12 * H, HOUR))
        .hasMessageContaining("is not on a step of PT1H");
    assertThatThrownBy(
            () -> Series.assemble(List.of(new Series.Point(12 * H, ab, 5)), 10 * H, 12 * H, HOUR))
        .hasMessageContaining("is not on a step");
  }
}
