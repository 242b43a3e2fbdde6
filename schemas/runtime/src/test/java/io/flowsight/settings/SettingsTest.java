package io.flowsight.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
    assertThat(settings.duration("x", "2d")).isEqualTo(Duration.ofDays(2));
    assertThat(settings.duration("x", "0")).isEqualTo(Duration.ZERO);
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

  @Command(name = "demo")
  static final class DemoOptions {
    @Option(names = "--config")
    String config;

    @Option(names = "--hold-back", defaultValue = "2m")
    String holdBack;

    @Option(names = "--grace", defaultValue = "20s")
    String grace;

    @Option(names = "--window", defaultValue = "1m")
    String window;

    @Option(names = "--cluster")
    String cluster;
  }

  @TempDir Path dir;

  private final List<String> warnings = new ArrayList<>();

  private Settings demo() {
    return new Settings(
        "FLOWSIGHT_DEMO_",
        Set.of("FLOWSIGHT_DEMO_METRICS_PORT"),
        Map.of("FLOWSIGHT_CLUSTER", "--cluster"),
        warnings::add);
  }

  @Test
  void shouldTellEachEffectiveValueAndWhereItCameFrom() throws Exception {
    Path file = dir.resolve("demo.properties");
    Files.writeString(file, "grace=30s\nwindow=5m\n");
    String text =
        demo()
            .describe(
                new DemoOptions(),
                new String[] {"--config", file.toString(), "--window", "10s"},
                Map.of("FLOWSIGHT_DEMO_GRACE", "40s"));

    assertThat(text.lines())
        .containsExactly(
            "--config     " + file + "  (flag)",
            "--hold-back  2m  (default)",
            "--grace      40s  (environment FLOWSIGHT_DEMO_GRACE)",
            "--window     10s  (flag)",
            "--cluster    (none)  (default)");
    assertThat(
            demo()
                .describe(new DemoOptions(), new String[] {"--config", file.toString()}, Map.of()))
        .contains("--grace      30s  (file " + file + ", key grace)");
  }

  @Test
  void shouldRefuseAConfigFileKeyThatIsNoOptionAndNameTheNearestOne() throws Exception {
    Path file = dir.resolve("demo.properties");
    Files.writeString(file, "hold_back=5m\n");

    assertThatThrownBy(
            () ->
                demo()
                    .parse(new DemoOptions(), new String[] {"--config", file.toString()}, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "unknown key 'hold_back' in --config "
                + file
                + ": did you mean 'hold-back'? (keys are the options' names without the dashes;"
                + " see --help)");
  }

  @Test
  void shouldWarnOfAVariableThatIsNoOptionButLetTheScriptsOwnPass() {
    DemoOptions options =
        demo()
            .parse(
                new DemoOptions(),
                new String[0],
                Map.of(
                    "FLOWSIGHT_DEMO_HOLDBACK", "5m",
                    "FLOWSIGHT_DEMO_METRICS_PORT", "9464",
                    "FLOWSIGHT_DEMO_GRACE", "1s",
                    "FLOWSIGHT_OTHER_THING", "x"));

    assertThat(options.holdBack).isEqualTo("2m");
    assertThat(options.grace).isEqualTo("1s");
    assertThat(warnings)
        .containsExactly(
            "FLOWSIGHT_DEMO_HOLDBACK is not a setting of this service and is ignored: did you"
                + " mean FLOWSIGHT_DEMO_HOLD_BACK?");
  }

  @Test
  void shouldReadAnOldVariableNameWithAWarningAndLetTheNewOneWin() {
    DemoOptions old =
        demo().parse(new DemoOptions(), new String[0], Map.of("FLOWSIGHT_CLUSTER", "east"));
    assertThat(old.cluster).isEqualTo("east");
    assertThat(warnings)
        .containsExactly(
            "FLOWSIGHT_CLUSTER is the old name of FLOWSIGHT_DEMO_CLUSTER: rename it, the old name"
                + " will go");

    warnings.clear();
    DemoOptions both =
        demo()
            .parse(
                new DemoOptions(),
                new String[0],
                Map.of("FLOWSIGHT_CLUSTER", "east", "FLOWSIGHT_DEMO_CLUSTER", "west"));
    assertThat(both.cluster).isEqualTo("west");
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0)).contains("(set too, and it wins)");
  }
}
