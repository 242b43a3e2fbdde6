package io.flowsight.forecast;

import org.apache.commons.math3.analysis.MultivariateFunction;
import org.apache.commons.math3.exception.TooManyEvaluationsException;
import org.apache.commons.math3.optim.InitialGuess;
import org.apache.commons.math3.optim.MaxEval;
import org.apache.commons.math3.optim.PointValuePair;
import org.apache.commons.math3.optim.SimpleBounds;
import org.apache.commons.math3.optim.nonlinear.scalar.GoalType;
import org.apache.commons.math3.optim.nonlinear.scalar.ObjectiveFunction;
import org.apache.commons.math3.optim.nonlinear.scalar.noderiv.BOBYQAOptimizer;

/**
 * Holt-Winters exponential smoothing with a damped additive trend and two additive seasons (Taylor,
 * "Short-term electricity demand forecasting using double seasonal exponential smoothing", 2003):
 * traffic between two applications has a daily cycle and a weekly one (weekends), and a single
 * season cannot hold both. Written in the error-correction form of the ETS(A,Ad,A) state space
 * model (Hyndman et al., "Forecasting with Exponential Smoothing", 2008), which also gives the
 * prediction intervals.
 *
 * <p>For one-step error {@code e = y - (level + phi * trend + daily + weekly)}:
 *
 * <pre>
 *   level  += phi * trend + alpha * e
 *   trend   = phi * trend + beta * e
 *   daily   = daily  (one day earlier)  + delta * e
 *   weekly  = weekly (one week earlier) + omega * e
 * </pre>
 *
 * The five parameters are those that minimise the one-step squared errors over the history
 * (commons-math's BOBYQA, bounded), after a week of burn-in. The state starts from the first two
 * weeks: the line through their means gives the level and the trend; with that line taken out of
 * the first week, each point's mean deviation within its day is the daily season, and what is left
 * of each point of that week the weekly season.
 *
 * <p>Why written here: the Java libraries with seasonal models either fit one season only or are
 * unmaintained; this model is about 200 lines, and its tests compare it with hand-computed steps.
 */
public final class DoubleSeasonalHoltWinters {

  /** The smoothing parameters; {@code beta <= alpha} as in the ETS parametrisation. */
  public record Parameters(double alpha, double beta, double phi, double delta, double omega) {}

  /**
   * A model fitted to a history, ready to forecast from its end.
   *
   * @param parameters what was fitted
   * @param sigma the one-step errors' standard deviation after burn-in
   * @param level the level after the last point
   * @param trend the trend after the last point
   * @param daily the daily season, indexed by point modulo {@code daily.length}
   * @param weekly the weekly season, indexed by point modulo {@code weekly.length}
   * @param length the number of points fitted (the next one has index {@code length})
   */
  public record Fit(
      Parameters parameters,
      double sigma,
      double level,
      double trend,
      double[] daily,
      double[] weekly,
      int length) {

    /**
     * The next {@code horizon} points and their intervals. Traffic is never negative: the means and
     * the lower bounds stop at 0.
     */
    public Forecast forecast(int horizon, double coverage) {
      Parameters p = parameters;
      double z = Normal.quantile(0.5 + coverage / 2);
      double[] mean = new double[horizon];
      double[] lower = new double[horizon];
      double[] upper = new double[horizon];
      double dampedSum = 0;
      double phiPower = 1;
      double variance = 0; // sum of c_j^2 for j < h
      for (int h = 1; h <= horizon; h++) {
        phiPower *= p.phi();
        dampedSum += phiPower;
        int t = length + h - 1;
        double point =
            level + dampedSum * trend + daily[t % daily.length] + weekly[t % weekly.length];
        double width = z * sigma * Math.sqrt(1 + variance);
        mean[h - 1] = Math.max(0, point);
        lower[h - 1] = Math.max(0, point - width);
        upper[h - 1] = Math.max(0, point + width);
        // c_h: how much of an error h steps back is still in the forecast.
        double c =
            p.alpha()
                + p.beta() * dampedSum
                + (h % daily.length == 0 ? p.delta() : 0)
                + (h % weekly.length == 0 ? p.omega() : 0);
        variance += c * c;
      }
      return new Forecast(mean, lower, upper, coverage);
    }
  }

  private static final int MAX_EVALUATIONS = 3000;

  private final int day;
  private final int week;

