package io.flowsight.sidecar.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The figures of one run, from its raw samples, as the {@code key=value} lines of {@code
 * gen-RATE-baseN.window} and {@code sidecar-RATE.summary}. Values are text, printed as the report
 * prints them; every formula keeps the order of operations the shell version had, so that the same
 * samples give the same digits.
 */
final class RunSummary {

  static final String EVENTS = "flowsight_sidecar_kernel_counter_total{counter=\"events\"}";
  static final String RINGBUF_DROPS =
      "flowsight_sidecar_kernel_counter_total{counter=\"ringbuf_drops\"}";
  static final String SOCK_MAP_FULL =
      "flowsight_sidecar_kernel_counter_total{counter=\"sock_map_full\"}";
  static final String RECORDS = "flowsight_sidecar_records_total";
  static final String PRODUCED = "flowsight_sidecar_records_produced_total";
  static final String OUTPUT_DROPPED = "flowsight_sidecar_output_dropped_total";
  static final String PRODUCER_ERRORS = "flowsight_sidecar_producer_errors_total";
  static final String OVER_CAPACITY = "flowsight_sidecar_connections_over_capacity_total";

  private RunSummary() {}

  /** Seconds between the samples {@code start_us} and {@code end_us} (the measurement window). */
  static double windowSeconds(RunSamples samples) {
    return (samples.number("end_us") - samples.number("start_us")) / 1e6;
  }

  /**
   * The whole host's busy CPU over the window, % of all CPUs, and the local broker's CPU, % of one
   * core: {@code host_busy_pct}, {@code broker_cpu_pct}.
   */
  static Map<String, String> window(RunSamples samples, double clockTicksPerSecond) {
    double s = windowSeconds(samples);
    double[] a = ProcStat.hostTicks(samples.text("start_host"));
    double[] b = ProcStat.hostTicks(samples.text("end_host"));
    double k0 = ProcStat.cpuTicks(samples.text("start_broker"));
    double k1 = ProcStat.cpuTicks(samples.text("end_broker"));
    Map<String, String> window = new LinkedHashMap<>();
    window.put("host_busy_pct", CNumbers.fixed(100 * (b[0] - a[0]) / (b[1] - a[1]), 1));
    window.put("broker_cpu_pct", CNumbers.fixed(100 * (k1 - k0) / clockTicksPerSecond / s, 1));
    return window;
  }

  /**
   * The sidecar's figures of a run with a sidecar: CPU and RSS over the window, per-second rates of
   * the counters between the scrapes at the window's start and end, drops and errors over the whole
   * run (the scrape once it caught up), the catch-up time, the BPF program's run time; then the
   * {@link #window} figures.
   */
  static Map<String, String> sidecar(
      RunSamples samples, Scrape start, Scrape end, Scrape last, double clockTicksPerSecond) {
    double s = windowSeconds(samples);
    double c0 = ProcStat.cpuTicks(samples.text("start_sidecar"));
    double c1 = ProcStat.cpuTicks(samples.text("end_sidecar"));
    double rss = 0;
    for (String line : samples.all("rss")) {
      rss = Math.max(rss, ProcStat.statusKb(line));
    }
    double hwm = ProcStat.statusKb(samples.text("hwm"));
    double[] bpf0 = bpfRunTime(samples.text("start_bpf"));
    double[] bpf1 = bpfRunTime(samples.text("end_bpf"));
    double caught = samples.number("caught_up_us") - samples.number("load_end_us");

    Map<String, String> summary = new LinkedHashMap<>();
    summary.put("window_s", CNumbers.fixed(s, 2));
    summary.put("cpu_pct", CNumbers.fixed(100 * (c1 - c0) / clockTicksPerSecond / s, 2));
    summary.put("rss_max_mb", CNumbers.fixed(rss / 1024, 1));
    summary.put("hwm_mb", CNumbers.fixed(hwm / 1024, 1));
    summary.put("events_per_s", CNumbers.fixed((end.sum(EVENTS) - start.sum(EVENTS)) / s, 0));
    summary.put("records_per_s", CNumbers.fixed((end.sum(RECORDS) - start.sum(RECORDS)) / s, 0));
    summary.put("produced_per_s", CNumbers.fixed((end.sum(PRODUCED) - start.sum(PRODUCED)) / s, 0));
    summary.putAll(counts(start, end, last));
    summary.put("catch_up_s", CNumbers.fixed(caught / 1e6, 1));
    double bt0 = bpf0[0];
    double bc0 = bpf0[1];
    double bt1 = bpf1[0];
    double bc1 = bpf1[1];
    if (bc1 > bc0) {
      summary.put("bpf_ns_per_run", CNumbers.fixed((bt1 - bt0) / (bc1 - bc0), 0));
      summary.put("bpf_runs_per_s", CNumbers.fixed((bc1 - bc0) / s, 0));
      summary.put("bpf_cpu_pct", CNumbers.fixed(100 * (bt1 - bt0) / 1e9 / s, 2));
    } else {
      // No program found, or kernel.bpf_stats_enabled off: the kernel counted nothing.
      summary.put("bpf_ns_per_run", "-");
      summary.put("bpf_runs_per_s", "-");
      summary.put("bpf_cpu_pct", "-");
    }
    summary.putAll(window(samples, clockTicksPerSecond));
    return summary;
  }

