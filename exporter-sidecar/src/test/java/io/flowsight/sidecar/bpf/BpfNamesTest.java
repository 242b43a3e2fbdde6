package io.flowsight.sidecar.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Fails when the Java side's names or codes drift from bpf/flow.bpf.c and bpf/flow.h. */
class BpfNamesTest {

  static final Path BPF_DIR = Path.of("..", "bpf");

  static String read(String file) throws IOException {
    return Files.readString(BPF_DIR.resolve(file));
  }

  /** {@code NAME = 12,} or {@code #define NAME 12} with a prefix, in declaration order. */
  static Map<String, Integer> constants(String source, String prefix) {
    Map<String, Integer> found = new LinkedHashMap<>();
    Matcher m =
        Pattern.compile(
                "(?m)^\\s*(?:#define\\s+)?(" + prefix + "\\w+)\\s*=?\\s*(0x[0-9a-fA-F]+|\\d+)")
            .matcher(source);
    while (m.find()) {
      found.put(m.group(1), Integer.decode(m.group(2)));
    }
    return found;
  }

  @Test
  void shouldNameEveryMapOfTheObject() throws IOException {
    Matcher m = Pattern.compile("}\\s*(\\w+)\\s+SEC\\(\"\\.maps\"\\)").matcher(read("flow.bpf.c"));
    Set<String> maps = new LinkedHashSet<>();
    while (m.find()) {
      maps.add(m.group(1));
    }
    assertThat(maps).containsExactlyInAnyOrderElementsOf(BpfNames.MAPS);
  }

  @Test
  void shouldNameEveryProgramWithItsHook() throws IOException {
    Matcher m =
        Pattern.compile(
                "SEC\\(\"([^\"]+)\"\\)\\s*\\n\\s*int\\s+(?:BPF_K(?:RET)?PROBE\\(\\s*)?(\\w+)")
            .matcher(read("flow.bpf.c"));
    Map<String, String> programs = new LinkedHashMap<>();
    while (m.find()) {
      programs.put(m.group(2), m.group(1));
    }
    assertThat(programs)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                BpfNames.PROG_SET_STATE, "tracepoint/sock/inet_sock_set_state",
                BpfNames.PROG_V4_CONNECT, "kprobe/tcp_v4_connect",
                BpfNames.PROG_V6_CONNECT, "kprobe/tcp_v6_connect",
                BpfNames.PROG_ACCEPT_RET, "kretprobe/inet_csk_accept",
                BpfNames.PROG_SNAPSHOT, "iter/tcp"));
    assertThat(BpfNames.PROGRAMS).containsExactlyInAnyOrderElementsOf(programs.keySet());
    // only the tracepoint is required; the kprobes are the k(ret)probe sections
    programs.forEach(
        (name, section) -> {
          assertThat(BpfNames.OPTIONAL_PROGRAMS.contains(name))
              .as(name)
              .isEqualTo(!section.startsWith("tracepoint/"));
          assertThat(BpfNames.KPROBE_PROGRAMS.contains(name))
              .as(name)
              .isEqualTo(section.startsWith("kprobe/") || section.startsWith("kretprobe/"));
        });
  }

  @Test
  void shouldMatchEventTypeCodes() throws IOException {
    Map<String, Integer> c = constants(read("flow.h"), "FLOW_EV_");
    Map<String, Integer> java = new LinkedHashMap<>();
    for (FlowEventType t : FlowEventType.values()) {
      java.put("FLOW_EV_" + t.name(), t.code());
    }
    assertThat(c).containsExactlyEntriesOf(java);
  }

  @Test
  void shouldMatchCounterIndices() throws IOException {
    Map<String, Integer> c = constants(read("flow.h"), "FLOW_CNT_");
    assertThat(c)
        .containsExactlyEntriesOf(
            orderedMap(
                "FLOW_CNT_EVENTS", BpfCounters.EVENTS,
                "FLOW_CNT_RB_DROPS", BpfCounters.RB_DROPS,
                "FLOW_CNT_SOCK_MAP_FULL", BpfCounters.SOCK_MAP_FULL,
                "FLOW_CNT_ACTIVE_OPEN", BpfCounters.ACTIVE_OPEN,
                "FLOW_CNT_ACTIVE_ESTABLISHED", BpfCounters.ACTIVE_ESTABLISHED,
                "FLOW_CNT_PASSIVE_ESTABLISHED", BpfCounters.PASSIVE_ESTABLISHED,
                "FLOW_CNT_CLOSE", BpfCounters.CLOSE,
                "FLOW_CNT_LISTEN", BpfCounters.LISTEN,
                "FLOW_CNT_KPROBE_CONNECT", BpfCounters.KPROBE_CONNECT,
                "FLOW_CNT_KPROBE_ACCEPT", BpfCounters.KPROBE_ACCEPT,
                "FLOW_CNT_MAX", BpfCounters.MAX));
    // the kernel counts ring buffer event type t at index 2 + t (snapshots go elsewhere)
    assertThat(FlowEventType.values())
        .extracting(FlowEventType::name)
        .containsExactly("CLOSE", "LISTEN", "SNAPSHOT");
    for (FlowEventType t : FlowEventType.values()) {
      if (t == FlowEventType.SNAPSHOT) {
        continue;
      }
      assertThat(c.get("FLOW_CNT_" + t.name())).isEqualTo(2 + t.code());
    }
  }

  @Test
  void shouldMatchFlagsAndStates() throws IOException {
    String h = read("flow.h");
    assertThat(constants(h, "FLOW_F_"))
        .containsExactlyEntriesOf(
            orderedMap(
                "FLOW_F_PID", FlowEvent.FLAG_PID,
                "FLOW_F_SEEN_OPEN", FlowEvent.FLAG_SEEN_OPEN,
                "FLOW_F_PID_KPROBE", FlowEvent.FLAG_PID_KPROBE,
                "FLOW_F_FIN_ACKED", FlowEvent.FLAG_FIN_ACKED,
                "FLOW_F_PEER_FIN", FlowEvent.FLAG_PEER_FIN,
                "FLOW_F_ACTIVE", FlowEvent.FLAG_ACTIVE,
                "FLOW_F_PASSIVE", FlowEvent.FLAG_PASSIVE));
    constants(h, "FLOW_TCP_")
        .forEach(
            (name, code) ->
                assertThat(TcpState.valueOf(name.substring("FLOW_TCP_".length())).code())
                    .as(name)
                    .isEqualTo(code));
    assertThat(constants(h, "FLOW_TCP_")).hasSize(11);
  }

  private static Map<String, Integer> orderedMap(Object... kv) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], (Integer) kv[i + 1]);
    }
    return m;
  }
}