  /**
   * @param day points per day (24 for hourly points)
   * @param week points per week, a whole number of days (168 for hourly points)
   */
  public DoubleSeasonalHoltWinters(int day, int week) {
    if (day < 2 || week < 2 * day || week % day != 0) {
      throw new IllegalArgumentException(
          "a week must be a whole number (at least 2) of days: day " + day + ", week " + week);
    }
    this.day = day;
    this.week = week;
  }

  /** The fewest points a fit needs: the first week initialises, the second one is fitted. */
  public int minimumHistory() {
    return 2 * week;
  }

  /** Fits the parameters to {@code history} (oldest first, no gaps; missing hours as 0). */
  public Fit fit(double[] history) {
    if (history.length < minimumHistory()) {
      throw new IllegalArgumentException(
          "the model needs two weeks ("
              + minimumHistory()
              + " points) of history, got "
              + history.length);
    }
    MultivariateFunction sse = point -> run(history, parameters(point)).sumOfSquares;
    // alpha, beta as a share of alpha, phi, delta, omega.
    double[] lowerBounds = {0.001, 0, 0.8, 0, 0};
    double[] upperBounds = {0.999, 0.999, 0.98, 0.999, 0.999};
    double[] start = {0.1, 0.1, 0.9, 0.1, 0.1};
    double[] best = start;
    try {
      PointValuePair optimum =
          new BOBYQAOptimizer(2 * start.length + 1)
              .optimize(
                  new MaxEval(MAX_EVALUATIONS),
                  new ObjectiveFunction(sse),
                  GoalType.MINIMIZE,
                  new InitialGuess(start),
                  new SimpleBounds(lowerBounds, upperBounds));
      best = optimum.getPoint();
    } catch (TooManyEvaluationsException e) {
      // Keeps the start: a fit that did not converge is still a smoothing, only not the best one.
    }
    return fit(history, parameters(best));
  }

  /** The state after {@code history} with given parameters (no fitting). */
  public Fit fit(double[] history, Parameters parameters) {
    if (history.length < minimumHistory()) {
      throw new IllegalArgumentException(
          "the model needs two weeks (" + minimumHistory() + " points) of history");
    }
    Run run = run(history, parameters);
    double sigma = Math.sqrt(run.sumOfSquares / (history.length - week));
    return new Fit(parameters, sigma, run.level, run.trend, run.daily, run.weekly, history.length);
  }

  private static Parameters parameters(double[] point) {
    return new Parameters(point[0], point[0] * point[1], point[2], point[3], point[4]);
  }

  private record Run(
      double sumOfSquares, double level, double trend, double[] daily, double[] weekly) {}

  /** Filters the whole history; squared one-step errors are summed after the first week. */
  private Run run(double[] y, Parameters p) {
    // The trend from the first two weeks' means, the level at the first point on that line; the
    // seasons from the first week with the line taken out (else the season would hold a week of
    // trend as a ramp, and jump at every week's end).
    double firstWeek = 0;
    double secondWeek = 0;
    for (int t = 0; t < week; t++) {
      firstWeek += y[t];
      secondWeek += y[week + t];
    }
    firstWeek /= week;
    secondWeek /= week;
    double trend = (secondWeek - firstWeek) / week;
    double start = firstWeek - trend * (week - 1) / 2.0;
    double[] detrended = new double[week];
    for (int t = 0; t < week; t++) {
      detrended[t] = y[t] - (start + trend * t);
    }
    double[] daily = new double[day];
    int days = week / day;
    for (int d = 0; d < days; d++) {
      double dayMean = 0;
      for (int h = 0; h < day; h++) {
        dayMean += detrended[d * day + h];
      }
      dayMean /= day;
      for (int h = 0; h < day; h++) {
        daily[h] += (detrended[d * day + h] - dayMean) / days;
      }
    }
    double[] weekly = new double[week];
    for (int t = 0; t < week; t++) {
      weekly[t] = detrended[t] - daily[t % day];
    }
    // The state "before" the first point: level + phi * trend is the line at t = 0.
    double level = start - p.phi() * trend;
    double sum = 0;
    for (int t = 0; t < y.length; t++) {
      int d = t % day;
      int w = t % week;
      double e = y[t] - (level + p.phi() * trend + daily[d] + weekly[w]);
      level += p.phi() * trend + p.alpha() * e;
      trend = p.phi() * trend + p.beta() * e;
      daily[d] += p.delta() * e;
      weekly[w] += p.omega() * e;
      if (t >= week) {
        sum += e * e;
      }
    }
    return new Run(sum, level, trend, daily, weekly);
  }
}
