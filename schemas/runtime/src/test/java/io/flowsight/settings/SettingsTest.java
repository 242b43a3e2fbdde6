package io.flowsight.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SettingsTest {

  private final Settings settings = new Settings("FLOWSIGHT_TEST_");

  @Test
  void shouldReadSizesAndDurationsInTheirUsualForms() {
    assertThat(settings.bytes("x", "256KiB")).isEqualTo(262_144);
    assertThat(settings.bytes("x", "4m")).isEqualTo(4_194_304);
    assertThat(settings.bytes("x", "4096")).isEqualTo(4096);
    assertThat(settings.duration("x", "500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(settings.duration("x", "5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(settings.duration("x", "PT2S")).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void shouldNameTheOptionItsVariableItsFileKeyAndTheFix() {
    assertThat(settings.envName("--hold-back")).isEqualTo("FLOWSIGHT_TEST_HOLD_BACK");
    assertThat(settings.envName("--identity.app")).isEqualTo("FLOWSIGHT_TEST_IDENTITY_APP");
    assertThatThrownBy(() -> settings.duration("--grace", "-5s"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "bad setting --grace (env FLOWSIGHT_TEST_GRACE, file key grace): '-5s': a duration"
                + " cannot be negative");
    assertThatThrownBy(() -> settings.integer("--threads", "0", 1, 64))
        .hasMessageEndingWith("'0': use a number from 1 to 64");
    assertThatThrownBy(() -> settings.integer("--threads", "two", 1, 64))
        .hasMessageEndingWith("'two': use a whole number from 1 to 64");
    assertThatThrownBy(() -> settings.bytes("--size", "lots"))
        .hasMessageEndingWith("'lots': use a size such as 4096, 256KiB or 4MiB");
  }
}
