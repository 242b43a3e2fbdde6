package io.flowsight.settings;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where a service's settings come from, and how their values are read, the same way for every
 * Flowsight service: a flag wins over the environment variable ({@code <prefix>} and the option's
 * name in upper case, dashes and dots as underscores: {@code --hold-back} with prefix {@code
 * FLOWSIGHT_COLLECTOR_} is {@code FLOWSIGHT_COLLECTOR_HOLD_BACK}), which wins over the properties
 * file given with {@code --config} (key = the option's name without the dashes), which wins over
 * the option's default. A bad value is a {@link ConfigException} naming the option, its environment
 * variable, its file key, the value and the fix.
 */
public final class Settings {

  private final String envPrefix;

  /**
   * @param envPrefix the service's environment prefix, e.g. {@code FLOWSIGHT_SIDECAR_}
   */
  public Settings(String envPrefix) {
    this.envPrefix = envPrefix;
  }

  /**
   * Parses {@code args} into {@code options} (a picocli-annotated object), with defaults from the
   * environment and the {@code --config} file.
   *
   * @throws CommandLine.ParameterException for an unknown flag or a missing value
   * @throws ConfigException for an unreadable config file
   */
  public <T> T parse(T options, String[] args, Map<String, String> env) {
    CommandLine commandLine = command(options);
    Properties file = readConfigFile(findConfigArg(args));
    commandLine.setDefaultValueProvider(argSpec -> defaultFor(argSpec, env, file));
    commandLine.parseArgs(args);
    return options;
  }

  /** The picocli command model of {@code options}, for parsing and for help. */
  public static CommandLine command(Object options) {
    CommandLine commandLine = new CommandLine(options);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    return commandLine;
  }

  /** The environment variable of an option: {@code --hold-back} -> {@code <prefix>HOLD_BACK}. */
  public String envName(String optionName) {
    return envPrefix + key(optionName).toUpperCase(Locale.ROOT).replace('-', '_').replace('.', '_');
  }

  /** The error for a bad value of {@code option}, with where it can be set and {@code fix}. */
  public ConfigException bad(String option, String value, String fix) {
    return new ConfigException(
        "bad setting "
            + option
            + " (env "
            + envName(option)
            + ", file key "
            + key(option)
            + "): '"
            + value
            + "': "
            + fix);
  }

  /** A duration: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h} or ISO-8601 ({@code PT2S}). */
  public Duration duration(String option, String value) {
    String text = value.trim().toLowerCase(Locale.ROOT);
    Duration d;
    try {
      if (text.startsWith("p")) {
        d = Duration.parse(text.toUpperCase(Locale.ROOT));
      } else if (text.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
      } else if (text.endsWith("s")) {
        d = Duration.ofSeconds(Long.parseLong(text.substring(0, text.length() - 1)));
      } else if (text.endsWith("m")) {
        d = Duration.ofMinutes(Long.parseLong(text.substring(0, text.length() - 1)));
      } else if (text.endsWith("h")) {
        d = Duration.ofHours(Long.parseLong(text.substring(0, text.length() - 1)));
      } else {
        throw new NumberFormatException(text);
      }
    } catch (NumberFormatException | DateTimeParseException e) {
      throw bad(option, value, "use a duration such as 500ms, 30s, 5m or 1h");
    }
    if (d.isNegative()) {
      throw bad(option, value, "a duration cannot be negative");
    }
    return d;
  }

  /**
   * A size in bytes: {@code 4096}, {@code 256KiB} (or {@code 256k}), {@code 4MiB}, {@code 1GiB}.
   */
  public long bytes(String option, String value) {
    String text = value.trim().toLowerCase(Locale.ROOT);
    long unit = 1;
    if (text.endsWith("kib") || text.endsWith("k")) {
      unit = 1L << 10;
    } else if (text.endsWith("mib") || text.endsWith("m")) {
      unit = 1L << 20;
    } else if (text.endsWith("gib") || text.endsWith("g")) {
      unit = 1L << 30;
    }
    String number = text.replaceAll("(kib|mib|gib|k|m|g|b)$", "");
    try {
      return Math.multiplyExact(Long.parseLong(number), unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw bad(option, value, "use a size such as 4096, 256KiB or 4MiB");
    }
  }

  /** A whole number from {@code min} to {@code max}. */
  public int integer(String option, String value, int min, int max) {
    int parsed;
    try {
      parsed = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw bad(option, value, "use a whole number from " + min + " to " + max);
    }
    if (parsed < min || parsed > max) {
      throw bad(option, value, "use a number from " + min + " to " + max);
    }
    return parsed;
  }

  public void requireNonBlank(String option, String value) {
    if (value == null || value.isBlank()) {
      throw bad(option, "", "it must not be empty");
    }
  }

  private static String key(String optionName) {
    return optionName.replaceFirst("^--", "");
  }

  private String defaultFor(ArgSpec argSpec, Map<String, String> env, Properties file) {
    if (!(argSpec instanceof OptionSpec option) || option.longestName().equals("--config")) {
      return argSpec.defaultValue();
    }
    String fromEnv = env.get(envName(option.longestName()));
    if (fromEnv != null) {
      return fromEnv;
    }
    String fromFile = file.getProperty(key(option.longestName()));
    return fromFile != null ? fromFile : argSpec.defaultValue();
  }

  private static Path findConfigArg(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        return Path.of(args[i + 1]);
      }
      if (args[i].startsWith("--config=")) {
        return Path.of(args[i].substring("--config=".length()));
      }
    }
    return null;
  }

  private static Properties readConfigFile(Path path) {
    Properties properties = new Properties();
    if (path == null) {
      return properties;
    }
    try (Reader reader = Files.newBufferedReader(path)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new ConfigException("cannot read --config " + path + ": " + e.getMessage());
    }
    return properties;
  }
}
