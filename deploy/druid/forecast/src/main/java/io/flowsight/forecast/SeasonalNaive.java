package io.flowsight.forecast;

/**
 * The baseline every model must beat: each point is forecast by the point one season earlier (for
 * traffic with a weekly pattern, the same hour a week before). Its interval assumes the one-season
 * differences of the history are the errors, normally distributed.
 */
public final class SeasonalNaive {

  private SeasonalNaive() {}

  /**
   * @param history the series, oldest first, at least one season long
   * @param season the season in points (e.g. 168 for a week of hourly points)
   * @param horizon how many points to forecast
   */
  public static Forecast forecast(double[] history, int season, int horizon, double coverage) {
    if (history.length < season) {
      throw new IllegalArgumentException(
          "seasonal naive needs a season ("
              + season
              + " points) of history, got "
              + history.length);
    }
    double sumSquares = 0;
    int n = 0;
    for (int t = season; t < history.length; t++) {
      double e = history[t] - history[t - season];
      sumSquares += e * e;
      n++;
    }
    double sigma = n > 0 ? Math.sqrt(sumSquares / n) : 0;
    double z = Normal.quantile(0.5 + coverage / 2);
    double[] mean = new double[horizon];
    double[] lower = new double[horizon];
    double[] upper = new double[horizon];
    for (int h = 0; h < horizon; h++) {
      // h seasons back when the horizon passes a season: the last observed season repeats.
      int k = h / season + 1;
      mean[h] = history[history.length - k * season + h];
      double width = z * sigma * Math.sqrt(k);
      lower[h] = mean[h] - width;
      upper[h] = mean[h] + width;
    }
    return new Forecast(mean, lower, upper, coverage);
  }
}
