package io.flowsight.sidecar.bench;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Numbers read and printed the way C's {@code strtod} and {@code printf} (and so awk) do, so that
 * the bench report prints the figures the shell version of the harness printed, digit for digit.
 *
 * <p>{@code printf("%.1f")} rounds the exact binary value half to even: 0.25 prints as 0.2 and
 * 152.5 as 152, where {@link String#format} would print 0.3 and 153. A text that is not a number
 * reads as 0, as awk reads it.
 */
final class CNumbers {

  /** The leading number of a text, as {@code strtod} reads it (decimal forms only). */
  private static final Pattern LEADING_NUMBER =
      Pattern.compile("^[ \\t\\n]*([+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)");

  private CNumbers() {}

  /** The number a text starts with; 0 when it starts with none (empty, "-", a word). */
  static double parse(String text) {
    if (text == null) {
      return 0;
    }
    Matcher m = LEADING_NUMBER.matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  /** {@code printf("%.<decimals>f", value)}: half to even on the exact binary value. */
  static String fixed(double value, int decimals) {
    if (Double.isNaN(value)) {
      return "-nan"; // what glibc prints for 0/0 on x86-64, whose default NaN has the sign bit set
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "inf" : "-inf";
    }
    BigDecimal rounded = new BigDecimal(value).setScale(decimals, RoundingMode.HALF_EVEN);
    String text = rounded.toPlainString();
    // C keeps the sign of a negative value that rounds to zero ("-0.0"); BigDecimal has no -0.
    boolean negative = value < 0 || Double.doubleToRawLongBits(value) == Long.MIN_VALUE;
    return negative && rounded.signum() == 0 ? "-" + text : text;
  }

  /** {@code printf("%.0f")} read back: a whole number, half to even. */
  static double whole(double value) {
    return Math.rint(value);
  }

  /**
   * A number as awk's {@code print} writes it: a whole number in full, anything else as {@code
   * printf("%.6g")}.
   */
  static String print(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return fixed(value, 0);
    }
    if (value == Math.rint(value) && Math.abs(value) < 0x1p63) {
      return Long.toString((long) value);
    }
    BigDecimal rounded = new BigDecimal(value).round(new MathContext(6, RoundingMode.HALF_EVEN));
    int exponent = rounded.precision() - rounded.scale() - 1;
    if (exponent < -4 || exponent >= 6) {
      String mantissa = strip(rounded.movePointLeft(exponent).toPlainString());
      return String.format("%se%s%02d", mantissa, exponent < 0 ? "-" : "+", Math.abs(exponent));
    }
    return strip(rounded.setScale(5 - exponent, RoundingMode.HALF_EVEN).toPlainString());
  }

  /** %g drops trailing zeros of the fraction, and the point when nothing is left after it. */
  private static String strip(String number) {
    if (number.indexOf('.') < 0) {
      return number;
    }
    String s = number.replaceAll("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }
}
