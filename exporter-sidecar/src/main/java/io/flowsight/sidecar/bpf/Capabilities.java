package io.flowsight.sidecar.bpf;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;

/** Effective capabilities of this process, from /proc/self/status (no libcap needed). */
final class Capabilities {

  static final int CAP_SYS_ADMIN = 21;
  static final int CAP_PERFMON = 38;
  static final int CAP_BPF = 39;

  private Capabilities() {}

  /** Whether this process may load tracing BPF programs: CAP_BPF + CAP_PERFMON, or SYS_ADMIN. */
  static boolean canLoadBpf() {
    BigInteger eff = effective();
    return eff.testBit(CAP_SYS_ADMIN) || (eff.testBit(CAP_BPF) && eff.testBit(CAP_PERFMON));
  }

  static BigInteger effective() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          return new BigInteger(line.substring("CapEff:".length()).trim(), 16);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // unknown: report none
    }
    return BigInteger.ZERO;
  }
}
