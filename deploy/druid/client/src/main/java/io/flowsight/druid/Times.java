package io.flowsight.druid;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The times of a query: durations before now, ISO 8601 instants, UTC text. */
public final class Times {

  private static final Pattern SHORT = Pattern.compile("^(\\d+)\\s*(s|m|h|d|w)$");
  private static final Pattern ISO =
      Pattern.compile("^P(?:(\\d+)W)?(?:(\\d+)D)?(?:T(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+)S)?)?$");
  private static final DateTimeFormatter MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private Times() {}

  /**
   * {@code 90m}, {@code 6h}, {@code 2d}, {@code 1w}, {@code PT6H}, {@code P1D}, {@code PT1M30S}:
   * seconds.
   *
   * @throws IllegalArgumentException with the forms it takes
   */
  public static long durationSeconds(String text) {
    String t = text.strip();
    Matcher m = SHORT.matcher(t.toLowerCase(Locale.ROOT));
    if (m.matches()) {
      long unit =
          switch (m.group(2)) {
            case "s" -> 1;
            case "m" -> 60;
            case "h" -> 3600;
            case "d" -> 86400;
            default -> 604800;
          };
      return Long.parseLong(m.group(1)) * unit;
    }
    String upper = t.toUpperCase(Locale.ROOT);
    m = ISO.matcher(upper);
    if (m.matches() && !upper.equals("P") && !upper.equals("PT")) {
      long[] unit = {604800, 86400, 3600, 60, 1};
      long seconds = 0;
      for (int i = 0; i < unit.length; i++) {
        if (m.group(i + 1) != null) {
          seconds += Long.parseLong(m.group(i + 1)) * unit[i];
        }
      }
      return seconds;
    }
    throw new IllegalArgumentException(
        "not a duration: '" + text + "' (use e.g. 30m, 6h, 2d, PT6H, P1D)");
  }

  /**
   * A duration before {@code nowMs}, or an ISO 8601 instant (UTC unless it says otherwise): epoch
   * ms.
   */
  public static long parseTime(String text, long nowMs) {
    try {
      return nowMs - durationSeconds(text) * 1000;
    } catch (IllegalArgumentException notADuration) {
      // an instant, then
    }
    String t = text.strip();
    try {
      return OffsetDateTime.parse(t).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      // no offset: UTC
    }
    try {
      return LocalDateTime.parse(t.replace(' ', 'T')).toInstant(ZoneOffset.UTC).toEpochMilli();
    } catch (DateTimeParseException e) {
      // a date alone
    }
    try {
      return java.time.LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "not a duration or an ISO 8601 time: '"
              + text
              + "' (use e.g. 1h, P7D, 2026-01-31T12:00Z)");
    }
  }

  /** Epoch ms as {@code 2026-01-31T12:00:00.000Z}, as Druid writes its timestamps. */
  public static String iso(long ms) {
    return MILLIS.format(Instant.ofEpochMilli(ms));
  }

  /** Druid's timestamp text to epoch ms. */
  public static long isoToMs(String text) {
    return OffsetDateTime.parse(text).toInstant().toEpochMilli();
  }

  /**
   * The length of a bucket of {@code granularity} in ms: fixed periods only (ISO weeks and longer
   * are calendar periods in Druid, not fixed lengths).
   */
  public static long bucketMs(String granularity) {
    String g = granularity.toUpperCase(Locale.ROOT);
    if (!g.matches("^PT(\\d+H)?(\\d+M)?(\\d+S)?$|^P\\d+D$") || g.equals("PT")) {
      throw new DruidException(
          "granularity '" + granularity + "': use a period like PT1M, PT5M, PT1H or P1D");
    }
    return durationSeconds(g) * 1000;
  }
}
