package io.flowsight.sidecar.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * How a run was made, from {@code settings.txt} of its run directory ({@code key=value} lines, as
 * deploy/bench/sidecar-overhead writes them before the first run).
 *
 * @param cpus the host's CPUs ({@code nproc})
 * @param kernel the kernel release ({@code uname -r})
 * @param clockTicksPerSecond the unit of the CPU times in {@code /proc} ({@code getconf CLK_TCK})
 * @param rates the rates of the run, in order: connections/s or {@code max}
 * @param sidecarJavaOpts the sidecar's JVM flags when not the production ones, else empty
 * @param sidecarArgs the extra sidecar options, blank-separated, else empty
 */
record BenchSettings(
    String cpus,
    String kernel,
    double clockTicksPerSecond,
    String duration,
    String warmup,
    String sidecarWarmup,
    List<String> rates,
    String topic,
    String kafkaPort,
    String productionJavaOpts,
    String sidecarJavaOpts,
    String sidecarArgs,
    boolean nmt) {

  static final String FILE = "settings.txt";

  static BenchSettings read(Path runDirectory) throws IOException {
    Path file = runDirectory.resolve(FILE);
    if (!Files.exists(file)) {
      throw new BenchDataException(
          file
              + " is missing: not a run directory of deploy/bench/sidecar-overhead, or one made"
              + " before the harness saved its settings (keys: cpus, kernel, clk_tck, duration,"
              + " warmup, sidecar_warmup, rates, topic, kafka_port, production_java_opts,"
              + " sidecar_java_opts, sidecar_args, nmt)");
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        values.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    Function<String, String> get =
        key -> {
          String v = values.get(key);
          if (v == null) {
            throw new BenchDataException(file + " has no '" + key + "=' line");
          }
          return v;
        };
    double clockTicks = CNumbers.parse(get.apply("clk_tck"));
    if (clockTicks <= 0) {
      throw new BenchDataException(
          file + ": clk_tck=" + get.apply("clk_tck") + " is not a tick rate (getconf CLK_TCK)");
    }
    return new BenchSettings(
        get.apply("cpus"),
        get.apply("kernel"),
        clockTicks,
        get.apply("duration"),
        get.apply("warmup"),
        get.apply("sidecar_warmup"),
        Arrays.stream(get.apply("rates").split(",")).toList(),
        get.apply("topic"),
        get.apply("kafka_port"),
        get.apply("production_java_opts"),
        get.apply("sidecar_java_opts"),
        get.apply("sidecar_args"),
        Boolean.parseBoolean(get.apply("nmt")));
  }

  /** Whether the sidecar ran as in production: its JVM flags, no extra option, no tracking. */
  boolean production() {
    return sidecarJavaOpts.isEmpty() && sidecarArgs.isEmpty() && !nmt;
  }

  /** The sidecar's JVM flags in this run. */
  String sidecarJvmFlags() {
    return (sidecarJavaOpts.isEmpty() ? productionJavaOpts : sidecarJavaOpts)
        + (nmt ? " -XX:NativeMemoryTracking=summary" : "");
  }
}
