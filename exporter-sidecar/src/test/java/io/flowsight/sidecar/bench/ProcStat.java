package io.flowsight.sidecar.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the lines the harness copies from {@code /proc}: CPU time in clock ticks (USER_HZ). */
final class ProcStat {

  /** Where the command name of a {@code /proc/<pid>/stat} line ends: the last ") ". */
  private static final Pattern COMMAND_END = Pattern.compile("\\) [^)]*$");

  private ProcStat() {}

  /**
   * utime + stime, in clock ticks, of a {@code /proc/<pid>/stat} (or {@code task/<tid>/stat}) line;
   * 0 for an empty line (the process was gone). The command name may hold spaces and parentheses,
   * so the fields are counted from after its last ") ": utime and stime are the 12th and 13th.
   */
  static double cpuTicks(String statLine) {
    int end = statLine.lastIndexOf(") ");
    String[] f = fields(end < 0 ? statLine : statLine.substring(end + 2));
    return field(f, 11) + field(f, 12);
  }

  /** The thread (or process) id of a {@code /proc/<pid>/task/<tid>/stat} line: its first field. */
  static String id(String statLine) {
    String[] f = fields(statLine);
    return f.length == 0 ? "" : f[0];
  }

  /** The command name of a stat line, blanks as "_" so that it stays one word in a report line. */
  static String name(String statLine) {
    String name = statLine;
    int open = name.indexOf('(');
    if (open >= 0) {
      name = name.substring(open + 1);
    }
    Matcher end = COMMAND_END.matcher(name);
    if (end.find()) {
      name = name.substring(0, end.start());
    }
    return name.replace(' ', '_');
  }

  /**
   * The busy and total clock ticks of all CPUs from the "cpu" line of {@code /proc/stat}: total is
   * the sum of every field, busy all but idle and iowait (the 4th and 5th).
   */
  static double[] hostTicks(String cpuLine) {
    String[] f = fields(cpuLine);
    if (f.length == 0 || !f[0].equals("cpu")) {
      return new double[] {0, 0};
    }
    double total = 0;
    for (int i = 1; i < f.length; i++) {
      total += CNumbers.parse(f[i]);
    }
    return new double[] {total - field(f, 4) - field(f, 5), total};
  }

  /** The kB figure of a {@code /proc/<pid>/status} line such as "VmRSS: 175552 kB"; 0 if none. */
  static double statusKb(String statusLine) {
    String[] f = fields(statusLine);
    return field(f, 1);
  }

  /** Blank-separated fields, leading blanks skipped (awk's default splitting). */
  static String[] fields(String line) {
    String trimmed = line.strip();
    return trimmed.isEmpty() ? new String[0] : trimmed.split("[ \\t]+");
  }

  private static double field(String[] f, int index) {
    return index < f.length ? CNumbers.parse(f[index]) : 0;
  }
}
