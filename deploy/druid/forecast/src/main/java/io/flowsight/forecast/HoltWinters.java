package io.flowsight.forecast;

import java.util.Arrays;
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
 * Holt-Winters exponential smoothing with a damped additive trend and up to two additive seasons
 * (Taylor, "Short-term electricity demand forecasting using double seasonal exponential smoothing",
 * 2003): traffic between two applications has a daily cycle and a weekly one (weekends), and a
 * single season cannot hold both. With less history than two weeks, the daily season alone ({@link
 * #daily}), or none ({@link #trendOnly}). Written in the error-correction form of the ETS(A,Ad,A)
 * state space model (Hyndman et al., "Forecasting with Exponential Smoothing", 2008), which also
 * gives the prediction intervals.
 *
 * <p>For one-step error {@code e = y - (level + phi * trend + season_1 + season_2)}:
 *
 * <pre>
 *   level    += phi * trend + alpha * e
 *   trend     = phi * trend + beta * e
 *   season_i  = season_i (one of its cycles earlier) + gamma_i * e
 * </pre>
 *
 * The parameters are those that minimise the one-step squared errors over the history
 * (commons-math's BOBYQA, bounded), after one cycle of the longest season of burn-in. The state
 * starts from the first two such cycles: the line through their means gives the level and the
 * trend; with that line taken out of the first cycle, each point's mean deviation within the
 * shorter season's cycles is that season, and what is left of each point the longer one.
 *
 * <p>Why written here: the Java libraries with seasonal models either fit one season only or are
 * unmaintained; the model is short, and its tests compare it with hand-computed steps.
 */
public final class HoltWinters {

  /** Points of the burn-in and of each initial mean for a model without seasons. */
  static final int TREND_ONLY_WINDOW = 6;

  /**
   * The smoothing parameters; {@code beta <= alpha} as in the ETS parametrisation, one {@code
   * gamma} per season.
   */
  public record Parameters(double alpha, double beta, double phi, double[] gammas) {}

  /**
   * A model fitted to a history, ready to forecast from its end.
   *
   * @param parameters what was fitted
   * @param sigma the one-step errors' standard deviation after burn-in
   * @param level the level after the last point
   * @param trend the trend after the last point
   * @param seasons each season's values, indexed by point modulo its length
   * @param length the number of points fitted (the next one has index {@code length})
   */
  public record Fit(
      Parameters parameters,
      double sigma,
      double level,
      double trend,
      double[][] seasons,
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
        double point = level + dampedSum * trend;
        for (double[] season : seasons) {
          point += season[t % season.length];
        }
        double width = z * sigma * Math.sqrt(1 + variance);
        mean[h - 1] = Math.max(0, point);
        lower[h - 1] = Math.max(0, point - width);
        upper[h - 1] = Math.max(0, point + width);
        // c_h: how much of an error h steps back is still in the forecast.
        double c = p.alpha() + p.beta() * dampedSum;
        for (int i = 0; i < seasons.length; i++) {
          c += h % seasons[i].length == 0 ? p.gammas()[i] : 0;
        }
        variance += c * c;
      }
      return new Forecast(mean, lower, upper, coverage);
    }
  }

  private static final int MAX_EVALUATIONS = 3000;

  private final int[] seasons;
  private final int window;

  private HoltWinters(int... seasons) {
    this.seasons = seasons;
    this.window = seasons.length == 0 ? TREND_ONLY_WINDOW : seasons[seasons.length - 1];
  }

  /**
   * Daily and weekly seasons.
   *
   * @param day points per day (24 for hourly points)
   * @param week points per week, a whole number of days (168 for hourly points)
   */
  public static HoltWinters dailyAndWeekly(int day, int week) {
    if (day < 2 || week < 2 * day || week % day != 0) {
      throw new IllegalArgumentException(
          "a week must be a whole number (at least 2) of days: day " + day + ", week " + week);
    }
    return new HoltWinters(day, week);
  }

  /** The daily season only. */
  public static HoltWinters daily(int day) {
    if (day < 2) {
      throw new IllegalArgumentException("a day must hold at least 2 points: " + day);
    }
    return new HoltWinters(day);
  }

  /** No season: a damped trend (Holt's method), for short histories. */
  public static HoltWinters trendOnly() {
    return new HoltWinters();
  }

  /** The fewest points a fit needs: two cycles of the longest season. */
  public int minimumHistory() {
    return 2 * window;
  }

  /** A name for the output, e.g. {@code holt-winters-daily-weekly}. */
  public String name() {
    return switch (seasons.length) {
      case 0 -> "damped-holt";
      case 1 -> "holt-winters-daily";
      default -> "holt-winters-daily-weekly";
    };
  }

  /** Fits the parameters to {@code history} (oldest first, no gaps; steps without traffic 0). */
  public Fit fit(double[] history) {
    requireHistory(history);
    int dimensions = 3 + seasons.length;
    MultivariateFunction sse = point -> run(history, parameters(point)).sumOfSquares;
    // alpha, beta as a share of alpha, phi, then one gamma per season.
    double[] lowerBounds = new double[dimensions];
    double[] upperBounds = new double[dimensions];
    double[] start = new double[dimensions];
    Arrays.fill(upperBounds, 0.999);
    Arrays.fill(start, 0.1);
    lowerBounds[0] = 0.001;
    lowerBounds[2] = 0.8;
    upperBounds[2] = 0.98;
    start[2] = 0.9;
    double[] best = start;
    try {
      PointValuePair optimum =
          new BOBYQAOptimizer(2 * dimensions + 1)
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
    requireHistory(history);
    if (parameters.gammas().length != seasons.length) {
      throw new IllegalArgumentException(
          "one gamma per season: " + seasons.length + " seasons, " + parameters.gammas().length);
    }
    Run run = run(history, parameters);
    double sigma = Math.sqrt(run.sumOfSquares / (history.length - window));
    return new Fit(parameters, sigma, run.level, run.trend, run.seasons, history.length);
  }

  private void requireHistory(double[] history) {
    if (history.length < minimumHistory()) {
      throw new IllegalArgumentException(
          name()
              + " needs "
              + minimumHistory()
              + " points of history (two cycles of its longest season), got "
              + history.length);
    }
  }

  private static Parameters parameters(double[] point) {
    return new Parameters(
        point[0], point[0] * point[1], point[2], Arrays.copyOfRange(point, 3, point.length));
  }

  private record Run(double sumOfSquares, double level, double trend, double[][] seasons) {}

  /** Filters the whole history; squared one-step errors are summed after the first cycle. */
  private Run run(double[] y, Parameters p) {
    // The trend from the first two cycles' means, the level at the first point on that line; the
    // seasons from the first cycle with the line taken out (else a season would hold a cycle of
    // trend as a ramp, and jump at every cycle's end).
    double first = 0;
    double second = 0;
    for (int t = 0; t < window; t++) {
      first += y[t];
      second += y[window + t];
    }
    first /= window;
    second /= window;
    double trend = (second - first) / window;
    double start = first - trend * (window - 1) / 2.0;
    double[] rest = new double[window];
    for (int t = 0; t < window; t++) {
      rest[t] = y[t] - (start + trend * t);
    }
    double[][] state = new double[seasons.length][];
    for (int i = 0; i < seasons.length; i++) {
      // Shorter season first: each of its phases' mean over the cycles within the window, taken
      // out of what is left for the next one (cycles are centred on their own means).
      int length = seasons[i];
      double[] season = new double[length];
      int cycles = window / length;
      for (int c = 0; c < cycles; c++) {
        double cycleMean = 0;
        for (int j = 0; j < length; j++) {
          cycleMean += rest[c * length + j];
        }
        cycleMean /= length;
        for (int j = 0; j < length; j++) {
          season[j] += (rest[c * length + j] - (i == seasons.length - 1 ? 0 : cycleMean)) / cycles;
        }
      }
      for (int t = 0; t < window; t++) {
        rest[t] -= season[t % length];
      }
      state[i] = season;
    }
    // The state "before" the first point: level + phi * trend is the line at t = 0.
    double level = start - p.phi() * trend;
    double sum = 0;
    for (int t = 0; t < y.length; t++) {
      double predicted = level + p.phi() * trend;
      for (double[] season : state) {
        predicted += season[t % season.length];
      }
      double e = y[t] - predicted;
      level += p.phi() * trend + p.alpha() * e;
      trend = p.phi() * trend + p.beta() * e;
      for (int i = 0; i < state.length; i++) {
        state[i][t % state[i].length] += p.gammas()[i] * e;
      }
      if (t >= window) {
        sum += e * e;
      }
    }
    return new Run(sum, level, trend, state);
  }
}
