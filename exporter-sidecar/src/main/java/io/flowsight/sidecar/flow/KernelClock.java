package io.flowsight.sidecar.flow;

import java.time.Instant;

/**
 * Converts the kernel's event timestamps ({@code bpf_ktime_get_ns()}: CLOCK_MONOTONIC in ns) to
 * wall-clock instants. On Linux, {@link System#nanoTime()} reads the same CLOCK_MONOTONIC, so the
 * offset between the two clocks is measured directly; {@link #resync()} re-measures it, which
 * follows NTP steps of the wall clock.
 */
public final class KernelClock {

  private volatile long wallMinusMonotonicNs;

  public KernelClock() {
    resync();
  }

  /** Re-measures the offset between the wall clock and CLOCK_MONOTONIC. */
  public void resync() {
    Instant now = Instant.now();
    long monotonic = System.nanoTime();
    wallMinusMonotonicNs = now.getEpochSecond() * 1_000_000_000L + now.getNano() - monotonic;
  }

  /** The wall-clock instant of a CLOCK_MONOTONIC timestamp in ns. */
  public Instant toInstant(long monotonicNs) {
    long epochNs = monotonicNs + wallMinusMonotonicNs;
    return Instant.ofEpochSecond(
        Math.floorDiv(epochNs, 1_000_000_000L), Math.floorMod(epochNs, 1_000_000_000L));
  }

  /** CLOCK_MONOTONIC now, in ns: the kernel's time base. */
  public long nowMonotonicNs() {
    return System.nanoTime();
  }
}
