package io.flowsight.sidecar.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report of {@code ./flowsight bench sidecar} (deploy/bench/sidecar-overhead), made from the
 * raw samples the harness saved in a run directory: the sidecar's CPU, RSS, events/s, drops and
 * lag, the application's connections/s, latency and slowdown, and the verdicts against the targets.
 *
 * <p>For each rate it writes the figures of each run next to its samples ({@code
 * gen-RATE-base1.window}, {@code gen-RATE-base2.window}, {@code sidecar-RATE.summary}, {@code
 * threads-RATE.txt}), then prints the report and writes it to {@code summary.txt}. A directory made
 * by an older harness, which kept these files but no samples, is reported from the files.
 *
 * <p>Run: {@code java -cp ... io.flowsight.sidecar.bench.SidecarBenchReport RUN_DIRECTORY}, or
 * {@code ./flowsight bench sidecar --report RUN_DIRECTORY}.
 */
public final class SidecarBenchReport {

  // The targets the sidecar is held to.
  /** The rate at which the sidecar's CPU and RSS are judged, connections/s. */
  static final String TARGET_RATE = "5000";

  /** The sidecar's CPU at {@link #TARGET_RATE}, % of one core, Kafka production included. */
  static final int TARGET_CPU_PCT = 3;

  /** The sidecar's peak RSS (VmHWM) at {@link #TARGET_RATE}, MB (MiB). */
  static final int TARGET_RSS_MB = 128;

  /** The application's slowdown, %: connections/s at {@code max}, p50 latency at a paced rate. */
  static final int TARGET_SLOWDOWN_PCT = 5;

  static final String SUMMARY = "summary.txt";

  private static final String APP_ROW = "%-5s %7s %7s %8s %8s %12s %13s %15s %13s\n";
  private static final String SIDECAR_ROW =
      "%-5s %8s %7s %7s %8s %14s %10s %15s %8s %6s %10s %8s %12s\n";
  private static final String TARGET_ROW = "  %-68s %-16s %s\n";

