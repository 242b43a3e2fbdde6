package io.flowsight.sidecar.bpf;

/**
 * {@code enum flow_event_type} of bpf/flow.h; codes checked by {@code BpfNamesTest}. Codes 1 to 3
 * (the former ACTIVE_OPEN, ACTIVE_ESTABLISHED and PASSIVE_ESTABLISHED events) are no longer sent:
 * the kernel keeps what they told in its socket map and adds it to the CLOSE and SNAPSHOT records.
 */
public enum FlowEventType {
  /**
   * Any state to CLOSE, with the tcp_sock counters, the side ({@link FlowEvent#FLAG_ACTIVE} or
   * {@link FlowEvent#FLAG_PASSIVE}), the time since open, the handshake time and the process; the
   * old state tells refused connects apart.
   */
  CLOSE(4),
  /** Any state to LISTEN: a service port. */
  LISTEN(5),
  /**
   * One open socket and its counters so far, with what a CLOSE carries, from {@link
   * BpfObject#snapshot()} (the iter/tcp program), not from the ring buffer; old and new state are
   * both its current state.
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
