package io.flowsight.forecast.backtest;

import java.util.Random;

/**
 * A traffic series with a known shape, for backtests: bytes per point between two applications,
 * with a slow upward trend, a daily cycle (quiet nights, a business-hours peak at 14:00), a weekly
 * one (weekend peaks at 40 % of weekday ones) and Gaussian noise. The same seed gives the same
 * series.
 */
public final class SyntheticTraffic {

  private SyntheticTraffic() {}

  /**
   * @param pointsPerDay points per day (24: hourly)
   * @param days how many days, starting on a Monday at 00:00
   * @param noise the noise's standard deviation, in the series' units (the weekday peak is 1600)
   */
  public static double[] series(int pointsPerDay, int days, double noise, long seed) {
    Random random = new Random(seed);
    double[] y = new double[pointsPerDay * days];
    for (int t = 0; t < y.length; t++) {
      double hour = 24.0 * (t % pointsPerDay) / pointsPerDay;
      int dayOfWeek = (t / pointsPerDay) % 7; // 0 Monday ... 6 Sunday
      double peak = dayOfWeek >= 5 ? 0.4 : 1.0;
      double business = 1000 * Math.exp(-Math.pow(hour - 14, 2) / (2 * 3.0 * 3.0));
      double night = -150 * Math.exp(-Math.pow(Math.min(hour, 24 - hour) - 3, 2) / 8.0);
      double trend = 0.3 * t * 24.0 / pointsPerDay; // per hour, whatever the step
      double value = 600 + trend + night + peak * business + noise * random.nextGaussian();
      y[t] = Math.max(0, value);
    }
    return y;
  }
}
