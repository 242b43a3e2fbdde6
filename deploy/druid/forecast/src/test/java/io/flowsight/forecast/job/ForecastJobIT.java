package io.flowsight.forecast.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.druid.DruidClient;
import io.flowsight.druid.DruidException;
import io.flowsight.druid.SqlResult;
import io.flowsight.druid.Supervisors;
import io.flowsight.druid.testing.InlineDatasource;
import io.flowsight.forecast.Forecast;
import io.flowsight.forecast.HoltWinters;
import io.flowsight.forecast.backtest.SyntheticTraffic;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.Requirements;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The forecasting job on the real stack: three weeks of hourly traffic of one application pair,
 * loaded into a Druid datasource of the test's own with the flows datasource's schema. The job runs
 * "at the end of the 20th day": it reads those 20 days, forecasts the 21st, writes the forecasts to
 * a Kafka topic and submits the forecast supervisor, which ingests them into a second datasource.
 * The forecasts are exactly what the model gives on the same 20 days, and the SQL of
 * docs/analysts.md puts each beside the 21st day's actual traffic.
 */
@ExtendWith(LocalStackExtension.class)
class ForecastJobIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration HOUR = Duration.ofHours(1);
  // A Monday, 00:00 UTC: the synthetic series starts on a Monday.
  private static final Instant START = Instant.parse("2026-01-05T00:00:00Z");
  private static final int DAYS = 21;

  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private final String flows = "flows_forecast_it_" + run;
  private final String forecasts = "forecasts_it_" + run;
  private DruidClient druid;

  @AfterEach
  void dropTheDatasources() {
    if (druid != null) {
      Supervisors quiet =
          new Supervisors(
              druid, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      quiet.remove(forecasts, true, 120);
      quiet.remove(flows, true, 120);
    }
  }

  @Test
  void shouldForecastThePairsSeriesAndHaveDruidServeTheForecasts(LocalStack stack)
      throws Exception {
    String url = System.getenv("FLOWSIGHT_TEST_DRUID_URL");
    druid = url == null ? null : new DruidClient(url);
    Requirements.require(
        druid != null && druid.ready(),
        "a Druid cluster (./flowsight test starts one and sets FLOWSIGHT_TEST_DRUID_URL)");
    double[] series = SyntheticTraffic.series(24, DAYS, 50, 11);
    load(series);
    String topic = stack.uniqueTopic("flows-forecast-v1");

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int seen = (DAYS - 1) * 24;
    Instant now = START.plus(HOUR.multipliedBy(seen)).plusSeconds(1800);
    int code =
        ForecastMain.run(
            new String[] {
              "--druid-url", url,
              "--datasource", flows,
              "--history", "28d",
              "--bootstrap-servers", stack.bootstrapServers(),
              "--topic", topic,
              "--forecast-datasource", forecasts
            },
            Map.of(),
            Clock.fixed(now, ZoneOffset.UTC),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8);
    System.out.print(printed);

    assertThat(code).as(printed + err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(printed)
        .contains("1 application pairs, 1 zone pairs and ports")
        .contains("forecast 2 series 24 steps ahead (holt-winters-daily-weekly 2); skipped 0")
        .contains("wrote 48 points to " + topic);

    // The job saw exactly the first 20 days (28 days read, the first 8 empty: trimmed).
    double[] history = java.util.Arrays.copyOf(series, seen);
    Forecast expected = HoltWinters.dailyAndWeekly(24, 168).fit(history).forecast(24, 0.95);
    List<JsonNode> written = read(stack.bootstrapServers(), topic, 48);
    List<JsonNode> pair =
        written.stream().filter(p -> p.path("kind").asText().equals("app_pair")).toList();
    assertThat(pair).hasSize(24);
    long first = START.plus(HOUR.multipliedBy(seen)).toEpochMilli();
    for (int h = 0; h < 24; h++) {
      JsonNode p = pair.get(h);
      assertThat(p.path("time").asLong()).isEqualTo(first + h * HOUR.toMillis());
      assertThat(p.path("clientApp").asText()).isEqualTo("checkout");
      assertThat(p.path("serverApp").asText()).isEqualTo("payments");
      assertThat(p.path("historySteps").asInt()).isEqualTo(seen);
      assertThat(p.path("forecast").asDouble()).isEqualTo(expected.mean()[h]);
      assertThat(p.path("upper").asDouble()).isEqualTo(expected.upper()[h]);
    }
    JsonNode zone =
        written.stream().filter(p -> p.path("kind").asText().equals("zone_port")).findFirst().get();
    assertThat(zone.path("clientZone").asText()).isEqualTo("zone-a");
    assertThat(zone.path("serverZone").asText()).isEqualTo("zone-b");
    assertThat(zone.path("servicePort").asInt()).isEqualTo(8443);

    // The job submitted the forecast supervisor (deploy/druid/forecast-supervisor.json): Druid
    // ingests the topic.
    assertThat(printed).contains("supervisor " + forecasts + ": created (topic " + topic);
    String sql =
        "SELECT COUNT(*) AS \"n\", SUM(\"forecast\") AS \"total\" FROM \""
            + forecasts
            + "\" WHERE \"kind\" = 'app_pair' AND \"clientApp\" = 'checkout'";
    Supervisors.waitFor(
        "the forecasts in " + forecasts,
        () -> {
          try {
            return druid.sql(sql).value(0, "n").asLong() == 24;
          } catch (DruidException notYet) {
            return false;
          }
        },
        240);
    double total = 0;
    for (double v : expected.mean()) {
      total += v;
    }
    assertThat(druid.sql(sql).value(0, "total").asDouble())
        .isCloseTo(total, org.assertj.core.api.Assertions.within(1e-6 * total));

    // docs/analysts.md's SQL: the latest forecast of a pair beside its actual traffic.
    SqlResult beside =
        druid.sql(
            FORECAST_BESIDE_ACTUALS
                .replace("\"flows_forecast\"", "\"" + forecasts + "\"")
                .replace("\"flows\"", "\"" + flows + "\""));
    assertThat(beside.rows()).hasSize(24);
    for (int h = 0; h < 24; h++) {
      assertThat(beside.value(h, "forecast").asDouble()).isEqualTo(expected.mean()[h]);
      assertThat(beside.value(h, "lower").asDouble()).isEqualTo(expected.lower()[h]);
      assertThat(beside.value(h, "bytes").asDouble()).isEqualTo(series[seen + h]);
    }
  }

  /** As in docs/analysts.md, "Forecasts". */
  private static final String FORECAST_BESIDE_ACTUALS =
      """
      SELECT f."__time",
             LATEST_BY(f."forecast", MILLIS_TO_TIMESTAMP(f."issuedAt")) AS "forecast",
             LATEST_BY(f."lower", MILLIS_TO_TIMESTAMP(f."issuedAt")) AS "lower",
             LATEST_BY(f."upper", MILLIS_TO_TIMESTAMP(f."issuedAt")) AS "upper",
             MAX(a."bytes") AS "bytes"
      FROM "flows_forecast" f
      LEFT JOIN (
        SELECT TIME_FLOOR("__time", 'PT1H') AS "__time",
               SUM("bytesClientToServer") + SUM("bytesServerToClient") AS "bytes"
        FROM "flows"
        WHERE "clientApp" = 'checkout' AND "serverApp" = 'payments'
        GROUP BY 1) a ON f."__time" = a."__time"
      WHERE f."kind" = 'app_pair' AND f."clientApp" = 'checkout' AND f."serverApp" = 'payments'
      GROUP BY 1
      ORDER BY 1
      """;

  /** The series as the collector's rows, one per hour, by native batch ingestion. */
  private void load(double[] series) throws Exception {
    StringBuilder rows = new StringBuilder();
    for (int t = 0; t < series.length; t++) {
      // Bytes are whole in the flows datasource: the series is rounded, and the test compares
      // with the model on the rounded values.
      long bytes = Math.round(series[t]);
      series[t] = bytes;
      ObjectNode row = JSON.createObjectNode();
      row.put("windowStart", START.plus(HOUR.multipliedBy(t)).toEpochMilli())
          .put("protocol", "TCP")
          .put("addressFamily", "IPV4")
          .put("observedBy", "BOTH")
          .put("clientIp", "10.0.0.1")
          .put("clientApp", "checkout")
          .put("clientZone", "zone-a")
          .put("clientAttribution", "OWNER")
          .put("serverIp", "10.0.0.2")
          .put("serverApp", "payments")
          .put("serverZone", "zone-b")
          .put("serverAttribution", "OWNER")
          .put("servicePort", 8443)
          .put("flowRecords", 2)
          .put("connections", 1)
          .put("failedConnections", 0)
          .put("bytesClientToServer", bytes / 3)
          .put("bytesServerToClient", bytes - bytes / 3);
      rows.append(JSON.writeValueAsString(row)).append('\n');
    }
    InlineDatasource.load(druid, flows, rows.toString(), series.length);
  }

  /** The topic's first {@code expected} records' values, in offset order (one partition). */
  private static List<JsonNode> read(String bootstrap, String topic, int expected)
      throws Exception {
    List<JsonNode> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(
            Map.of("bootstrap.servers", bootstrap),
            new StringDeserializer(),
            new StringDeserializer())) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          out.add(JSON.readTree(r.value()));
        }
      }
      assertThat(consumer.endOffsets(List.of(partition)).get(partition)).isEqualTo(expected);
    }
    assertThat(out).hasSize(expected);
    return out;
  }
}
