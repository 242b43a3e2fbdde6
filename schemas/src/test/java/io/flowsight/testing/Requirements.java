package io.flowsight.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Checks for what a test needs from its environment (root, the kernel's BPF, a broker). On a
 * developer's laptop a missing requirement skips the test with the reason; in CI (environment
 * variable {@code CI=true}) it fails it, since a skipped check in CI is a check that did not run.
 */
public final class Requirements {

  private Requirements() {}

  /** True when running under CI ({@code CI=true}). */
  public static boolean inCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /** Skips (laptop) or fails (CI) the current test unless {@code met}. */
  public static void require(boolean met, String whatIsMissing) {
    if (met) {
      return;
    }
    if (inCi()) {
      Assertions.fail("required in CI but missing: " + whatIsMissing);
    }
    Assumptions.abort("skipped: " + whatIsMissing + " (in CI this fails)");
  }

  /** Requires that the JVM runs as root (uid 0). */
  public static void requireRoot() {
    require("root".equals(System.getProperty("user.name")), "this test must run as root (uid 0)");
  }
}
