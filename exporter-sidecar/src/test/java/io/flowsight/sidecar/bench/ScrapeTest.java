package io.flowsight.sidecar.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ScrapeTest {

  private final Scrape scrape =
      new Scrape(
          List.of(
              "# HELP flowsight_sidecar_records_total Flow records emitted by the flow table",
              "# TYPE flowsight_sidecar_records_total counter",
              "flowsight_sidecar_records_total{kind=\"CLOSED\"} 60006.0",
              "flowsight_sidecar_records_total{kind=\"FAILED_CONNECT\"} 37.0",
              "flowsight_sidecar_records_produced_total 59000.0",
              "flowsight_sidecar_kernel_counter_total{counter=\"events\"} 2.1E6",
              "flowsight_sidecar_kernel_counter_total{counter=\"ringbuf_drops\"} 12.0"));

  @Test
  void shouldAddEverySeriesWhoseNameStartsWithThePrefix() {
    assertThat(scrape.sum(RunSummary.RECORDS)).isEqualTo(60043);
    assertThat(scrape.sum(RunSummary.PRODUCED)).isEqualTo(59000);
  }

  @Test
  void shouldReadOneLabelledSeriesAndExponentNotation() {
    assertThat(scrape.sum(RunSummary.EVENTS)).isEqualTo(2_100_000);
    assertThat(scrape.sum(RunSummary.RINGBUF_DROPS)).isEqualTo(12);
  }

  @Test
  void shouldReadASeriesTheScrapeLacksAndAFailedScrapeAsZero() {
    assertThat(scrape.sum(RunSummary.PRODUCER_ERRORS)).isZero();
    assertThat(new Scrape(List.of()).sum(RunSummary.RECORDS)).isZero();
  }
}
