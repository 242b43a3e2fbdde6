package io.flowsight.sidecar.flow;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.testing.SampleFlows;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordNumberingTest {

  private final SampleFlows flows = new SampleFlows(7);

  @Test
  void shouldNumberTheOutputRecordsOfEachLocalIpFromZeroWithoutGaps() {
    RecordNumbering numbering = new RecordNumbering();
    List<FlowRecord> numbered = new ArrayList<>();
    String[] locals = {"10.0.0.1", "10.0.0.2", "10.0.0.1", "::1", "10.0.0.1", "10.0.0.2"};
    for (String local : locals) {
      FlowRecord r = flows.next();
      r.setLocalIp(ByteBuffer.wrap(IpAddresses.parse(local)));
      r.setSequence(99);
      numbered.add(numbering.number(r));
    }

    assertThat(numbered)
        .extracting(FlowRecord::getSequence)
        .containsExactly(0L, 0L, 1L, 0L, 2L, 1L);
  }

  @Test
  void shouldLeaveNoGapForRecordsThatAreNotOutput() {
    RecordNumbering numbering = new RecordNumbering();
    List<Long> sequences = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      FlowRecord r = flows.next();
      r.setLocalIp(ByteBuffer.wrap(IpAddresses.parse("10.0.0.1")));
      boolean excluded = i % 2 == 1; // the --exclude filter runs before numbering
      if (!excluded) {
        sequences.add(numbering.number(r).getSequence());
      }
    }

    assertThat(sequences).containsExactly(0L, 1L, 2L);
  }
}
