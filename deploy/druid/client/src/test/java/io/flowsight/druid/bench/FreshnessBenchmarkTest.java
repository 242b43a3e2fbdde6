package io.flowsight.druid.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class FreshnessBenchmarkTest {

  @Test
  void shouldTakeTheNearestRankPercentile() {
    List<Double> values = List.of(5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 9.0, 8.0, 7.0, 6.0);
    assertThat(FreshnessBenchmark.percentile(values, 50)).isEqualTo(5.0);
    assertThat(FreshnessBenchmark.percentile(values, 90)).isEqualTo(9.0);
    assertThat(FreshnessBenchmark.percentile(values, 95)).isEqualTo(10.0);
    assertThat(FreshnessBenchmark.percentile(List.of(3.0), 1)).isEqualTo(3.0);
  }

  @Test
  void shouldReadTheCollectorsPrintConfig() {
    String printed =
        "--window        1m  (default)\n"
            + "--settle        10s  (environment FLOWSIGHT_COLLECTOR_SETTLE)\n"
            + "--hold-back     5s  (default)\n"
            + "--grace         2s  (flag)\n";
    var settings = FreshnessBenchmark.parseSettings(printed);
    assertThat(settings)
        .containsEntry("--window", "1m")
        .containsEntry("--settle", "10s")
        .containsEntry("--hold-back", "5s")
        .containsEntry("--grace", "2s");
    assertThat(FreshnessBenchmark.durationSeconds(settings.get("--window"))).isEqualTo(60.0);
    assertThat(FreshnessBenchmark.durationSeconds("500ms")).isEqualTo(0.5);
    assertThatThrownBy(() -> FreshnessBenchmark.durationSeconds("PT1M"))
        .hasMessage("bench freshness: cannot read the duration 'PT1M' (use e.g. 500ms, 30s, 1m)");
  }

  @Test
  void shouldWriteFiguresAsTheReportAlwaysHas() {
    assertThat(FreshnessBenchmark.g(60.0)).isEqualTo("60");
    assertThat(FreshnessBenchmark.g(7.0)).isEqualTo("7");
    assertThat(FreshnessBenchmark.g(0.5)).isEqualTo("0.5");
    assertThat(FreshnessBenchmark.tuple(1L, 100L, 1000L, "frontend", null, "BOTH"))
        .isEqualTo("(1, 100, 1000, 'frontend', None, 'BOTH')");
  }
}
