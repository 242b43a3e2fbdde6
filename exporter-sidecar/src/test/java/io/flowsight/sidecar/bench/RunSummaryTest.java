package io.flowsight.sidecar.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The figures of one run from raw samples: bench/sidecar-known-inputs, rate 5000, a window of 20 s
 * exactly, clock ticks of 10 ms.
 */
class RunSummaryTest {

  private static final double TICKS_PER_S = 100;

  static Path fixture(String name) throws URISyntaxException {
    return Path.of(RunSummaryTest.class.getResource("/bench/" + name).toURI());
  }

  private static Map<String, String> sidecar5000() throws Exception {
    Path dir = fixture("sidecar-known-inputs");
    return RunSummary.sidecar(
        RunSamples.read(dir.resolve("sidecar-5000.samples")),
        Scrape.read(dir.resolve("metrics-5000-start.txt")),
        Scrape.read(dir.resolve("metrics-5000-end.txt")),
        Scrape.read(dir.resolve("metrics-5000-final.txt")),
        TICKS_PER_S);
  }

  @Test
  void shouldTakeTheSidecarsCpuFromItsStatTicksOverTheWindow() throws Exception {
    // utime + stime 1000 + 200 at the start, 1040 + 210 at the end: 50 ticks = 0.5 s in 20 s.
    assertThat(sidecar5000()).containsEntry("window_s", "20.00").containsEntry("cpu_pct", "2.50");
  }

  @Test
  void shouldTakeTheLargestRssSampledAndThePeakAfterTheCatchUp() throws Exception {
    // VmRSS 100000, 122880, 110000 kB and one sample of a gone process; VmHWM 125000 kB.
    assertThat(sidecar5000()).containsEntry("rss_max_mb", "120.0").containsEntry("hwm_mb", "122.1");
  }

  @Test
  void shouldTakeRatesFromTheCounterDeltasBetweenTheWindowsScrapes() throws Exception {
    // events 100000 -> 300000; records 99990 + 10 -> 299990 + 10; produced 99000 -> 298500.
    assertThat(sidecar5000())
        .containsEntry("events_per_s", "10000")
        .containsEntry("records_per_s", "10000")
        .containsEntry("produced_per_s", "9975");
  }

  @Test
  void shouldCountDropsInTheWindowAndOverTheWholeRun() throws Exception {
    Path dir = fixture("sidecar-known-inputs");

    Map<String, String> counts =
        RunSummary.counts(
            Scrape.read(dir.resolve("metrics-max-start.txt")),
            Scrape.read(dir.resolve("metrics-max-end.txt")),
            Scrape.read(dir.resolve("metrics-max-final.txt")));

    // ring buffer 0 -> 120 in the window, 150 at the end; output 10 -> 30, 40 at the end.
    assertThat(counts)
        .containsExactly(
            Map.entry("ringbuf_drops", "150"),
            Map.entry("sock_map_full", "5"),
            Map.entry("output_dropped", "40"),
            Map.entry("producer_errors", "2"),
            Map.entry("over_capacity", "1"),
            Map.entry("records_total", "2100000"),
            Map.entry("produced_total", "2099948"),
            Map.entry("ringbuf_drops_window", "120"),
            Map.entry("output_dropped_window", "20"));
  }

  @Test
  void shouldTakeTheLagFromTheLoadsEndToTheCatchUpRoundedAsPrintfDoes() throws Exception {
    // 250 ms: printf("%.1f") rounds the tie to even, 0.2.
    assertThat(sidecar5000()).containsEntry("catch_up_s", "0.2");
  }

  @Test
  void shouldTakeTheBpfProgramsCostFromItsRunTimeAndCount() throws Exception {
    // run_time_ns 1,000,000 -> 51,000,000 over run_cnt 4,000 -> 204,000.
    assertThat(sidecar5000())
        .containsEntry("bpf_ns_per_run", "250")
        .containsEntry("bpf_runs_per_s", "10000")
        .containsEntry("bpf_cpu_pct", "0.25");
    assertThat(RunSummary.bpfRunTime("")).containsExactly(0, 0);
  }

  @Test
  void shouldTakeHostBusyPercentOfAllCpusAndBrokerPercentOfOneCore() throws Exception {
    // host: busy 2000 -> 3000 of 10000 -> 13000 ticks (idle and iowait left out);
    // broker: 1500 + 100 -> 1540 + 120 ticks, 0.6 s in 20 s.
    assertThat(sidecar5000())
        .containsEntry("host_busy_pct", "33.3")
        .containsEntry("broker_cpu_pct", "3.0");
    Map<String, String> withoutBroker =
        RunSummary.window(
            RunSamples.read(fixture("sidecar-known-inputs").resolve("gen-max-base1.samples")),
            TICKS_PER_S);
    assertThat(withoutBroker)
        .containsExactly(Map.entry("host_busy_pct", "95.0"), Map.entry("broker_cpu_pct", "0.0"));
  }

  @Test
  void shouldPrintTheFiguresInTheOrderOfTheSummaryFile() throws Exception {
    assertThat(sidecar5000().keySet())
        .containsExactly(
            "window_s",
            "cpu_pct",
            "rss_max_mb",
            "hwm_mb",
            "events_per_s",
            "records_per_s",
            "produced_per_s",
            "ringbuf_drops",
            "sock_map_full",
            "output_dropped",
            "producer_errors",
            "over_capacity",
            "records_total",
            "produced_total",
            "ringbuf_drops_window",
            "output_dropped_window",
            "catch_up_s",
            "bpf_ns_per_run",
            "bpf_runs_per_s",
            "bpf_cpu_pct",
            "host_busy_pct",
            "broker_cpu_pct");
  }

  @Test
  void shouldListTheThreadsThatUsedCpuInTheWindowBusiestFirst() {
    List<String> start =
        List.of(
            ProcStatTest.stat(2266, "VM Thread", 19, 0),
            ProcStatTest.stat(2272, "C2 CompilerThre", 100, 50),
            ProcStatTest.stat(2300, "gone", 7, 0),
            ProcStatTest.stat(2346, "flowsight-kerne", 10, 9),
            ProcStatTest.stat(2255, "java", 150, 11));
    List<String> end =
        List.of(
            ProcStatTest.stat(2266, "VM Thread", 31, 1),
            ProcStatTest.stat(2272, "C2 CompilerThre", 120, 51),
            ProcStatTest.stat(2346, "flowsight-kerne", 20, 12),
            ProcStatTest.stat(2255, "java", 150, 11),
            ProcStatTest.stat(2400, "new (odd) name", 3, 1));

    List<String> threads = RunSummary.threadCpu(start, end, TICKS_PER_S, 20.0);

    // 21, 13, 13 and 4 ticks in 20 s; equal shares in descending order of the line, as sort -rn.
    assertThat(threads)
        .containsExactly(
            "2272 C2_CompilerThre 1.1%",
            "2346 flowsight-kerne 0.7%", "2266 VM_Thread 0.7%", "2400 new_(odd)_name 0.2%");
  }

  @Test
  void shouldNameTheFileAndTheSampleARunDidNotTake() {
    RunSamples samples =
        RunSamples.parse(
            Path.of("run/gen-1000-base1.samples"), List.of("start_us 1", "end_us 20000001"));

    assertThatThrownBy(() -> RunSummary.window(samples, TICKS_PER_S))
        .isInstanceOf(BenchDataException.class)
        .hasMessageContaining("run/gen-1000-base1.samples has no 'start_host' sample");
  }
}
