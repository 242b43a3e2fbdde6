package io.flowsight.sidecar.bpf;

/**
 * The kernel side's counters ({@code enum flow_counter} in bpf/flow.h, map {@code flow_counters}),
 * summed over CPUs. All count since load.
 *
 * @param events events submitted to the ring buffer ({@code close + listen})
 * @param ringBufferDrops events lost because the ring buffer was full
 * @param sockMapFull socket map updates that failed (map full): side, pid, duration or handshake
 *     time lost for a socket
 * @param activeOpen connects seen (CLOSE to SYN_SENT), recorded in the socket map, not sent
 * @param activeEstablished handshakes seen (SYN_SENT to ESTABLISHED), recorded, not sent
 * @param passiveEstablished accepted connections seen (SYN_RECV to ESTABLISHED), recorded, not sent
 * @param close CLOSE events submitted
 * @param listen LISTEN events submitted
 * @param kprobeConnect runs of the connect kprobes
 * @param kprobeAccept runs of the accept kretprobe with a live socket
 */
public record BpfCounters(
    long events,
    long ringBufferDrops,
    long sockMapFull,
    long activeOpen,
    long activeEstablished,
    long passiveEstablished,
    long close,
    long listen,
    long kprobeConnect,
    long kprobeAccept) {

  /** {@code enum flow_counter} indices, checked against bpf/flow.h by {@code BpfNamesTest}. */
  public static final int EVENTS = 0;

  public static final int RB_DROPS = 1;
  public static final int SOCK_MAP_FULL = 2;
  public static final int ACTIVE_OPEN = 3;
  public static final int ACTIVE_ESTABLISHED = 4;
  public static final int PASSIVE_ESTABLISHED = 5;
  public static final int CLOSE = 6;
  public static final int LISTEN = 7;
  public static final int KPROBE_CONNECT = 8;
  public static final int KPROBE_ACCEPT = 9;

  /** {@code FLOW_CNT_MAX}: entries of the map. */
  public static final int MAX = 16;

  /** Builds the record from the per-index sums. */
  static BpfCounters of(long[] sums) {
    return new BpfCounters(
        sums[EVENTS],
        sums[RB_DROPS],
        sums[SOCK_MAP_FULL],
        sums[ACTIVE_OPEN],
        sums[ACTIVE_ESTABLISHED],
        sums[PASSIVE_ESTABLISHED],
        sums[CLOSE],
        sums[LISTEN],
        sums[KPROBE_CONNECT],
        sums[KPROBE_ACCEPT]);
  }
}
