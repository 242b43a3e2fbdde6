package io.flowsight.sidecar.flow;

import io.flowsight.schemas.FlowRecord;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Numbers the records a run actually outputs, per local IP: 0, 1, 2... Records are keyed by their
 * local IP downstream, so each key carries one gapless series per run and a consumer can tell a
 * lost record by a gap in (sidecarRunId, localIp, sequence). Applied after the {@code --exclude}
 * filter, so what is excluded on purpose leaves no gap. One counter per local address of the host.
 * Not thread-safe: the kernel consumer thread numbers.
 */
public final class RecordNumbering {

  private final Map<ByteBuffer, long[]> nextByLocalIp = new HashMap<>();

  /** Sets {@code record}'s sequence to the next number of its local IP and returns it. */
  public FlowRecord number(FlowRecord record) {
    ByteBuffer localIp = record.getLocalIp().asReadOnlyBuffer();
    long[] next = nextByLocalIp.computeIfAbsent(localIp, ip -> new long[1]);
    record.setSequence(next[0]++);
    return record;
  }
}
