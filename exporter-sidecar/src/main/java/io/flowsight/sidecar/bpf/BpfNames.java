package io.flowsight.sidecar.bpf;

import java.util.List;

/**
 * Names that tie this Java code to {@code bpf/flow.bpf.c}: the object resource, its maps and its
 * programs. {@code BpfNamesTest} fails when these drift from the C source.
 */
public final class BpfNames {

  private BpfNames() {}

  /** Classpath resource of the compiled object (built by exec-maven-plugin from ../bpf). */
  public static final String OBJECT_RESOURCE = "bpf/flow.bpf.o";

  /** BPF_MAP_TYPE_RINGBUF of {@code struct flow_event}. */
  public static final String MAP_EVENTS = "flow_events";

  /** BPF_MAP_TYPE_HASH {@code struct sock *} to {@code struct sock_info}. */
  public static final String MAP_SOCKS = "flow_socks";

  /** BPF_MAP_TYPE_PERCPU_ARRAY of {@code enum flow_counter}. */
  public static final String MAP_COUNTERS = "flow_counters";

  /** {@code tracepoint/sock/inet_sock_set_state}: all events come from here. */
  public static final String PROG_SET_STATE = "on_set_state";

  /** {@code kprobe/tcp_v4_connect}: pid/comm of connect() (optional). */
  public static final String PROG_V4_CONNECT = "on_v4_connect";

  /** {@code kprobe/tcp_v6_connect}: pid/comm of connect() (optional). */
  public static final String PROG_V6_CONNECT = "on_v6_connect";

  /** {@code kretprobe/inet_csk_accept}: pid/comm of accept() (optional). */
  public static final String PROG_ACCEPT_RET = "on_accept_ret";

  /** {@code iter/tcp}: one {@code flow_event} per open TCP socket (optional). */
  public static final String PROG_SNAPSHOT = "snapshot_tcp";

  /** Every map in the object. */
  public static final List<String> MAPS = List.of(MAP_EVENTS, MAP_SOCKS, MAP_COUNTERS);

  /** Every program, the required one first. */
  public static final List<String> PROGRAMS =
      List.of(PROG_SET_STATE, PROG_V4_CONNECT, PROG_V6_CONNECT, PROG_ACCEPT_RET, PROG_SNAPSHOT);

  /** The kprobes: add pid/comm where the kernel lets them attach. */
  public static final List<String> KPROBE_PROGRAMS =
      List.of(PROG_V4_CONNECT, PROG_V6_CONNECT, PROG_ACCEPT_RET);

  /** Programs that may fail to load or attach without failing the sidecar. */
  public static final List<String> OPTIONAL_PROGRAMS =
      List.of(PROG_V4_CONNECT, PROG_V6_CONNECT, PROG_ACCEPT_RET, PROG_SNAPSHOT);
}
