package io.flowsight.sidecar.bpf;

/** {@code enum flow_event_type} of bpf/flow.h; codes checked by {@code BpfNamesTest}. */
public enum FlowEventType {
  /** CLOSE to SYN_SENT (connect()); the local port is still 0. */
  ACTIVE_OPEN(1),
  /** SYN_SENT to ESTABLISHED; local port known, {@code durationNs} is the handshake. */
  ACTIVE_ESTABLISHED(2),
  /** SYN_RECV to ESTABLISHED: the accepting side (softirq, so no pid). */
  PASSIVE_ESTABLISHED(3),
  /** Any state to CLOSE, with the tcp_sock counters; old state tells refused connects apart. */
  CLOSE(4),
  /** Any state to LISTEN: a service port. */
  LISTEN(5),
  /**
   * One open socket and its counters so far, from {@link BpfObject#snapshot()} (the iter/tcp
   * program), not from the ring buffer; old and new state are both its current state.
   */
  SNAPSHOT(6);

  private final int code;

  FlowEventType(int code) {
    this.code = code;
  }

  /** The C enum value. */
  public int code() {
    return code;
  }

  /** The type for a C value; throws {@link IllegalArgumentException} for an unknown one. */
  public static FlowEventType of(int code) {
    for (FlowEventType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown flow_event type " + code);
  }
}
