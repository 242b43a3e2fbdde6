package io.flowsight.sidecar.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The load generator's output ({@code gen-RATE-*.out}) and its final line {@code result
 * rate_target=1000 conns_per_s=1000.0 ... p50_us=153 ... cpu_us_per_conn=239.00}.
 */
final class GeneratorResult {

  private final List<String> lines;

  GeneratorResult(List<String> lines) {
    this.lines = List.copyOf(lines);
  }

  static GeneratorResult read(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new BenchDataException(
          file + " is missing: the load generator's output of this run (did the run finish?)");
    }
    return new GeneratorResult(Files.readAllLines(file));
  }

  /** A value of the result line as printed ("153", "1000.0"); empty when the line lacks it. */
  String value(String key) {
    Pattern pattern = Pattern.compile("^result .*\\b" + Pattern.quote(key) + "=([^ ]*).*");
    return lines.stream()
        .map(pattern::matcher)
        .filter(Matcher::matches)
        .map(m -> m.group(1))
        .collect(Collectors.joining("\n"));
  }
}
