package io.flowsight.sidecar.sink;

import io.flowsight.schemas.FlowRecord;
import java.io.PrintStream;

/** One JSON object per line per record, for operators and debugging ({@code --sink stdout}). */
public final class StdoutSink implements FlowSink {

  private final PrintStream out;

  public StdoutSink(PrintStream out) {
    this.out = out;
  }

  @Override
  public synchronized void accept(FlowRecord record) {
    out.println(FlowRecordJson.toJson(record));
  }

  @Override
  public synchronized void flush() {
    out.flush();
  }

  @Override
  public void close() {
    flush();
  }
}