  /**
   * The losses and totals of a sidecar run from its scrapes: over the whole run (the scrape once it
   * caught up: ring-buffer drops, full socket map, output drops, producer errors, connections over
   * capacity, records, records produced), then ring-buffer and output drops in the window (the
   * scrapes at its start and end).
   */
  static Map<String, String> counts(Scrape start, Scrape end, Scrape last) {
    Map<String, String> counts = new LinkedHashMap<>();
    counts.put("ringbuf_drops", integer(last.sum(RINGBUF_DROPS)));
    counts.put("sock_map_full", integer(last.sum(SOCK_MAP_FULL)));
    counts.put("output_dropped", integer(last.sum(OUTPUT_DROPPED)));
    counts.put("producer_errors", integer(last.sum(PRODUCER_ERRORS)));
    counts.put("over_capacity", integer(last.sum(OVER_CAPACITY)));
    counts.put("records_total", integer(last.sum(RECORDS)));
    counts.put("produced_total", integer(last.sum(PRODUCED)));
    counts.put("ringbuf_drops_window", integer(end.sum(RINGBUF_DROPS) - start.sum(RINGBUF_DROPS)));
    counts.put(
        "output_dropped_window", integer(end.sum(OUTPUT_DROPPED) - start.sum(OUTPUT_DROPPED)));
    return counts;
  }

  /**
   * {@code run_time_ns} and {@code run_cnt} from the first line of {@code bpftool prog show id N}
   * ("123: tracepoint name on_set_state ... run_time_ns 51234 run_cnt 120"); 0 and 0 when absent.
   */
  static double[] bpfRunTime(String bpftoolLine) {
    String[] f = ProcStat.fields(bpftoolLine);
    double time = 0;
    double count = 0;
    for (int i = 0; i < f.length - 1; i++) {
      if (f[i].equals("run_time_ns")) {
        time = CNumbers.parse(f[i + 1]);
      } else if (f[i].equals("run_cnt")) {
        count = CNumbers.parse(f[i + 1]);
      }
    }
    return new double[] {time, count};
  }

  /**
   * The sidecar's CPU in the window by thread, busiest first: "tid name 1.2%" (% of one core), from
   * the threads' stat lines at the window's start and end. A thread started in the window counts
   * from 0; one that ended in it, or used no CPU, is left out. Equal shares keep the order of
   * {@code sort -rn}: the whole line, descending.
   */
  static List<String> threadCpu(
      List<String> startStat, List<String> endStat, double clockTicksPerSecond, double seconds) {
    // The shell version handed the window over as awk prints a number (6 significant digits).
    double s = CNumbers.parse(CNumbers.print(seconds));
    Map<String, Double> before = new HashMap<>();
    for (String line : startStat) {
      if (!line.isBlank()) {
        before.put(ProcStat.id(line), ProcStat.cpuTicks(line));
      }
    }
    List<String> lines = new ArrayList<>();
    for (String line : endStat) {
      if (line.isBlank()) {
        continue;
      }
      String id = ProcStat.id(line);
      double d = ProcStat.cpuTicks(line) - before.getOrDefault(id, 0.0);
      if (d > 0) {
        lines.add(
            id
                + " "
                + ProcStat.name(line)
                + " "
                + CNumbers.fixed(100 * d / clockTicksPerSecond / s, 1)
                + "%");
      }
    }
    lines.sort(
        Comparator.comparingDouble((String l) -> CNumbers.parse(l.split(" ", 3)[2]))
            .thenComparing(Comparator.naturalOrder())
            .reversed());
    return lines;
  }

  /** A whole number as {@code printf("%d")} writes it. */
  private static String integer(double value) {
    return Long.toString((long) value);
  }
}
