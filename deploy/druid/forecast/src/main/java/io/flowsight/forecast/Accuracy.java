package io.flowsight.forecast;

/**
 * Forecast accuracy measures.
 *
 * <p>MASE (mean absolute scaled error, Hyndman and Koehler 2006): the forecast's mean absolute
 * error divided by the mean absolute error of the seasonal-naive forecast within the training
 * history. Below 1, the forecast beats what repeating the last season would have done in sample;
 * comparable across series of any scale (bytes of a busy pair and of a quiet one).
 */
public final class Accuracy {

  private Accuracy() {}

  /**
   * @param history the training series the scale comes from, oldest first
   * @param season the seasonal-naive lag of the scale, in points
   * @param actual what happened after the history
   * @param forecast the forecast of it (at least as long as actual)
   */
  public static double mase(double[] history, int season, double[] actual, double[] forecast) {
    double scale = 0;
    int n = 0;
    for (int t = season; t < history.length; t++) {
      scale += Math.abs(history[t] - history[t - season]);
      n++;
    }
    if (n == 0 || scale == 0) {
      throw new IllegalArgumentException(
          "MASE needs more than a season of history that is not constant");
    }
    scale /= n;
    return meanAbsoluteError(actual, forecast) / scale;
  }

  public static double meanAbsoluteError(double[] actual, double[] forecast) {
    double sum = 0;
    for (int i = 0; i < actual.length; i++) {
      sum += Math.abs(actual[i] - forecast[i]);
    }
    return sum / actual.length;
  }

  /** The share of {@code actual} inside the forecast's intervals. */
  public static double coverage(double[] actual, Forecast forecast) {
    int inside = 0;
    for (int i = 0; i < actual.length; i++) {
      if (actual[i] >= forecast.lower()[i] && actual[i] <= forecast.upper()[i]) {
        inside++;
      }
    }
    return (double) inside / actual.length;
  }
}
