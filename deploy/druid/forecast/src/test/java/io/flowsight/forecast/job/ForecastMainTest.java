package io.flowsight.forecast.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ForecastMainTest {

  private String err;

  private int run(String... args) {
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    int code =
        ForecastMain.run(
            args,
            Map.of(),
            Clock.systemUTC(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(errors, true, StandardCharsets.UTF_8));
    err = errors.toString(StandardCharsets.UTF_8);
    return code;
  }

  @Test
  void shouldNameTheSettingAndTheFixBeforeAskingDruid() {
    assertThat(run("--step", "7h")).isEqualTo(ForecastMain.EXIT_CONFIG);
    assertThat(err)
        .contains("--step")
        .contains("a day must be a whole number of steps, e.g. 1h, 15m");

    assertThat(run("--coverage", "1.5")).isEqualTo(ForecastMain.EXIT_CONFIG);
    assertThat(err).contains("--coverage").contains("use a share, e.g. 0.95");

    assertThat(run("--horizon", "10m")).isEqualTo(ForecastMain.EXIT_CONFIG);
    assertThat(err).contains("--horizon").contains("forecast at least one step");

    assertThat(run("--history", "90m")).isEqualTo(ForecastMain.EXIT_CONFIG);
    assertThat(err).contains("--history").contains("use a whole number of steps");
  }

  @Test
  void shouldSayWhereDruidWasNotFound() {
    assertThat(run("--druid-url", "http://127.0.0.1:1", "--dry-run")).isEqualTo(1);
    assertThat(err).contains("cannot reach Druid at http://127.0.0.1:1");
  }
}
