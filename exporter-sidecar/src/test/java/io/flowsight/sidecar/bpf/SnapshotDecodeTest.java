package io.flowsight.sidecar.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The iterator's output as {@link BpfObject#snapshot()} decodes it. */
class SnapshotDecodeTest {

  /** Offset of {@code type} in struct flow_event (flow.h). */
  private static final int TYPE = 134;

  private static byte[] records(int... types) {
    byte[] all = new byte[FlowEvent.SIZE * types.length];
    for (int i = 0; i < types.length; i++) {
      all[i * FlowEvent.SIZE + TYPE] = (byte) types[i];
      all[i * FlowEvent.SIZE + 8] = (byte) (i + 1); // sk, low byte (host order: little-endian)
    }
    return all;
  }

  @Test
  void shouldDecodeWholeSnapshotRecords() {
    List<FlowEvent> sockets = BpfObject.decodeSnapshot(records(6, 6, 6));

    assertThat(sockets).extracting(FlowEvent::type).containsOnly(FlowEventType.SNAPSHOT);
    assertThat(sockets).extracting(FlowEvent::socketId).containsExactly(1L, 2L, 3L);
  }

  @Test
  void shouldRejectTheWholeSnapshotForAPartialRecordOrAnotherType() {
    byte[] whole = records(6, 6);
    byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 10);

    assertThatThrownBy(() -> BpfObject.decodeSnapshot(cut))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("278 bytes is not a whole number of flow_event records");
    assertThatThrownBy(() -> BpfObject.decodeSnapshot(records(6, 4)))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("record at byte 144 is a CLOSE, not a SNAPSHOT");
    assertThatThrownBy(() -> BpfObject.decodeSnapshot(records(6, 99)))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("record at byte 144")
        .hasMessageContaining("unknown flow_event type 99");
  }
}
