package io.flowsight.sidecar.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BpfObjectOptionsTest {

  @Test
  void shouldDefaultToA4MiBRingAnd64kSockets() {
    BpfObject.Options o = BpfObject.Options.defaults();
    assertThat(o.ringBufferBytes()).isEqualTo(4L << 20);
    assertThat(o.socketMapEntries()).isEqualTo(65536);
    assertThat(o.kprobes()).isTrue();
    assertThat(o.objectFile()).isNull();
  }

  @Test
  void shouldRejectARingBufferTheKernelWouldRefuse() {
    BpfObject.Options o = BpfObject.Options.defaults();
    assertThatThrownBy(() -> o.withRingBufferBytes(3 * 4096))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ringBufferBytes");
    assertThatThrownBy(() -> o.withRingBufferBytes(2048)).hasMessageContaining("ringBufferBytes");
    assertThatThrownBy(() -> o.withSocketMapEntries(0)).hasMessageContaining("socketMapEntries");
    assertThat(o.withRingBufferBytes(4096).ringBufferBytes()).isEqualTo(4096);
  }

  @Test
  void shouldCarryOperationAndErrnoInTheMessage() {
    BpfException e = new BpfException("bpf_object__load", 1, "Operation not permitted; hint");
    assertThat(e.operation()).isEqualTo("bpf_object__load");
    assertThat(e.errno()).isEqualTo(1);
    assertThat(e).hasMessage("bpf_object__load failed (errno 1): Operation not permitted; hint");
  }
}