  private SidecarBenchReport() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1 || args[0].startsWith("-")) {
      System.err.println(
          "Usage: SidecarBenchReport RUN_DIRECTORY   (a $FLOWSIGHT_HOME/bench/sidecar-<time>/"
              + " directory of ./flowsight bench sidecar)");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    if (!Files.isDirectory(dir)) {
      System.err.println("bench report: " + dir + " is not a directory");
      System.exit(2);
    }
    try {
      String report = report(dir, args[0]);
      PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
      out.print(report);
      out.flush();
    } catch (BenchDataException e) {
      System.err.println("bench report: " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * Makes the report of a run directory: writes each run's figures and {@code summary.txt}, and
   * returns the report.
   *
   * @param shownAs the directory as the report's last line names it
   */
  static String report(Path dir, String shownAs) throws IOException {
    BenchSettings settings = BenchSettings.read(dir);
    Map<String, RateRuns> runs = new LinkedHashMap<>();
    for (String rate : settings.rates()) {
      runs.put(rate, RateRuns.load(dir, rate, settings.clockTicksPerSecond()));
    }
    String report = render(settings, runs, shownAs);
    Files.writeString(dir.resolve(SUMMARY), report);
    return report;
  }

  /** The three runs of one rate: the generator alone (A), with a sidecar, alone again (A'). */
  record RateRuns(
      String rate,
      GeneratorResult alone,
      GeneratorResult aloneAgain,
      GeneratorResult withSidecar,
      Map<String, String> aloneWindow,
      Map<String, String> aloneAgainWindow,
      Map<String, String> sidecar) {

    static RateRuns load(Path dir, String rate, double clockTicksPerSecond) throws IOException {
      return new RateRuns(
          rate,
          GeneratorResult.read(dir.resolve("gen-" + rate + "-base1.out")),
          GeneratorResult.read(dir.resolve("gen-" + rate + "-base2.out")),
          GeneratorResult.read(dir.resolve("gen-" + rate + "-sidecar.out")),
          baselineWindow(dir, "gen-" + rate + "-base1", clockTicksPerSecond),
          baselineWindow(dir, "gen-" + rate + "-base2", clockTicksPerSecond),
          sidecarSummary(dir, rate, clockTicksPerSecond));
    }

    /** Host and broker CPU of a baseline run: from {@code NAME.samples}, saved as NAME.window. */
    private static Map<String, String> baselineWindow(Path dir, String name, double clockTicks)
        throws IOException {
      Path samples = dir.resolve(name + ".samples");
      Path window = dir.resolve(name + ".window");
      if (!Files.exists(samples)) {
        return readFigures(window, samples);
      }
      Map<String, String> figures = RunSummary.window(RunSamples.read(samples), clockTicks);
      writeFigures(window, figures);
      return figures;
    }

    /**
     * The sidecar's figures of a rate: from {@code sidecar-RATE.samples} and the scrapes, saved as
     * {@code sidecar-RATE.summary}, with its CPU by thread in {@code threads-RATE.txt}.
     */
    private static Map<String, String> sidecarSummary(Path dir, String rate, double clockTicks)
        throws IOException {
      Path samplesFile = dir.resolve("sidecar-" + rate + ".samples");
      Path summary = dir.resolve("sidecar-" + rate + ".summary");
      if (!Files.exists(samplesFile)) {
        return readFigures(summary, samplesFile);
      }
      RunSamples samples = RunSamples.read(samplesFile);
      Map<String, String> figures =
          RunSummary.sidecar(
              samples,
              Scrape.read(dir.resolve("metrics-" + rate + "-start.txt")),
              Scrape.read(dir.resolve("metrics-" + rate + "-end.txt")),
              Scrape.read(dir.resolve("metrics-" + rate + "-final.txt")),
              clockTicks);
      writeFigures(summary, figures);
      List<String> threads =
          RunSummary.threadCpu(
              lines(dir.resolve("threads-" + rate + "-start.txt")),
              lines(dir.resolve("threads-" + rate + "-end.txt")),
              clockTicks,
              RunSummary.windowSeconds(samples));
      Files.writeString(
          dir.resolve("threads-" + rate + ".txt"),
          threads.isEmpty() ? "" : String.join("\n", threads) + "\n");
      return figures;
    }
  }

  private static List<String> lines(Path file) throws IOException {
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }

  private static Map<String, String> readFigures(Path figures, Path samples) throws IOException {
    if (!Files.exists(figures)) {
      throw new BenchDataException(
          samples + " is missing: the run stopped before this run of the rate was sampled");
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : Files.readAllLines(figures)) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        values.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return values;
  }

  private static void writeFigures(Path file, Map<String, String> figures) throws IOException {
    StringBuilder text = new StringBuilder();
    figures.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    Files.writeString(file, text);
  }

  /** The report: the application's table, the sidecar's, the targets. */
  static String render(BenchSettings settings, Map<String, RateRuns> runs, String shownAs) {
    StringBuilder out = new StringBuilder();
    out.append('\n');
    out.append(
        "Sidecar overhead: %s CPUs, kernel %s; each run %s s measured after %s s of load\n"
            .formatted(settings.cpus(), settings.kernel(), settings.duration(), settings.warmup()));
    out.append(
        "(%s s with the sidecar: its JIT compiles under the load first).\n"
            .formatted(settings.sidecarWarmup()));
    out.append(
        "Per rate: generator alone (A), with a fresh sidecar (production JVM flags, default"
            + " settings,\n");
    out.append(
        "producing to %s on 127.0.0.1:%s), alone again (A'). Baseline = mean of A and A'.\n"
            .formatted(settings.topic(), settings.kafkaPort()));
    if (!settings.production()) {
      out.append(
          "NOT THE PRODUCTION SETUP: sidecar JVM flags '%s', options '%s'\n"
              .formatted(settings.sidecarJvmFlags(), settings.sidecarArgs()));
    }
    out.append('\n');

    out.append("Application (the load generator; client and server in one JVM)\n");
    out.append(
        row(
            APP_ROW,
            "rate",
            "A c/s",
            "A' c/s",
            "sc c/s",
            "slowdown",
            "p50us b>sc",
            "p99us b>sc",
            "CPUus/conn b>sc",
            "host% b>sc"));
    for (String rate : settings.rates()) {
      RateRuns r = runs.get(rate);
      String alone = r.alone().value("conns_per_s");
      String again = r.aloneAgain().value("conns_per_s");
      String withSidecar = r.withSidecar().value("conns_per_s");
      out.append(
          row(
              APP_ROW,
              rate,
              whole(alone),
              whole(again),
              whole(withSidecar),
              CNumbers.fixed(fewerPct(mean(alone, again), withSidecar), 1) + "%",
              whole(baseline(r, "p50_us")) + ">" + r.withSidecar().value("p50_us"),
              whole(baseline(r, "p99_us")) + ">" + r.withSidecar().value("p99_us"),
              baseline(r, "cpu_us_per_conn")
                  + ">"
                  + whole(r.withSidecar().value("cpu_us_per_conn")),
              whole(
                      mean(
                          get(r.aloneWindow(), "host_busy_pct"),
                          get(r.aloneAgainWindow(), "host_busy_pct")))
                  + ">"
                  + whole(r.sidecar().get("host_busy_pct"))));
    }
    out.append('\n');

    out.append(
        "Sidecar (over the window; drops as window/whole run, errors over the whole run; broker ="
            + " the local Kafka)\n");
    out.append(
        row(
            SIDECAR_ROW,
            "rate",
            "CPU%core",
            "RSS MB",
            "peakMB",
            "events/s",
            "rb-drops w/all",
            "produced/s",
            "out-drops w/all",
            "prod-err",
            "lag-s",
            "BPF ns/run",
            "BPF%core",
            "broker% b>sc"));
    for (String rate : settings.rates()) {
      RateRuns r = runs.get(rate);
      Map<String, String> s = r.sidecar();
      out.append(
          row(
              SIDECAR_ROW,
              rate,
              get(s, "cpu_pct"),
              get(s, "rss_max_mb"),
              get(s, "hwm_mb"),
              get(s, "events_per_s"),
              get(s, "ringbuf_drops_window") + "/" + get(s, "ringbuf_drops"),
              get(s, "produced_per_s"),
              get(s, "output_dropped_window") + "/" + get(s, "output_dropped"),
              get(s, "producer_errors"),
              get(s, "catch_up_s"),
              get(s, "bpf_ns_per_run"),
              get(s, "bpf_cpu_pct"),
              whole(
                      mean(
                          get(r.aloneWindow(), "broker_cpu_pct"),
                          get(r.aloneAgainWindow(), "broker_cpu_pct")))
                  + ">"
                  + whole(get(s, "broker_cpu_pct"))));
    }
    out.append('\n');

    out.append("Targets\n");
    String top = settings.rates().get(settings.rates().size() - 1);
    Map<String, String> s = runs.get(top).sidecar();
    out.append(
        row(
            TARGET_ROW,
            "no drops at rate " + top + ", whole run (ring buffer / output / producer)",
            get(s, "ringbuf_drops")
                + " / "
                + get(s, "output_dropped")
                + " / "
                + get(s, "producer_errors"),
            verdict(
                num(s, "ringbuf_drops") + num(s, "output_dropped") + num(s, "producer_errors")
                    == 0)));
    out.append(
        row(
            TARGET_ROW,
            "  the same in the measurement window (ring buffer / output)",
            get(s, "ringbuf_drops_window") + " / " + get(s, "output_dropped_window"),
            verdict(num(s, "ringbuf_drops_window") + num(s, "output_dropped_window") == 0)));
    if (runs.containsKey(TARGET_RATE)) {
      s = runs.get(TARGET_RATE).sidecar();
      out.append(
          row(
              TARGET_ROW,
              "sidecar CPU at %s/s <= %d%% of one core (Kafka included)"
                  .formatted(TARGET_RATE, TARGET_CPU_PCT),
              get(s, "cpu_pct") + "%",
              verdict(num(s, "cpu_pct") <= TARGET_CPU_PCT)));
      out.append(
          row(
              TARGET_ROW,
              "sidecar RSS at %s/s <= %d MB (peak, VmHWM)".formatted(TARGET_RATE, TARGET_RSS_MB),
              get(s, "hwm_mb") + " MB",
              verdict(num(s, "hwm_mb") <= TARGET_RSS_MB)));
    }
    for (String rate : settings.rates()) {
      RateRuns r = runs.get(rate);
      double slowdown;
      String label;
      if (rate.equals("max")) {
        slowdown = fewerPct(baseline(r, "conns_per_s"), r.withSidecar().value("conns_per_s"));
        label = "app slowdown at max <= %d%% (connections/s)".formatted(TARGET_SLOWDOWN_PCT);
      } else {
        // At a paced rate the rate holds; a slowdown shows in each connection's latency.
        String base = baseline(r, "p50_us");
        slowdown =
            100
                * (CNumbers.parse(r.withSidecar().value("p50_us")) - CNumbers.parse(base))
                / CNumbers.parse(base);
        label =
            "app slowdown at %s/s <= %d%% (p50 latency; A, A' %s, %s us)"
                .formatted(
                    rate,
                    TARGET_SLOWDOWN_PCT,
                    r.alone().value("p50_us"),
                    r.aloneAgain().value("p50_us"));
      }
      out.append(
          row(
              TARGET_ROW,
              label,
              CNumbers.fixed(slowdown, 1) + "%",
              verdict(slowdown <= TARGET_SLOWDOWN_PCT)));
    }
    out.append('\n');
    out.append(
        "Raw outputs, per-thread CPU of the sidecar (threads-RATE.txt), metrics scrapes: "
            + shownAs
            + "\n");
    return out.toString();
  }

  /** How much lower {@code value} is than {@code base}, % of the base. */
  private static double fewerPct(String base, String value) {
    double a = CNumbers.parse(base);
    return 100 * (a - CNumbers.parse(value)) / a;
  }

  /** The mean of A and A' of a result value, to one decimal: the baseline. */
  private static String baseline(RateRuns r, String key) {
    return mean(r.alone().value(key), r.aloneAgain().value(key));
  }

  /** The mean of two figures, printed to one decimal (the baseline of A and A'). */
  static String mean(String a, String b) {
    return CNumbers.fixed((CNumbers.parse(a) + CNumbers.parse(b)) / 2, 1);
  }

  /** A figure printed as a whole number. */
  static String whole(String figure) {
    return CNumbers.fixed(CNumbers.parse(figure), 0);
  }

  static String verdict(boolean met) {
    return met ? "PASS" : "MISS";
  }

  private static String get(Map<String, String> figures, String key) {
    return figures.getOrDefault(key, "");
  }

  private static double num(Map<String, String> figures, String key) {
    return CNumbers.parse(get(figures, key));
  }

  private static String row(String format, Object... cells) {
    return String.format(Locale.ROOT, format, cells);
  }
}
