package io.flowsight.collector;

import io.flowsight.enrichment.ownership.HistoryPolicy;
import io.flowsight.settings.Settings;
import java.time.Duration;
import java.util.Objects;

/**
 * What the topology does, as one immutable value (the command line's {@code CollectorConfig} makes
 * it; tests make their own).
 *
 * @param window length of the tumbling aggregation windows; flows are placed by their endTime
 *     (default 1 minute)
 * @param grace how long after a window's end its rows wait for flow records still on their way (the
 *     sidecar's poll and linger): windows are emitted once the emission watermark (produce times)
 *     is past their end plus the grace (default 20 s). A record that arrives later is not lost: it
 *     goes out in an additional row for its window, which Druid sums
 * @param lateHorizon how old a flow record (its endTime, against the collector's clock) may be and
 *     still count; older ones go to the dead-letter topic as "too-late" (default 24 hours). The
 *     dedupe entries are kept for this horizon plus two dedupe epochs, so that a record within it
 *     always finds the entry of its connection and counts exactly once
 * @param holdBack how long a flow whose owner is not known yet is held back before it goes out
 *     unattributed with the reason (default 2 minutes)
 * @param maxPorts bound of the ephemeral port list of an aggregate (default 64)
 * @param partitions partition count of the input topics, which the two internal repartition topics
 *     get too (co-partitioning)
 * @param historyPolicy how per-IP ownership histories bridge, expire and answer near a boundary
 * @param holdCheckInterval wall-clock period of the check that releases held flows whose hold-back
 *     is over, and the flows whose settle delay is over (default 1 s)
 * @param emitInterval wall-clock period of the check that emits closed windows (default 2 s)
 * @param dedupeTolerance how far apart the two ends' connectionStartTime of one connection may be
 *     (default 2 s: the server's start is the handshake's end, one RTT after the client's SYN, on
 *     another host's clock)
 * @param dedupeEpoch how far a long-lived connection's dedupe entry moves forward at a time, with
 *     its INTERIM records (default 3 minutes); see {@link #dedupeRetention()}
 * @param ownershipSweepInterval wall-clock period of the sweep that applies the history retention
 *     and forgets IPs with nothing left (default 10 minutes)
 * @param settle how long after a connection's start an end looked up in the ownership histories is
 *     decided: the identity events and heartbeats that could change the answer arrive up to this
 *     late (default 35 s: identity events up to 30 s late, plus the hosts' clock differences). Time
 *     here is the task's evidence clock ({@code EvidenceClock}), which follows the inputs' record
 *     times, so a collector catching up on a backlog waits for the evidence of the backlog's time.
 *     Windows wait for it too: a window closes at its end + settle + grace. An end labelled by its
 *     own sidecar is never held for it
 */
