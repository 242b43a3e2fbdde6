package io.flowsight.collector.attribution;

import io.flowsight.collector.wire.InternalFlow;
import org.apache.kafka.streams.processor.api.ProcessingContext;

/**
 * How far a task has read its inputs, as a time: the clock the settle delay is measured on.
 *
 * <p>It is the task's stream time (the latest record timestamp it processed: flow records, raw and
 * repartitioned for the remote lookup, carry their endTime, identity changes their produce time),
 * moved forward by the wall-clock time since it last advanced, and never past the wall clock.
 * Caught up, it is the wall clock, and an idle task does not stall. Behind (a restart, a backlog),
 * it stays with the records being read, so "35 s after the connection's start" means "after the
 * evidence produced in those 35 s was read", not 35 s of wall clock while the evidence still waits
 * in the backlog.
 *
 * <p>One per processor instance; the processors of a task see the same stream time.
 */
final class EvidenceClock {

  private long streamTime = Long.MIN_VALUE;
  private long advancedAt;

  /** The evidence time now, epoch ms. */
  long now(ProcessingContext context) {
    long wall = context.currentSystemTimeMs();
    long stream = context.currentStreamTimeMs();
    if (stream > streamTime) {
      streamTime = stream;
      advancedAt = wall;
    }
    if (streamTime == Long.MIN_VALUE) {
      advancedAt = wall;
      return Long.MIN_VALUE; // nothing read yet: nothing settles before the first record
    }
    return Math.min(wall, streamTime + (wall - advancedAt));
  }

  /**
   * The timestamp a flow with both ends attributed goes to the aggregation with: its produce time,
   * or, for a flow that was held back, how far the inputs have been read now (never past the wall
   * clock). The aggregation's watermark follows these timestamps.
   */
  long stamp(ProcessingContext context, InternalFlow flow) {
    if (!flow.wasHeld()) {
      return flow.sourceTimestamp();
    }
    return Math.min(Math.max(flow.sourceTimestamp(), now(context)), context.currentSystemTimeMs());
  }
}
