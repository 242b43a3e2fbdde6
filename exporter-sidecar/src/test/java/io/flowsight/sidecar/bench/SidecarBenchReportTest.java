package io.flowsight.sidecar.bench;

import static io.flowsight.sidecar.bench.RunSummaryTest.fixture;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarBenchReportTest {

  @TempDir Path tmp;

  /**
   * The report of bench/sidecar-known-inputs (rates 5000 and max), as the shell version printed it.
   */
  private static final String KNOWN_INPUTS_REPORT =
      """

      Sidecar overhead: 2 CPUs, kernel 6.1.0-test; each run 20 s measured after 5 s of load
      (10 s with the sidecar: its JIT compiles under the load first).
      Per rate: generator alone (A), with a fresh sidecar (production JVM flags, default settings,
      producing to flows-raw-bench on 127.0.0.1:9092), alone again (A'). Baseline = mean of A and A'.

      Application (the load generator; client and server in one JVM)
      rate    A c/s  A' c/s   sc c/s slowdown   p50us b>sc    p99us b>sc CPUus/conn b>sc    host% b>sc
      5000     5000    5000     5000     0.0%      100>103       510>700         80.5>84         50>33
      max     30000   31000    27000    11.5%        81>95      410>1500         40.5>48         96>99

      Sidecar (over the window; drops as window/whole run, errors over the whole run; broker = the local Kafka)
      rate  CPU%core  RSS MB  peakMB events/s rb-drops w/all produced/s out-drops w/all prod-err  lag-s BPF ns/run BPF%core broker% b>sc
      5000      2.50   120.0   122.1    10000            0/0       9975             0/0        0    0.2        250     0.25          2>3
      max      40.00   200.0   205.1    55000        120/150      55000           20/40        2    1.4          -        -          0>0

      Targets
        no drops at rate max, whole run (ring buffer / output / producer)    150 / 40 / 2     MISS
          the same in the measurement window (ring buffer / output)          120 / 20         MISS
        sidecar CPU at 5000/s <= 3% of one core (Kafka included)             2.50%            PASS
        sidecar RSS at 5000/s <= 128 MB (peak, VmHWM)                        122.1 MB         PASS
        app slowdown at 5000/s <= 5% (p50 latency; A, A' 100, 101 us)        2.5%             PASS
        app slowdown at max <= 5% (connections/s)                            11.5%            MISS

      Raw outputs, per-thread CPU of the sidecar (threads-RATE.txt), metrics scrapes: @DIR@
      """;

  private Path copy(String fixture) throws Exception {
    Path from = fixture(fixture);
    Path to = tmp.resolve(fixture);
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      files.forEach(
          f -> {
            try {
              Files.copy(f, to.resolve(f.getFileName().toString()));
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    }
    return to;
  }

  @Test
  void shouldPrintTheTablesAndVerdictsOfTheKnownInputsAndSaveThemAsTheSummary() throws Exception {
    Path dir = copy("sidecar-known-inputs");

    String report = SidecarBenchReport.report(dir, dir.toString());

    // Baselines: p50 (100 + 101) / 2 = 100.5, printed 100 as printf rounds the tie to even;
    // CPU per connection 84.50 -> 84; host 50.0 and 51.0 -> 50.5 -> 50; broker 2.0 and 2.5 ->
    // 2.2 -> 2. max: 100 * (30500 - 27000) / 30500 = 11.5 % of connections/s.
    String expected = KNOWN_INPUTS_REPORT.replace("@DIR@", dir.toString());
    assertThat(report).isEqualTo(expected);
    assertThat(Files.readString(dir.resolve("summary.txt"))).isEqualTo(expected);
  }

  @Test
  void shouldSaveEachRunsFiguresNextToItsSamples() throws Exception {
    Path dir = copy("sidecar-known-inputs");

    SidecarBenchReport.report(dir, dir.toString());

    assertThat(Files.readAllLines(dir.resolve("sidecar-max.summary")))
        .containsExactly(
            "window_s=20.00",
            "cpu_pct=40.00",
            "rss_max_mb=200.0",
            "hwm_mb=205.1",
            "events_per_s=55000",
            "records_per_s=54994",
            "produced_per_s=55000",
            "ringbuf_drops=150",
            "sock_map_full=5",
            "output_dropped=40",
            "producer_errors=2",
            "over_capacity=1",
            "records_total=2100000",
            "produced_total=2099948",
            "ringbuf_drops_window=120",
            "output_dropped_window=20",
            "catch_up_s=1.4",
            "bpf_ns_per_run=-",
            "bpf_runs_per_s=-",
            "bpf_cpu_pct=-",
            "host_busy_pct=99.3",
            "broker_cpu_pct=0.0");
    assertThat(Files.readString(dir.resolve("gen-5000-base2.window")))
        .isEqualTo("host_busy_pct=51.0\nbroker_cpu_pct=2.5\n");
    assertThat(Files.readString(dir.resolve("threads-5000.txt")))
        .isEqualTo(
            "2272 C2_CompilerThre 1.1%\n"
                + "2346 flowsight-kerne 0.7%\n"
                + "2266 VM_Thread 0.7%\n"
                + "2400 new_(odd)_name 0.2%\n");
    assertThat(Files.readString(dir.resolve("threads-max.txt")))
        .isEqualTo("3010 kafka-producer- 17.0%\n");
  }

  @Test
  void shouldPrintWhatTheShellVersionPrintedForARealRun() throws Exception {
    // A run of the shell version (rate 5000 on a busy 2-CPU host), kept as it wrote it: its
    // figures per run, the generator's outputs and summary.txt; settings.txt added.
    Path original = fixture("sidecar-20261201-205828");
    String printed = Files.readString(original.resolve("summary.txt"));
    Path dir = copy("sidecar-20261201-205828");

    String report =
        SidecarBenchReport.report(dir, "/work/main/.flowsight/bench/sidecar-20261201-205828");

    assertThat(report).isEqualTo(printed);
    assertThat(report)
        .contains(
            "5000     4312    5101     4313     8.4%      428>430    7950>11235       178.4>184       100>100")
        .contains(
            "sidecar CPU at 5000/s <= 3% of one core (Kafka included)             18.50%           MISS");
  }

  @Test
  void shouldCountTheRealRunsDropsAndTotalsFromItsScrapesAsTheShellVersionDid() throws Exception {
    Path dir = fixture("sidecar-20261201-205828");
    Map<String, String> printed = new java.util.LinkedHashMap<>();
    for (String line : Files.readAllLines(dir.resolve("sidecar-5000.summary"))) {
      printed.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
    }

    Map<String, String> counts =
        RunSummary.counts(
            Scrape.read(dir.resolve("metrics-5000-start.txt")),
            Scrape.read(dir.resolve("metrics-5000-end.txt")),
            Scrape.read(dir.resolve("metrics-5000-final.txt")));

    // output drops 4222 -> 6025 in the window, 6025 over the run; 208257 records, 202232 produced.
    assertThat(counts)
        .containsEntry("output_dropped_window", "1803")
        .containsEntry("records_total", "208257");
    counts.forEach((key, value) -> assertThat(value).as(key).isEqualTo(printed.get(key)));
  }

  @Test
  void shouldPassATargetMetExactlyAndMissOneExceededByAHundredth() throws Exception {
    Path dir = copy("sidecar-known-inputs");
    // The sidecar at 5000/s: 60 ticks = 3.00 % of a core, VmHWM 131072 kB = 128.0 MB; then 61
    // ticks.
    replaceSample(
        dir.resolve("sidecar-5000.samples"),
        "end_sidecar",
        ProcStatTest.stat(2238, "java", 1050, 210));
    replaceSample(dir.resolve("sidecar-5000.samples"), "hwm", "VmHWM:\t  131072 kB");

    assertThat(SidecarBenchReport.report(dir, "d"))
        .contains(
            "sidecar CPU at 5000/s <= 3% of one core (Kafka included)             3.00%            PASS")
        .contains(
            "sidecar RSS at 5000/s <= 128 MB (peak, VmHWM)                        128.0 MB         PASS");

    replaceSample(
        dir.resolve("sidecar-5000.samples"),
        "end_sidecar",
        ProcStatTest.stat(2238, "java", 1051, 210));
    replaceSample(dir.resolve("sidecar-5000.samples"), "hwm", "VmHWM:\t  131174 kB");

    assertThat(SidecarBenchReport.report(dir, "d"))
        .contains(
            "sidecar CPU at 5000/s <= 3% of one core (Kafka included)             3.05%            MISS")
        .contains(
            "sidecar RSS at 5000/s <= 128 MB (peak, VmHWM)                        128.1 MB         MISS");
  }

  @Test
  void shouldPassNoDropsAtTheTopRateAndMissALatencySlowdown() throws Exception {
    Path dir = copy("sidecar-known-inputs");
    Files.writeString(
        dir.resolve("settings.txt"),
        Files.readString(dir.resolve("settings.txt")).replace("rates=5000,max", "rates=max,5000"));
    Files.writeString(
        dir.resolve("gen-5000-sidecar.out"),
        Files.readString(dir.resolve("gen-5000-sidecar.out")).replace("p50_us=103", "p50_us=106"));

    String report = SidecarBenchReport.report(dir, "d");

    assertThat(report)
        .contains(
            "  no drops at rate 5000, whole run (ring buffer / output / producer)   0 / 0 / 0        PASS")
        .contains(
            "    the same in the measurement window (ring buffer / output)          0 / 0            PASS")
        // 100 * (106 - 100.5) / 100.5
        .contains(
            "  app slowdown at 5000/s <= 5% (p50 latency; A, A' 100, 101 us)        5.5%             MISS");

    // Records the producer refused count as losses too.
    Path last = dir.resolve("metrics-5000-final.txt");
    Files.writeString(
        last,
        Files.readString(last)
            .replace(
                "flowsight_sidecar_producer_errors_total{cause=\"serializer\"} 0.0",
                "flowsight_sidecar_producer_errors_total{cause=\"serializer\"} 3.0"));
    assertThat(SidecarBenchReport.report(dir, "d"))
        .contains(
            "  no drops at rate 5000, whole run (ring buffer / output / producer)   0 / 0 / 3        MISS");
  }

  @Test
  void shouldMarkARunWithOtherSidecarFlagsAsNotTheProductionSetup() throws Exception {
    Path dir = copy("sidecar-known-inputs");
    Files.writeString(
        dir.resolve("settings.txt"),
        Files.readString(dir.resolve("settings.txt"))
            .replace("sidecar_args=", "sidecar_args=--output-buffer=20000")
            .replace("nmt=false", "nmt=true"));

    assertThat(SidecarBenchReport.report(dir, "d"))
        .contains(
            "\nNOT THE PRODUCTION SETUP: sidecar JVM flags '-Xms16m -Xmx64m -XX:+UseSerialGC"
                + " -XX:NativeMemoryTracking=summary', options '--output-buffer=20000'\n\n");
  }

  @Test
  void shouldNameWhatIsMissingInADirectoryOfARunThatStoppedEarly() throws Exception {
    Path dir = copy("sidecar-known-inputs");
    Files.delete(dir.resolve("sidecar-max.samples"));

    assertThatThrownBy(() -> SidecarBenchReport.report(dir, "d"))
        .isInstanceOf(BenchDataException.class)
        .hasMessageContaining(dir.resolve("sidecar-max.samples") + " is missing");

    Files.delete(dir.resolve("settings.txt"));
    assertThatThrownBy(() -> SidecarBenchReport.report(dir, "d"))
        .isInstanceOf(BenchDataException.class)
        .hasMessageContaining(dir.resolve("settings.txt") + " is missing");
    assertThat(dir.resolve("summary.txt")).doesNotExist();
  }

  private static void replaceSample(Path file, String name, String text) throws IOException {
    List<String> lines =
        Files.readAllLines(file).stream()
            .map(l -> l.startsWith(name + " ") ? name + " " + text : l)
            .toList();
    Files.write(file, lines);
  }
}
