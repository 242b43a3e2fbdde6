package io.flowsight.collector;

import io.flowsight.schemas.serde.SerdeException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * What the collector's {@code /health} says beyond Kafka Streams' state, from the failures of its
 * stream threads (each replaced by a new one):
 *
 * <ul>
 *   <li>a thread failing for the <b>same cause</b> more than {@value #MAX_REPLACEMENTS} times
 *       within {@link #WINDOW_MS} (5 minutes) is a loop no restart will end (a bug, a record the
 *       collector cannot get past): <b>DOWN</b> (503), naming the cause, until the loop has not
 *       recurred for a whole window;
 *   <li>a failure of the infrastructure (the schema registry or a broker unreachable, a request
 *       timed out) is not a fault of the collector and ends when the server is back:
 *       <b>DEGRADED</b> (still 200, so that an orchestrator does not restart an instance that
 *       cannot help it) for {@link #DEGRADED_MS} after the last such failure. It does not count
 *       towards DOWN.
 * </ul>
 *
 * A cause is the root exception's class and the place it was thrown (its first stack frame), so
 * that the same bug counts as one cause whatever record or offset its message names. Thread-safe;
 * times are epoch milliseconds passed in (the unit tests use plain numbers).
 */
public final class CollectorHealth {

  /** Replacements for one cause allowed within the window; one more is a loop. */
  public static final int MAX_REPLACEMENTS = 3;

  /** The sliding window over which replacements are counted: 5 minutes. */
  public static final long WINDOW_MS = 5 * 60_000L;

  /** How long an infrastructure failure keeps the collector DEGRADED: 1 minute. */
  public static final long DEGRADED_MS = 60_000L;

  /** Health as {@code /health} reports it. */
  public enum Status {
    UP,
    DEGRADED,
    DOWN
  }

  /** A verdict: the status and, unless UP, why. */
  public record Verdict(Status status, String reason) {}

  /**
   * One thread failure, classified: {@code cause} is what is counted (class and place), {@code
   * description} what is shown (with the message).
   */
  public record Failure(String cause, String description, boolean infrastructure) {}

  private final Map<String, Deque<Long>> replacements = new LinkedHashMap<>();
  private final Map<String, String> descriptions = new LinkedHashMap<>();
  private String lastInfrastructureFailure;
  private long lastInfrastructureFailureAt = Long.MIN_VALUE;

  /** Records that a stream thread failed with {@code failure} at {@code nowMs}. */
  public synchronized Failure threadFailed(Throwable failure, long nowMs) {
    Failure f = classify(failure);
    if (f.infrastructure()) {
      lastInfrastructureFailure = f.description();
      lastInfrastructureFailureAt = nowMs;
    } else {
      replacements.computeIfAbsent(f.cause(), c -> new ArrayDeque<>()).addLast(nowMs);
      descriptions.put(f.cause(), f.description());
    }
    return f;
  }

  /** The verdict at {@code nowMs}. */
  public synchronized Verdict verdict(long nowMs) {
    String loop = null;
    int loopCount = 0;
    for (var it = replacements.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      Deque<Long> times = e.getValue();
      while (!times.isEmpty() && times.peekFirst() <= nowMs - WINDOW_MS) {
        times.pollFirst();
      }
      if (times.isEmpty()) {
        it.remove();
        descriptions.remove(e.getKey());
      } else if (times.size() > MAX_REPLACEMENTS && times.size() > loopCount) {
        loop = e.getKey();
        loopCount = times.size();
      }
    }
    if (loop != null) {
      return new Verdict(
          Status.DOWN,
          "stream threads were replaced "
              + loopCount
              + " times in 5 minutes for the same cause: "
              + descriptions.get(loop));
    }
    if (lastInfrastructureFailure != null && nowMs - lastInfrastructureFailureAt < DEGRADED_MS) {
      return new Verdict(
          Status.DEGRADED,
          "waiting for the infrastructure (processing resumes by itself when it is back): "
              + lastInfrastructureFailure);
    }
    return new Verdict(Status.UP, null);
  }

  /** The cause of a failure, and whether it is the infrastructure's. */
  static Failure classify(Throwable failure) {
    Throwable root = failure;
    boolean infrastructure = false;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SerdeException s) {
        switch (s.reason()) {
          case REGISTRY_UNREACHABLE, REGISTRY_ERROR ->
              infrastructure = true; // the registry is down or answers errors
          default -> {
            // a record's or the configuration's fault
          }
        }
      }
      if (t instanceof TimeoutException || t instanceof RetriableException) {
        infrastructure = true; // a broker unreachable, a request timed out
      }
      root = t;
    }
    String where =
        root.getStackTrace().length == 0
            ? ""
            : " at "
                + root.getStackTrace()[0].getClassName()
                + "."
                + root.getStackTrace()[0].getMethodName()
                + ":"
                + root.getStackTrace()[0].getLineNumber();
    String message = root.getMessage() == null ? "" : ": " + shorten(root.getMessage());
    // The cause counted is the class and place only: the message may name a record or an offset.
    String cause = root.getClass().getName() + where;
    return new Failure(cause, cause + message, infrastructure);
  }

  private static String shorten(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "…";
  }
}
