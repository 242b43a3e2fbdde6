package io.flowsight.forecast;

/**
 * Forecasts of the next {@code mean.length} points of a series, with a prediction interval around
 * each: index 0 is the point right after the last one the model saw.
 *
 * @param mean the point forecasts
 * @param lower the interval's lower bounds (same length)
 * @param upper the interval's upper bounds (same length)
 * @param coverage the interval's nominal coverage, e.g. 0.95
 */
public record Forecast(double[] mean, double[] lower, double[] upper, double coverage) {

  public Forecast {
    if (lower.length != mean.length || upper.length != mean.length) {
      throw new IllegalArgumentException("mean, lower and upper differ in length");
    }
  }

  public int horizon() {
    return mean.length;
  }
}
