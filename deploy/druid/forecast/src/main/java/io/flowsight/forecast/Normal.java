package io.flowsight.forecast;

import org.apache.commons.math3.distribution.NormalDistribution;

/** The standard normal distribution's quantiles, for prediction intervals. */
final class Normal {

  private static final NormalDistribution STANDARD = new NormalDistribution(null, 0, 1);

  private Normal() {}

  static double quantile(double p) {
    return STANDARD.inverseCumulativeProbability(p);
  }
}
