package io.flowsight.sidecar.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** One saved scrape of the sidecar's {@code /metrics} (Prometheus text format). */
final class Scrape {

  private final List<String> lines;

  Scrape(List<String> lines) {
    this.lines = List.copyOf(lines);
  }

  /** The scrape in a file; an empty or missing file (the scrape failed) reads as no series. */
  static Scrape read(Path file) throws IOException {
    return new Scrape(Files.exists(file) ? Files.readAllLines(file) : List.of());
  }

  /**
   * The sum of the series whose name, labels included, starts with {@code prefix}, rounded to a
   * whole number: {@code flowsight_sidecar_records_total} adds up every kind, {@code
   * flowsight_sidecar_kernel_counter_total{counter="events"}} is one series. 0 when none matches.
   */
  double sum(String prefix) {
    double sum = 0;
    for (String line : lines) {
      String[] f = ProcStat.fields(line);
      if (f.length > 0 && f[0].startsWith(prefix)) {
        sum += f.length > 1 ? CNumbers.parse(f[1]) : 0;
      }
    }
    return CNumbers.whole(sum);
  }
}
