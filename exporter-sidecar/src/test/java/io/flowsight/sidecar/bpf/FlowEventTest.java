package io.flowsight.sidecar.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;

/** The Java mirror of {@code struct flow_event} against the C layout and golden bytes. */
class FlowEventTest {

  /**
   * A CLOSE event as clang lays out {@code struct flow_event} on x86-64 (little-endian), field by
   * field at the offsets of flow.h. Every value differs so a wrong offset cannot pass.
   */
  static final String[][] GOLDEN_CLOSE_V4 = {
    {"ts_ns          @0   = 0x0102030405060708", "0807060504030201"},
    {"sk             @8   = 0xffff888812345678", "78563412 8888ffff"},
    {"cgroup_id      @16  = 4242", "9210000000000000"},
    {"duration_ns    @24  = 1500000000", "002f685900000000"},
    {"bytes_acked    @32  = 1002", "ea03000000000000"},
    {"bytes_received @40  = 5001", "8913000000000000"},
    {"saddr          @48  = ::ffff:10.1.2.3", "00000000000000000000ffff 0a010203"},
    {"daddr          @64  = ::ffff:192.168.7.9", "00000000000000000000ffff c0a80709"},
    {"comm           @80  = \"curl\"", "6375726c000000000000000000000000"},
    {"pid            @96  = 31337", "697a0000"},
    {"connect_us     @100 = 2500", "c4090000"},
    {"segs_in        @104 = 7", "07000000"},
    {"segs_out       @108 = 9", "09000000"},
    {"srtt_us        @112 = 250", "fa000000"},
    {"rttvar_us      @116 = 125", "7d000000"},
    {"total_retrans  @120 = 3", "03000000"},
    {"snd_cwnd       @124 = 10", "0a000000"},
    {"sport          @128 = 43210 (host order)", "caa8"},
    {"dport          @130 = 443 (host order)", "bb01"},
    {"family         @132 = AF_INET", "0200"},
    {"type           @134 = CLOSE", "04"},
    {"old_state      @135 = FIN_WAIT2", "05"},
    {"new_state      @136 = CLOSE", "07"},
    {"flags          @137 = PID | SEEN_OPEN | ACTIVE", "23"},
    {"_pad           @138", "000000000000"},
  };

