package io.flowsight.sidecar.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The raw samples the harness took during one run ({@code gen-RATE-base1.samples}, {@code
 * sidecar-RATE.samples}): one sample a line, {@code <name> <raw text>}, the text as read from
 * {@code /proc}, {@code bpftool} or the clock, for example
 *
 * <pre>
 * start_us 1764622349123456             (EPOCHREALTIME in microseconds)
 * start_host cpu  4705 12 1532 ...      (the "cpu" line of /proc/stat)
 * start_sidecar 2238 (java) S 1 ...     (/proc/PID/stat; empty when the process was gone)
 * rss VmRSS:	  175552 kB               (repeated: one a quarter second)
 * </pre>
 */
final class RunSamples {

  private final Path file;
  private final Map<String, List<String>> samples;

  private RunSamples(Path file, Map<String, List<String>> samples) {
    this.file = file;
    this.samples = samples;
  }

  static RunSamples read(Path file) throws IOException {
    return parse(file, Files.readAllLines(file));
  }

  /** The samples in {@code lines}, read from {@code file} (named in errors). */
  static RunSamples parse(Path file, List<String> lines) {
    Map<String, List<String>> samples = new LinkedHashMap<>();
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      int space = line.indexOf(' ');
      String name = space < 0 ? line : line.substring(0, space);
      String text = space < 0 ? "" : line.substring(space + 1);
      samples.computeIfAbsent(name, k -> new ArrayList<>()).add(text);
    }
    return new RunSamples(file, samples);
  }

  /** The text of a sample taken once; an error naming the file when the run did not record it. */
  String text(String name) {
    List<String> values = samples.get(name);
    if (values == null) {
      throw new BenchDataException(
          file
              + " has no '"
              + name
              + "' sample: the run stopped before taking it, or the file was not written by"
              + " deploy/bench/sidecar-overhead");
    }
    return values.get(values.size() - 1);
  }

  /** The sample's text read as a number (a time in microseconds, say). */
  double number(String name) {
    return CNumbers.parse(text(name));
  }

  /** Every text of a sample taken repeatedly, in order; empty when never taken. */
  List<String> all(String name) {
    return samples.getOrDefault(name, List.of());
  }
}
