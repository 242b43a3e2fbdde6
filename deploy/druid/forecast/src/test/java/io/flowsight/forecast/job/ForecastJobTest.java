package io.flowsight.forecast.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.forecast.Forecast;
import io.flowsight.forecast.HoltWinters;
import io.flowsight.forecast.backtest.SyntheticTraffic;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForecastJobTest {

  private static final Duration HOUR = Duration.ofHours(1);
  private static final long START = 1_700_000_000_000L / HOUR.toMillis() * HOUR.toMillis();

  @Test
  void shouldForecastEachLongEnoughSeriesFromItsEndAndSaySkippedOnesWhy() {
    double[] threeWeeks = SyntheticTraffic.series(24, 21, 50, 3);
    Series pair = new Series(SeriesKey.appPair("web", "db"), START, HOUR, threeWeeks);
    Series zones =
        new Series(SeriesKey.zonePort("zone-a", "zone-b", 5432), START, HOUR, threeWeeks);
    Series young = new Series(SeriesKey.appPair("new", "db"), START, HOUR, new double[10]);
    Series fourDays =
        new Series(
            SeriesKey.appPair("recent", "db"), START, HOUR, SyntheticTraffic.series(24, 4, 50, 4));
    Series idle = new Series(SeriesKey.appPair("idle", "db"), START, HOUR, new double[21 * 24]);

    ForecastJob.Result result =
        new ForecastJob(HOUR, 24, 0.9).run(List.of(pair, young, zones, idle, fourDays), 42L);

    assertThat(result.forecastSeries()).isEqualTo(3);
    assertThat(result.points()).hasSize(72);
    assertThat(result.skipped())
        .containsExactly(
            new ForecastJob.Skipped(
                young.key(), "10 steps of history; the shortest model needs 12"),
            new ForecastJob.Skipped(idle.key(), "no traffic in its history"));

    Forecast expected = HoltWinters.dailyAndWeekly(24, 168).fit(threeWeeks).forecast(24, 0.9);
    ForecastPoint first = result.points().get(0);
    assertThat(first)
        .isEqualTo(
            new ForecastPoint(
                START + 21 * 24 * HOUR.toMillis(),
                42L,
                "app_pair",
                "web",
                "db",
                null,
                null,
                null,
                "PT1H",
                "bytes",
                expected.mean()[0],
                expected.lower()[0],
                expected.upper()[0],
                0.9,
                "holt-winters-daily-weekly",
                504));
    ForecastPoint lastOfPair = result.points().get(23);
    assertThat(lastOfPair.time()).isEqualTo(first.time() + 23 * HOUR.toMillis());
    assertThat(lastOfPair.forecast()).isEqualTo(expected.mean()[23]);
    ForecastPoint zone = result.points().get(24);
    assertThat(zone.kind()).isEqualTo("zone_port");
    assertThat(zone.clientZone()).isEqualTo("zone-a");
    assertThat(zone.servicePort()).isEqualTo(5432);
    assertThat(zone.clientApp()).isNull();
    // Four days: the daily season without the weekly one.
    ForecastPoint recent = result.points().get(48);
    assertThat(recent.clientApp()).isEqualTo("recent");
    assertThat(recent.model()).isEqualTo("holt-winters-daily");
    assertThat(recent.historySteps()).isEqualTo(96);
  }
}
