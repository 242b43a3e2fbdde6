package io.flowsight.sidecar.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Finds the cgroup2 mount in a {@code /proc/<pid>/mountinfo} (proc(5)). */
public final class CgroupMounts {

  /** This process's mounts. */
  public static final Path SELF = Path.of("/proc/self/mountinfo");

  private CgroupMounts() {}

  /**
   * The mount point of the first {@code cgroup2} mount of {@code mountinfo}, empty when there is
   * none (a host with cgroup v1 only) or the file cannot be read.
   */
  public static Optional<Path> firstCgroup2(Path mountinfo) {
    List<String> lines;
    try {
      lines = Files.readAllLines(mountinfo);
    } catch (IOException e) {
      return Optional.empty();
    }
    return firstCgroup2(lines);
  }

  /**
   * As {@link #firstCgroup2(Path)} over the file's lines: {@code id parent major:minor root
   * mount-point options [optional fields...] - fstype source super-options}, the mount point with
   * space, tab, newline and backslash escaped as octal ({@code \040}).
   */
  static Optional<Path> firstCgroup2(List<String> lines) {
    for (String line : lines) {
      String[] fields = line.split(" ");
      int separator = -1;
      for (int i = 6; i < fields.length; i++) {
        if (fields[i].equals("-")) {
          separator = i;
          break;
        }
      }
      if (separator < 0 || separator + 1 >= fields.length || fields.length < 5) {
        continue;
      }
      if (fields[separator + 1].equals("cgroup2")) {
        return Optional.of(Path.of(unescape(fields[4])));
      }
    }
    return Optional.empty();
  }

  private static String unescape(String field) {
    StringBuilder out = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && isOctal(field, i + 1)) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isOctal(String s, int from) {
    if (from + 3 > s.length()) {
      return false;
    }
    for (int i = from; i < from + 3; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '7') {
        return false;
      }
    }
    return true;
  }
}