  static byte[] bytes(String[][] rows) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String[] row : rows) {
      out.writeBytes(HexFormat.of().parseHex(row[1].replace(" ", "")));
    }
    return out.toByteArray();
  }

  @Test
  void shouldMatchEveryOffsetAssertedInFlowH() throws IOException {
    Matcher m =
        Pattern.compile("__builtin_offsetof\\(struct flow_event, (\\w+)\\) == (\\d+)")
            .matcher(BpfNamesTest.read("flow.h"));
    Map<String, Integer> c = new LinkedHashMap<>();
    while (m.find()) {
      c.put(m.group(1), Integer.parseInt(m.group(2)));
    }
    assertThat(FlowEvent.LAYOUT.offsets()).containsExactlyEntriesOf(c);

    Matcher size =
        Pattern.compile("sizeof\\(struct flow_event\\) == (\\d+)")
            .matcher(BpfNamesTest.read("flow.h"));
    assertThat(size.find()).isTrue();
    assertThat(FlowEvent.SIZE).isEqualTo(Integer.parseInt(size.group(1))).isEqualTo(144);
  }

  @Test
  void shouldDecodeGoldenBytesOfACloseEvent() throws Exception {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "golden bytes are x86-64");
    byte[] golden = bytes(GOLDEN_CLOSE_V4);
    assertThat(golden).hasSize(144);
    // the documented offsets are those of the layout
    int offset = 0;
    for (String[] row : GOLDEN_CLOSE_V4) {
      String field = row[0].substring(0, row[0].indexOf(' '));
      int at = Integer.parseInt(row[0].replaceAll(".*@(\\d+).*", "$1"));
      assertThat(at).as(field).isEqualTo(offset).isEqualTo(FlowEvent.LAYOUT.offsets().get(field));
      offset += row[1].replace(" ", "").length() / 2;
    }

    FlowEvent e = FlowEvent.decode(golden);

    assertThat(e)
        .isEqualTo(
            new FlowEvent(
                FlowEventType.CLOSE,
                0x0102030405060708L,
                0xffff888812345678L,
                4242,
                1_500_000_000L,
                1002,
                5001,
                FlowEvent.AF_INET,
                InetAddress.getByName("10.1.2.3"),
                43210,
                InetAddress.getByName("192.168.7.9"),
                443,
                31337,
                2500,
                "curl",
                7,
                9,
                250,
                125,
                3,
                10,
                TcpState.FIN_WAIT2,
                TcpState.CLOSE,
                FlowEvent.FLAG_PID | FlowEvent.FLAG_SEEN_OPEN | FlowEvent.FLAG_ACTIVE));
    assertThat(e.localAddress()).isInstanceOf(Inet4Address.class);
    assertThat(e.has(FlowEvent.FLAG_PID)).isTrue();
    assertThat(e.has(FlowEvent.FLAG_PID_KPROBE)).isFalse();
    assertThat(e.has(FlowEvent.FLAG_ACTIVE)).isTrue();
    assertThat(e.has(FlowEvent.FLAG_PASSIVE)).isFalse();
  }

  @Test
  void shouldDecodeFromNativeMemoryAsFromBytes() {
    byte[] golden = bytes(GOLDEN_CLOSE_V4);
    Pointer p = Memory.allocateDirect(Runtime.getSystemRuntime(), golden.length);
    p.put(0, golden, 0, golden.length);
    assertThat(FlowEvent.decode(p, golden.length)).isEqualTo(FlowEvent.decode(golden));
  }

  @Test
  void shouldDecodeIpv6AndUnsignedFields() throws Exception {
    byte[] b = bytes(GOLDEN_CLOSE_V4);
    byte[] v6 = InetAddress.getByName("2001:db8::1").getAddress();
    System.arraycopy(v6, 0, b, 48, 16);
    System.arraycopy(InetAddress.getByName("::1").getAddress(), 0, b, 64, 16);
    b[128] = (byte) 0xff; // sport 0xffff
    b[129] = (byte) 0xff;
    b[112] = (byte) 0xff; // srtt_us 0xffffffff
    b[113] = (byte) 0xff;
    b[114] = (byte) 0xff;
    b[115] = (byte) 0xff;
    b[132] = 10; // AF_INET6
    b[135] = 99; // a state this code does not know
    b[100] = (byte) 0xff; // connect_us 0xffffffff
    b[101] = (byte) 0xff;
    b[102] = (byte) 0xff;
    b[103] = (byte) 0xff;
    b[80] = 0; // empty comm

    FlowEvent e = FlowEvent.decode(b);

    assertThat(e.localAddress()).isInstanceOf(Inet6Address.class);
    assertThat(e.localAddress().getHostAddress()).isEqualTo("2001:db8:0:0:0:0:0:1");
    assertThat(e.remoteAddress()).isEqualTo(InetAddress.getByName("::1"));
    assertThat(e.localPort()).isEqualTo(65535);
    assertThat(e.srttUs()).isEqualTo(4_294_967_295L);
    assertThat(e.connectUs()).isEqualTo(4_294_967_295L);
    assertThat(e.family()).isEqualTo(FlowEvent.AF_INET6);
    assertThat(e.oldState()).isEqualTo(TcpState.UNKNOWN);
    assertThat(e.comm()).isEmpty();
  }

  @Test
  void shouldRejectShortRecordsAndUnknownTypes() {
    assertThatThrownBy(() -> FlowEvent.decode(new byte[143]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("143 bytes");
    byte[] b = bytes(GOLDEN_CLOSE_V4);
    b[134] = 9;
    assertThatThrownBy(() -> FlowEvent.decode(b))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("type 9");
    // 1 to 3 were the open and established events, no longer sent
    b[134] = 1;
    assertThatThrownBy(() -> FlowEvent.decode(b))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("type 1");
  }
}
