package io.flowsight.forecast.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KafkaForecastSinkTest {

  @Test
  void shouldWriteFlatJsonWithoutTheFieldsTheKindDoesNotUse() {
    ForecastPoint point =
        new ForecastPoint(
            3_600_000L,
            1_000L,
            "app_pair",
            "web",
            "db",
            null,
            null,
            null,
            "PT1H",
            "bytes",
            1500.5,
            1200.25,
            1800.75,
            0.95,
            "holt-winters-daily-weekly",
            504);

    assertThat(new String(KafkaForecastSink.json(point), StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"time\":3600000,\"issuedAt\":1000,\"kind\":\"app_pair\",\"clientApp\":\"web\","
                + "\"serverApp\":\"db\",\"step\":\"PT1H\",\"metric\":\"bytes\",\"forecast\":1500.5,"
                + "\"lower\":1200.25,\"upper\":1800.75,\"coverage\":0.95,"
                + "\"model\":\"holt-winters-daily-weekly\",\"historySteps\":504}");
  }
}
