package io.flowsight.sidecar.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CNumbersTest {

  @Test
  void shouldRoundTheExactBinaryValueHalfToEvenAsPrintfDoes() {
    assertThat(CNumbers.fixed(0.25, 1)).isEqualTo("0.2"); // String.format: 0.3
    assertThat(CNumbers.fixed(152.5, 0)).isEqualTo("152");
    assertThat(CNumbers.fixed(153.5, 0)).isEqualTo("154");
    assertThat(CNumbers.fixed(2.25, 1)).isEqualTo("2.2");
    assertThat(CNumbers.fixed(0.45, 1)).isEqualTo("0.5"); // 0.45 is a little above in binary
    assertThat(CNumbers.fixed(3.8, 2)).isEqualTo("3.80");
    assertThat(CNumbers.fixed(24682.4999, 0)).isEqualTo("24682");
  }

  @Test
  void shouldKeepTheSignOfANegativeValueRoundedToZeroAndNameInfinities() {
    assertThat(CNumbers.fixed(-0.04, 1)).isEqualTo("-0.0");
    assertThat(CNumbers.fixed(-57.81, 1)).isEqualTo("-57.8");
    assertThat(CNumbers.fixed(1 / 0.0, 1)).isEqualTo("inf");
    assertThat(CNumbers.fixed(0 / 0.0, 1)).isEqualTo("-nan");
  }

  @Test
  void shouldReadTheLeadingNumberOfATextAndZeroForNone() {
    assertThat(CNumbers.parse("1000.0")).isEqualTo(1000.0);
    assertThat(CNumbers.parse("2.1E6")).isEqualTo(2_100_000.0);
    assertThat(CNumbers.parse("  -3.5")).isEqualTo(-3.5);
    assertThat(CNumbers.parse("12.3%")).isEqualTo(12.3);
    assertThat(CNumbers.parse("")).isZero();
    assertThat(CNumbers.parse("-")).isZero();
    assertThat(CNumbers.parse(null)).isZero();
  }

  @Test
  void shouldPrintANumberAsAwkPrintDoes() {
    assertThat(CNumbers.print(20.0)).isEqualTo("20");
    assertThat(CNumbers.print(20.000123)).isEqualTo("20.0001");
    assertThat(CNumbers.print(19.9985)).isEqualTo("19.9985");
    assertThat(CNumbers.print(1234567.5)).isEqualTo("1.23457e+06");
    assertThat(CNumbers.print(0.0000123)).isEqualTo("1.23e-05");
  }
}
