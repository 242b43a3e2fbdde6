package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.FlowRecord;
import io.flowsight.sidecar.sink.FlowSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Keeps every record; a plain object standing in for the output, not for a server. */
final class CollectingSink implements FlowSink {
  private final List<FlowRecord> records = new ArrayList<>();

  @Override
  public synchronized void accept(FlowRecord record) {
    records.add(record);
    notifyAll();
  }

  synchronized List<FlowRecord> matching(Predicate<FlowRecord> filter) {
    return records.stream().filter(filter).toList();
  }

  /** Waits up to 10 s for {@code count} matching records and returns those found. */
  List<FlowRecord> await(Predicate<FlowRecord> filter, int count) throws InterruptedException {
    return await(filter, count, Duration.ofSeconds(10));
  }

  /** Waits up to {@code timeout} for {@code count} matching records and returns those found. */
  synchronized List<FlowRecord> await(Predicate<FlowRecord> filter, int count, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<FlowRecord> found = matching(filter);
    while (found.size() < count && System.nanoTime() < deadline) {
      wait(50);
      found = matching(filter);
    }
    assertThat(found).as("records matching after %s", timeout).hasSizeGreaterThanOrEqualTo(count);
    return found;
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
