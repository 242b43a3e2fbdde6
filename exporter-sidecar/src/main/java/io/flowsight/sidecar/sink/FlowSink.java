package io.flowsight.sidecar.sink;

import io.flowsight.schemas.FlowRecord;

/** Where the flow table's records go. {@link #accept} never blocks the kernel consumer. */
public interface FlowSink extends AutoCloseable {

  /** Hands over one record; returns at once (a full buffer drops and counts, never waits). */
  void accept(FlowRecord record);

  /** Delivers everything accepted so far, waiting up to the sink's own timeout. */
  void flush();

  /** Flushes, then releases the sink's resources. */
  @Override
  void close();
}
