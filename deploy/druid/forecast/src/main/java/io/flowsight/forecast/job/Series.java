package io.flowsight.forecast.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One series, dense: {@code values[i]} is the traffic of the step starting at {@code startMillis +
 * i * step}. A step without traffic is 0, not missing: Druid returns no row for it.
 *
 * @param startMillis the first step's start, epoch milliseconds UTC
 */
public record Series(SeriesKey key, long startMillis, Duration step, double[] values) {

  /** The start of the step after the last one: where forecasts begin. */
  public long endMillis() {
    return startMillis + values.length * step.toMillis();
  }

  /**
   * The series from its first step with traffic: steps before a pair first talked are no history of
   * it (a pair seen for a day has a day of history, whatever range was read). All zero: itself.
   */
  public Series fromFirstTraffic() {
    int first = 0;
    while (first < values.length && values[first] == 0) {
      first++;
    }
    if (first == 0 || first == values.length) {
      return this;
    }
    return new Series(
        key,
        startMillis + first * step.toMillis(),
        step,
        Arrays.copyOfRange(values, first, values.length));
  }

  /** One row of a query: a step's start, the series it belongs to and its value. */
  public record Point(long timeMillis, SeriesKey key, double value) {}

  /**
   * Dense series over {@code [since, until)} from query rows, in the order their keys first appear.
   * Rows outside the range or not on a step boundary are refused: they would mean the query and the
   * job disagree on the steps.
   */
  public static List<Series> assemble(
      List<Point> points, long sinceMillis, long untilMillis, Duration step) {
    long stepMillis = step.toMillis();
    if ((untilMillis - sinceMillis) % stepMillis != 0) {
      throw new IllegalArgumentException("the range is not a whole number of steps");
    }
    int length = (int) ((untilMillis - sinceMillis) / stepMillis);
    Map<SeriesKey, double[]> values = new LinkedHashMap<>();
    for (Point p : points) {
      long offset = p.timeMillis() - sinceMillis;
      if (offset < 0 || p.timeMillis() >= untilMillis || offset % stepMillis != 0) {
        throw new IllegalArgumentException(
            "a row at "
                + p.timeMillis()
                + " is not on a step of "
                + step
                + " in ["
                + sinceMillis
                + ", "
                + untilMillis
                + ")");
      }
      values.computeIfAbsent(p.key(), k -> new double[length])[(int) (offset / stepMillis)] +=
          p.value();
    }
    List<Series> out = new ArrayList<>(values.size());
    values.forEach((key, v) -> out.add(new Series(key, sinceMillis, step, v)));
    return out;
  }
}
