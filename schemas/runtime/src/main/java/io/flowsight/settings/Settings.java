package io.flowsight.settings;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Where a service's settings come from, and how their values are read, the same way for every
 * Flowsight service: a flag wins over the environment variable ({@code <prefix>} and the option's
 * name in upper case, dashes and dots as underscores: {@code --hold-back} with prefix {@code
 * FLOWSIGHT_COLLECTOR_} is {@code FLOWSIGHT_COLLECTOR_HOLD_BACK}), which wins over the properties
 * file given with {@code --config} (key = the option's name without the dashes), which wins over
 * the option's default. A bad value is a {@link ConfigException} naming the option, its environment
 * variable, its file key, the value and the fix.
 *
 * <p>Mistakes are caught: a key of the {@code --config} file that is no option is an error naming
 * the nearest option; a variable with the service's prefix that is no option is a warning naming
 * the nearest one (the variables the service's scripts use for themselves, such as {@code
 * FLOWSIGHT_SIDECAR_METRICS_PORT}, are declared and pass); a variable under an old name still
 * works, with a warning naming the new one. {@link #describe} tells each effective value and where
 * it came from ({@code --print-config}).
 */
public final class Settings {

  /** The flag every service takes to print its effective settings and exit. */
  public static final String PRINT_CONFIG = "--print-config";

  /** Where an option's value came from: {@code where} names the variable or the file. */
  public record Origin(Source source, String where) {}

  public enum Source {
    FLAG,
    ENVIRONMENT,
    FILE,
    DEFAULT
  }

  private final String envPrefix;
  private final Set<String> notOptions;
  private final Map<String, String> oldNames;
  private final Consumer<String> warnings;

  /**
   * @param envPrefix the service's environment prefix, e.g. {@code FLOWSIGHT_SIDECAR_}
   */
  public Settings(String envPrefix) {
    this(envPrefix, Set.of(), Map.of(), m -> System.err.println("warning: " + m));
  }

  /**
   * @param envPrefix the service's environment prefix, e.g. {@code FLOWSIGHT_SIDECAR_}
   * @param notOptions variables with the prefix that the service's scripts use for themselves
   * @param oldNames old variable names still read, each to the option it sets (e.g. {@code
   *     FLOWSIGHT_CLUSTER} to {@code --cluster})
   * @param warnings where warnings go (a service's standard error)
   */
  public Settings(
      String envPrefix,
      Set<String> notOptions,
      Map<String, String> oldNames,
      Consumer<String> warnings) {
    this.envPrefix = envPrefix;
    this.notOptions = Set.copyOf(notOptions);
    this.oldNames = Map.copyOf(oldNames);
    this.warnings = warnings;
  }

  /**
   * Parses {@code args} into {@code options} (a picocli-annotated object), with defaults from the
   * environment and the {@code --config} file.
   *
   * @throws CommandLine.ParameterException for an unknown flag or a missing value
   * @throws ConfigException for an unreadable config file or a key in it that is no option
   */
  public <T> T parse(T options, String[] args, Map<String, String> env) {
    read(command(options), args, env, true);
    return options;
  }

  /**
   * Parses as {@link #parse} does and tells, one line per option (of the command and of the
   * subcommand given), its effective value and where it came from: for {@code --print-config}.
   */
  public String describe(Object options, String[] args, Map<String, String> env) {
    return describe(command(options), args, env);
  }

  /** {@link #describe(Object, String[], Map)} for a command line built by the service. */
  public String describe(CommandLine commandLine, String[] args, Map<String, String> env) {
    Map<OptionSpec, Origin> origins = read(commandLine, args, env, false);
    int width = origins.keySet().stream().mapToInt(o -> o.longestName().length()).max().orElse(0);
    StringBuilder out = new StringBuilder();
    origins.forEach(
        (option, origin) -> {
          Object value = option.getValue();
          String text =
              value == null
                  ? "(none)"
                  : value instanceof Object[] a ? String.join(",", toStrings(a)) : value.toString();
          out.append(
              String.format(
                  "%-" + width + "s  %s  (%s)%n", option.longestName(), text, describe(origin)));
        });
    return out.toString();
  }

  /**
   * Gives {@code commandLine} (and its subcommands) its defaults from the environment and the
   * {@code --config} file, as {@link #parse} does, for a command line the service executes itself.
   *
   * @throws ConfigException for an unreadable config file or a key in it that is no option
   */
  public void provideDefaults(CommandLine commandLine, String[] args, Map<String, String> env) {
    prepare(commandLine, args, env, true, new LinkedHashMap<>());
  }

  /** Whether {@code args} ask for {@link #PRINT_CONFIG}. */
  public static boolean printConfigRequested(String[] args) {
    return Arrays.asList(args).contains(PRINT_CONFIG);
  }

  /** {@code args} without {@link #PRINT_CONFIG}. */
  public static String[] withoutPrintConfig(String[] args) {
    return Arrays.stream(args).filter(a -> !a.equals(PRINT_CONFIG)).toArray(String[]::new);
  }

  private Map<OptionSpec, Origin> read(
      CommandLine commandLine, String[] args, Map<String, String> env, boolean warn) {
    Map<OptionSpec, Origin> origins = new LinkedHashMap<>();
    prepare(commandLine, args, env, warn, origins);
    ParseResult result = commandLine.parseArgs(args);
    for (ParseResult r = result; r != null; r = r.subcommand()) {
      for (OptionSpec matched : r.matchedOptions()) {
        origins.put(matched, new Origin(Source.FLAG, matched.longestName()));
      }
    }
    // Only the options of the command and the subcommand given, in declaration order.
    Map<OptionSpec, Origin> ordered = new LinkedHashMap<>();
    for (ParseResult r = result; r != null; r = r.subcommand()) {
      for (OptionSpec option : r.commandSpec().options()) {
        if (!option.usageHelp() && !option.versionHelp() && origins.containsKey(option)) {
          ordered.put(option, origins.get(option));
        }
      }
    }
    return ordered;
  }

  private void prepare(
      CommandLine commandLine,
      String[] args,
      Map<String, String> env,
      boolean warn,
      Map<OptionSpec, Origin> origins) {
    Path configFile = findConfigArg(args);
    Properties file = readConfigFile(configFile);
    Map<String, OptionSpec> known = new TreeMap<>();
    collectOptions(commandLine, known);
    checkFileKeys(file, configFile, known);
    Map<String, String> effectiveEnv = withOldNames(env, known, warn);
    if (warn) {
      warnUnknownVariables(env, known);
    }
    commandLine.setDefaultValueProvider(
        argSpec -> defaultFor(argSpec, effectiveEnv, file, configFile, origins));
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

  /** A warning about a setting that works but is unwise (to the service's standard error). */
  public void warn(String message) {
    warnings.accept(message);
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

  /**
   * A duration: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}, {@code 0} or
   * ISO-8601 ({@code PT2S}).
   */
  public Duration duration(String option, String value) {
    try {
      return parseDuration(value);
    } catch (IllegalArgumentException e) {
      throw bad(option, value, e.getMessage());
    }
  }

  /**
   * A duration as {@link #duration} reads it, for defaults written as text once (the options'
   * annotations and the settings records share the text).
   *
   * @throws IllegalArgumentException with the fix, for a bad or negative duration
   */
  public static Duration parseDuration(String value) {
    String text = value.trim().toLowerCase(Locale.ROOT);
    Duration d;
    try {
      if (text.equals("0")) {
        d = Duration.ZERO; // zero needs no unit
      } else if (text.startsWith("p")) {
        d = Duration.parse(text.toUpperCase(Locale.ROOT));
      } else if (text.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
      } else if (text.endsWith("s")) {
        d = Duration.ofSeconds(Long.parseLong(text.substring(0, text.length() - 1)));
      } else if (text.endsWith("m")) {
        d = Duration.ofMinutes(Long.parseLong(text.substring(0, text.length() - 1)));
      } else if (text.endsWith("h")) {
        d = Duration.ofHours(Long.parseLong(text.substring(0, text.length() - 1)));
      } else if (text.endsWith("d")) {
        d = Duration.ofDays(Long.parseLong(text.substring(0, text.length() - 1)));
      } else {
        throw new NumberFormatException(text);
      }
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new IllegalArgumentException("use a duration such as 500ms, 30s, 5m or 1h");
    }
    if (d.isNegative()) {
      throw new IllegalArgumentException("a duration cannot be negative");
    }
    return d;
  }

  /**
   * A size in bytes: {@code 4096}, {@code 256KiB} (or {@code 256k}), {@code 4MiB}, {@code 1GiB}.
   */
  public long bytes(String option, String value) {
    try {
      return parseBytes(value);
    } catch (IllegalArgumentException e) {
      throw bad(option, value, e.getMessage());
    }
  }

  /**
   * A size as {@link #bytes} reads it, for defaults written as text once.
   *
   * @throws IllegalArgumentException with the fix
   */
  public static long parseBytes(String value) {
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
      throw new IllegalArgumentException("use a size such as 4096, 256KiB or 4MiB");
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

  private String defaultFor(
      ArgSpec argSpec,
      Map<String, String> env,
      Properties file,
      Path configFile,
      Map<OptionSpec, Origin> origins) {
    if (!(argSpec instanceof OptionSpec option) || option.longestName().equals("--config")) {
      return argSpec.defaultValue();
    }
    String variable = envName(option.longestName());
    String fromEnv = env.get(variable);
    if (fromEnv != null) {
      origins.put(option, new Origin(Source.ENVIRONMENT, variable));
      return fromEnv;
    }
    String fromFile = file.getProperty(key(option.longestName()));
    if (fromFile != null) {
      origins.put(
          option, new Origin(Source.FILE, configFile + ", key " + key(option.longestName())));
      return fromFile;
    }
    origins.put(option, new Origin(Source.DEFAULT, ""));
    return argSpec.defaultValue();
  }

  private static void collectOptions(CommandLine commandLine, Map<String, OptionSpec> into) {
    for (OptionSpec option : commandLine.getCommandSpec().options()) {
      if (!option.usageHelp() && !option.versionHelp()) {
        into.put(key(option.longestName()), option);
      }
    }
    commandLine.getSubcommands().values().forEach(sub -> collectOptions(sub, into));
  }

  /** A key of the config file that is no option: an error, with the nearest option. */
  private static void checkFileKeys(
      Properties file, Path configFile, Map<String, OptionSpec> known) {
    for (String key : file.stringPropertyNames()) {
      if (!known.containsKey(key) || key.equals("config")) {
        throw new ConfigException(
            "unknown key '"
                + key
                + "' in --config "
                + configFile
                + nearest(key, known.keySet()).map(k -> ": did you mean '" + k + "'?").orElse("")
                + " (keys are the options' names without the dashes; see --help)");
      }
    }
  }

  /** The environment with each old name's value under the option's variable, when that is unset. */
  private Map<String, String> withOldNames(
      Map<String, String> env, Map<String, OptionSpec> known, boolean warn) {
    if (oldNames.isEmpty()) {
      return env;
    }
    Map<String, String> out = new HashMap<>(env);
    oldNames.forEach(
        (oldName, option) -> {
          String value = env.get(oldName);
          String variable = envName(option);
          if (value == null || !known.containsKey(key(option))) {
            return;
          }
          if (warn) {
            warnings.accept(
                oldName
                    + " is the old name of "
                    + variable
                    + (env.containsKey(variable) ? " (set too, and it wins)" : "")
                    + ": rename it, the old name will go");
          }
          out.putIfAbsent(variable, value);
        });
    return out;
  }

  /** A variable with the service's prefix that is no option and not the scripts' own: a warning. */
  private void warnUnknownVariables(Map<String, String> env, Map<String, OptionSpec> known) {
    Map<String, String> variables = new TreeMap<>();
    known.keySet().forEach(k -> variables.put(envName("--" + k), k));
    for (String name : new TreeSet<>(env.keySet())) {
      if (name.startsWith(envPrefix)
          && !variables.containsKey(name)
          && !notOptions.contains(name)
          && !oldNames.containsKey(name)) {
        warnings.accept(
            name
                + " is not a setting of this service and is ignored"
                + nearest(name, variables.keySet())
                    .map(v -> ": did you mean " + v + "?")
                    .orElse(""));
      }
    }
  }

  /** The candidate nearest to {@code word} (edit distance at most a third of its length). */
  static Optional<String> nearest(String word, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = editDistance(word.toLowerCase(Locale.ROOT), c.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    return best != null && bestDistance <= Math.max(2, word.length() / 3)
        ? Optional.of(best)
        : Optional.empty();
  }

  private static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  private static String describe(Origin origin) {
    return switch (origin.source()) {
      case FLAG -> "flag";
      case ENVIRONMENT -> "environment " + origin.where();
      case FILE -> "file " + origin.where();
      case DEFAULT -> "default";
    };
  }

  private static String[] toStrings(Object[] values) {
    return Arrays.stream(values).map(String::valueOf).toArray(String[]::new);
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