public record CollectorSettings(
    Duration window,
    Duration grace,
    Duration lateHorizon,
    Duration holdBack,
    int maxPorts,
    int partitions,
    HistoryPolicy historyPolicy,
    Duration holdCheckInterval,
    Duration emitInterval,
    Duration dedupeTolerance,
    Duration dedupeEpoch,
    Duration ownershipSweepInterval,
    Duration settle) {

  /**
   * The defaults, each written once, as its option writes it: the options' annotations ({@code
   * CollectorOptions}) and the values below read these.
   */
  public static final class Defaults {
    public static final String WINDOW = "1m";
    public static final String GRACE = "20s";
    public static final String LATE_HORIZON = "24h";
    public static final String HOLD_BACK = "2m";
    public static final String MAX_PORTS = "64";
    public static final String SETTLE = "35s";

    private Defaults() {}
  }

  public static final Duration DEFAULT_WINDOW = Settings.parseDuration(Defaults.WINDOW);
  public static final Duration DEFAULT_GRACE = Settings.parseDuration(Defaults.GRACE);
  public static final Duration DEFAULT_LATE_HORIZON = Settings.parseDuration(Defaults.LATE_HORIZON);
  public static final Duration DEFAULT_HOLD_BACK = Settings.parseDuration(Defaults.HOLD_BACK);
  public static final int DEFAULT_MAX_PORTS = Integer.parseInt(Defaults.MAX_PORTS);
  public static final Duration DEFAULT_SETTLE = Settings.parseDuration(Defaults.SETTLE);

  public CollectorSettings {
    Objects.requireNonNull(historyPolicy, "historyPolicy");
    positive("window", window);
    nonNegative("grace", grace);
    positive("lateHorizon", lateHorizon);
    nonNegative("holdBack", holdBack);
    positive("holdCheckInterval", holdCheckInterval);
    positive("emitInterval", emitInterval);
    nonNegative("dedupeTolerance", dedupeTolerance);
    positive("dedupeEpoch", dedupeEpoch);
    positive("ownershipSweepInterval", ownershipSweepInterval);
    nonNegative("settle", settle);
    if (window.toMillis() < 1000) {
      throw new IllegalArgumentException("window must be at least 1s, not " + window);
    }
    if (maxPorts < 0) {
      throw new IllegalArgumentException("maxPorts must be 0 or more, not " + maxPorts);
    }
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, not " + partitions);
    }
    if (dedupeEpoch.compareTo(dedupeTolerance.multipliedBy(4)) < 0) {
      throw new IllegalArgumentException(
          "dedupeEpoch " + dedupeEpoch + " must be at least four dedupeTolerance");
    }
  }

  /** The defaults, for input topics of {@code partitions} partitions. */
  public static CollectorSettings defaults(int partitions) {
    return new CollectorSettings(
        DEFAULT_WINDOW,
        DEFAULT_GRACE,
        DEFAULT_LATE_HORIZON,
        DEFAULT_HOLD_BACK,
        DEFAULT_MAX_PORTS,
        partitions,
        HistoryPolicy.DEFAULT,
        Duration.ofSeconds(1),
        Duration.ofSeconds(2),
        Duration.ofSeconds(2),
        Duration.ofMinutes(3),
        Duration.ofMinutes(10),
        DEFAULT_SETTLE);
  }

  public CollectorSettings withWindow(Duration newWindow, Duration newGrace) {
    return new CollectorSettings(
        newWindow,
        newGrace,
        lateHorizon,
        holdBack,
        maxPorts,
        partitions,
        historyPolicy,
        holdCheckInterval,
        emitInterval,
        dedupeTolerance,
        dedupeEpoch,
        ownershipSweepInterval,
        settle);
  }

  public CollectorSettings withHoldBack(Duration newHoldBack) {
    return new CollectorSettings(
        window,
        grace,
        lateHorizon,
        newHoldBack,
        maxPorts,
        partitions,
        historyPolicy,
        holdCheckInterval,
        emitInterval,
        dedupeTolerance,
        dedupeEpoch,
        ownershipSweepInterval,
        settle);
  }

  public CollectorSettings withMaxPorts(int newMaxPorts) {
    return new CollectorSettings(
        window,
        grace,
        lateHorizon,
        holdBack,
        newMaxPorts,
        partitions,
        historyPolicy,
        holdCheckInterval,
        emitInterval,
        dedupeTolerance,
        dedupeEpoch,
        ownershipSweepInterval,
        settle);
  }

  /**
   * The late horizon, and the ownership histories' retention with it: a record the horizon accepts
   * finds the owners of its time (histories are bounded by time only).
   */
  public CollectorSettings withLateHorizon(Duration newLateHorizon) {
    return new CollectorSettings(
        window,
        grace,
        newLateHorizon,
        holdBack,
        maxPorts,
        partitions,
        historyPolicy.withRetention(newLateHorizon),
        holdCheckInterval,
        emitInterval,
        dedupeTolerance,
        dedupeEpoch,
        ownershipSweepInterval,
        settle);
  }

  /** The settle delay and the boundary margin of the ownership lookups. */
  public CollectorSettings withSettle(Duration newSettle, Duration boundaryMargin) {
    return new CollectorSettings(
        window,
        grace,
        lateHorizon,
        holdBack,
        maxPorts,
        partitions,
        historyPolicy.withBoundaryMargin(boundaryMargin),
        holdCheckInterval,
        emitInterval,
        dedupeTolerance,
        dedupeEpoch,
        ownershipSweepInterval,
        newSettle);
  }

  /**
   * How long the dedupe store keeps a connection's entry after the slot it was last written to: the
   * late horizon plus two epochs (a record's slot lies at most one epoch and the tolerance before
   * its endTime), so that every record the horizon accepts finds its connection's entry.
   */
  public Duration dedupeRetention() {
    return lateHorizon.plus(dedupeEpoch.multipliedBy(2));
  }

  /**
   * The settle delay in force: at most the hold-back (a flow waits no longer than that in all), so
   * none without a hold-back.
   */
  public Duration effectiveSettle() {
    return settle.compareTo(holdBack) > 0 ? holdBack : settle;
  }

  /**
   * How long a connection's labels and decided ends stay after its last record: the hold-back (its
   * other side's record may wait that long) plus 2 minutes, four of the sidecars' default interim
   * intervals (an open connection reports at least that often, renewing them).
   */
  public Duration connectionRetention() {
    return holdBack.plus(Duration.ofMinutes(2));
  }

  /** The start of the window holding {@code endTime}, epoch ms. */
  public long windowStart(long endTime) {
    long size = window.toMillis();
    return Math.floorDiv(endTime, size) * size;
  }

  private static void positive(String name, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, not " + d);
    }
  }

  private static void nonNegative(String name, Duration d) {
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be zero or positive, not " + d);
    }
  }
}
