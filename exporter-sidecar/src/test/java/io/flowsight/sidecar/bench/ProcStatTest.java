package io.flowsight.sidecar.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcStatTest {

  /** A /proc/PID/stat line: utime 1040, stime 210, children's cutime 7 and cstime 3. */
  static final String STAT =
      "2238 (java) S 1 2238 2238 0 -1 4194560 1200 0 3 0 1040 210 7 3 20 0 24 0 5123 0 0";

  /** A stat line of a thread with {@code utime} and {@code stime} ticks. */
  static String stat(int tid, String name, int utime, int stime) {
    return tid
        + " ("
        + name
        + ") S 1 2238 2238 0 -1 4194560 1200 0 3 0 "
        + utime
        + " "
        + stime
        + " 0 0 20 0 24 0 5123 0 0";
  }

  @Test
  void shouldAddUserAndSystemTicksOfTheProcessButNotOfItsChildren() {
    assertThat(ProcStat.cpuTicks(STAT)).isEqualTo(1250);
  }

  @Test
  void shouldCountTheFieldsFromTheEndOfACommandNameWithBlanksAndParentheses() {
    String odd = "2400 (a (b) c) R 1 2238 2238 0 -1 4194560 1200 0 3 0 30 12 0 0 20 0 1 0 9";

    assertThat(ProcStat.cpuTicks(odd)).isEqualTo(42);
    assertThat(ProcStat.id(odd)).isEqualTo("2400");
    assertThat(ProcStat.name(odd)).isEqualTo("a_(b)_c");
    assertThat(ProcStat.name(STAT)).isEqualTo("java");
  }

  @Test
  void shouldReadAnEmptySampleOfAProcessThatWasGoneAsNoTicks() {
    assertThat(ProcStat.cpuTicks("")).isZero();
  }

  @Test
  void shouldCountAllButIdleAndIowaitAsBusyHostTicks() {
    double[] ticks = ProcStat.hostTicks("cpu  1000 5 1000 7500 500 20 30 0 0 0");

    assertThat(ticks).containsExactly(2055, 10055);
    assertThat(ProcStat.hostTicks("cpu0 1 2 3 4 5")).containsExactly(0, 0);
  }

  @Test
  void shouldReadTheKilobytesOfAStatusLine() {
    assertThat(ProcStat.statusKb("VmRSS:\t  175552 kB")).isEqualTo(175552);
    assertThat(ProcStat.statusKb("")).isZero();
  }
}
