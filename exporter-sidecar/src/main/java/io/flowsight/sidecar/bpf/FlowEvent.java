package io.flowsight.sidecar.bpf;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import jnr.ffi.NativeType;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.StructLayout;

/**
 * One {@code struct flow_event} of bpf/flow.h, decoded. Multi-byte fields arrive in host byte
 * order; addresses in network order (16 bytes, IPv4 as {@code ::ffff:a.b.c.d}, decoded here to an
 * {@link java.net.Inet4Address}); ports are host order already (the tracepoint applies {@code
 * ntohs} to the big-endian {@code inet_sport}/{@code skc_dport}).
 *
 * @param type which transition
 * @param timestampNs {@code bpf_ktime_get_ns()}: CLOCK_MONOTONIC in ns, not wall-clock time
 * @param socketId the {@code struct sock *} address: joins the events of one socket (and is reused
 *     by the kernel after the socket is freed); never export it
 * @param cgroupId cgroup v2 id of the socket, 0 if unknown
 * @param durationNs since the socket's open (active: connect; passive: established) or listen;
 *     valid with {@link #FLAG_SEEN_OPEN}
 * @param bytesAcked CLOSE only; counts our SYN (active side only) and, with {@link
 *     #FLAG_FIN_ACKED}, our FIN as one byte each
 * @param bytesReceived CLOSE only; counts the peer's FIN as one byte (with {@link #FLAG_PEER_FIN})
 * @param family the socket's AF_INET (2) or AF_INET6 (10); an AF_INET6 socket may carry IPv4
 *     traffic (v4-mapped addresses)
 * @param localAddress local address
 * @param localPort local port
 * @param remoteAddress remote address
 * @param remotePort remote port
 * @param pid tgid (the process id), valid with {@link #FLAG_PID}
 * @param connectUs CLOSE/SNAPSHOT of an active socket ({@link #FLAG_ACTIVE}): the handshake
 *     (SYN_SENT to ESTABLISHED) in microseconds, rounded up; 0 if unknown or never established
 * @param comm task name, valid with {@link #FLAG_PID}, else empty
 * @param segsIn CLOSE only: segments received
 * @param segsOut CLOSE only: segments sent
 * @param srttUs CLOSE only: smoothed RTT in microseconds
 * @param rttvarUs CLOSE only: RTT deviation in microseconds, 0 without an RTT sample
 * @param totalRetrans CLOSE only: retransmitted segments
 * @param sndCwnd CLOSE only: congestion window in segments
 * @param oldState TCP state before the transition
 * @param newState TCP state after the transition
 * @param flags {@code FLAG_*}
 */
public record FlowEvent(
    FlowEventType type,
    long timestampNs,
    long socketId,
    long cgroupId,
    long durationNs,
    long bytesAcked,
    long bytesReceived,
    int family,
    InetAddress localAddress,
    int localPort,
    InetAddress remoteAddress,
    int remotePort,
    int pid,
    long connectUs,
    String comm,
    long segsIn,
    long segsOut,
    long srttUs,
    long rttvarUs,
    long totalRetrans,
    long sndCwnd,
    TcpState oldState,
    TcpState newState,
    int flags) {

  /** {@code FLOW_F_PID}: pid and comm are valid. */
  public static final int FLAG_PID = 0x01;

  /** {@code FLOW_F_SEEN_OPEN}: the socket was seen opening, {@code durationNs} is valid. */
  public static final int FLAG_SEEN_OPEN = 0x02;

  /** {@code FLOW_F_PID_KPROBE}: pid/comm came from the connect or accept kprobe. */
  public static final int FLAG_PID_KPROBE = 0x04;

  /** {@code FLOW_F_FIN_ACKED} (CLOSE): our FIN was acknowledged; {@code bytesAcked} counts it. */
  public static final int FLAG_FIN_ACKED = 0x08;

  /** {@code FLOW_F_PEER_FIN} (CLOSE): the peer's FIN arrived; {@code bytesReceived} counts it. */
  public static final int FLAG_PEER_FIN = 0x10;

  /** {@code FLOW_F_ACTIVE} (CLOSE, SNAPSHOT): this host connected: the CLIENT. */
  public static final int FLAG_ACTIVE = 0x20;

  /**
   * {@code FLOW_F_PASSIVE} (CLOSE, SNAPSHOT): this host accepted: the SERVER. Neither this nor
   * {@link #FLAG_ACTIVE}: the socket opened before the program was attached.
   */
  public static final int FLAG_PASSIVE = 0x40;

  public static final int AF_INET = 2;
  public static final int AF_INET6 = 10;

  /**
   * {@code struct flow_event} with the C field names, laid out by jnr with the platform's
   * alignment. {@code FlowEventTest} checks every offset against the {@code _Static_assert}s in
   * flow.h, which clang checks against the C struct.
   */
  public static final class Layout extends StructLayout {
    public final Unsigned64 ts_ns = new Unsigned64();
    public final Unsigned64 sk = new Unsigned64();
    public final Unsigned64 cgroup_id = new Unsigned64();
    public final Unsigned64 duration_ns = new Unsigned64();
    public final Unsigned64 bytes_acked = new Unsigned64();
    public final Unsigned64 bytes_received = new Unsigned64();
    public final Padding saddr = new Padding(NativeType.UCHAR, 16); // __u8[16], network order
    public final Padding daddr = new Padding(NativeType.UCHAR, 16); // __u8[16], network order
    public final Padding comm = new Padding(NativeType.UCHAR, 16); // char[16], NUL padded
    public final Unsigned32 pid = new Unsigned32();
    public final Unsigned32 connect_us = new Unsigned32();
    public final Unsigned32 segs_in = new Unsigned32();
    public final Unsigned32 segs_out = new Unsigned32();
    public final Unsigned32 srtt_us = new Unsigned32();
    public final Unsigned32 rttvar_us = new Unsigned32();
    public final Unsigned32 total_retrans = new Unsigned32();
    public final Unsigned32 snd_cwnd = new Unsigned32();
    public final Unsigned16 sport = new Unsigned16();
    public final Unsigned16 dport = new Unsigned16();
    public final Unsigned16 family = new Unsigned16();
    public final Unsigned8 type = new Unsigned8();
    public final Unsigned8 old_state = new Unsigned8();
    public final Unsigned8 new_state = new Unsigned8();
    public final Unsigned8 flags = new Unsigned8();
    public final Padding _pad = new Padding(NativeType.UCHAR, 6);

    Layout(Runtime runtime) {
      super(runtime);
    }

    /** C field name to offset, in declaration order. */
    public Map<java.lang.String, Integer> offsets() {
      Map<java.lang.String, Integer> offsets = new LinkedHashMap<>();
      for (java.lang.reflect.Field f : Layout.class.getDeclaredFields()) {
        if (Field.class.isAssignableFrom(f.getType())) {
          try {
            offsets.put(f.getName(), (int) ((Field) f.get(this)).offset());
          } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
          }
        }
      }
      return offsets;
    }
  }

  /** The layout on this platform. */
  public static final Layout LAYOUT = new Layout(Runtime.getSystemRuntime());

  /** {@code sizeof(struct flow_event)}. */
  public static final int SIZE = LAYOUT.size();

  private static final Map<String, Integer> OFFSETS = LAYOUT.offsets();

  private static final int TS_NS = offset("ts_ns");
  private static final int SK = offset("sk");
  private static final int CGROUP_ID = offset("cgroup_id");
  private static final int DURATION_NS = offset("duration_ns");
  private static final int BYTES_ACKED = offset("bytes_acked");
  private static final int BYTES_RECEIVED = offset("bytes_received");
  private static final int SADDR = offset("saddr");
  private static final int DADDR = offset("daddr");
  private static final int COMM = offset("comm");
  private static final int PID = offset("pid");
  private static final int CONNECT_US = offset("connect_us");
  private static final int SEGS_IN = offset("segs_in");
  private static final int SEGS_OUT = offset("segs_out");
  private static final int SRTT_US = offset("srtt_us");
  private static final int RTTVAR_US = offset("rttvar_us");
  private static final int TOTAL_RETRANS = offset("total_retrans");
  private static final int SND_CWND = offset("snd_cwnd");
  private static final int SPORT = offset("sport");
  private static final int DPORT = offset("dport");
  private static final int FAMILY = offset("family");
  private static final int TYPE = offset("type");
  private static final int OLD_STATE = offset("old_state");
  private static final int NEW_STATE = offset("new_state");
  private static final int FLAGS = offset("flags");

  private static int offset(String cField) {
    Integer offset = OFFSETS.get(cField);
    if (offset == null) {
      throw new IllegalStateException("no field " + cField + " in FlowEvent.Layout");
    }
    return offset;
  }

  /** Whether all of {@code flag} ({@code FLAG_*}) is set. */
  public boolean has(int flag) {
    return (flags & flag) == flag;
  }

  /**
   * Decodes the record a ring buffer callback got. Copies it first: the ring buffer slot is reused
   * once the callback returns.
   */
  public static FlowEvent decode(Pointer data, long size) {
    if (size < SIZE) {
      throw new IllegalArgumentException("flow_event of " + size + " bytes, expected " + SIZE);
    }
    byte[] bytes = new byte[SIZE];
    data.get(0, bytes, 0, SIZE);
    return decode(bytes);
  }

  /** Decodes {@code struct flow_event} bytes in host byte order. */
  public static FlowEvent decode(byte[] bytes) {
    if (bytes.length < SIZE) {
      throw new IllegalArgumentException(
          "flow_event of " + bytes.length + " bytes, expected " + SIZE);
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
    return new FlowEvent(
        FlowEventType.of(b.get(TYPE) & 0xff),
        b.getLong(TS_NS),
        b.getLong(SK),
        b.getLong(CGROUP_ID),
        b.getLong(DURATION_NS),
        b.getLong(BYTES_ACKED),
        b.getLong(BYTES_RECEIVED),
        b.getShort(FAMILY) & 0xffff,
        address(bytes, SADDR),
        b.getShort(SPORT) & 0xffff,
        address(bytes, DADDR),
        b.getShort(DPORT) & 0xffff,
        b.getInt(PID),
        Integer.toUnsignedLong(b.getInt(CONNECT_US)),
        comm(bytes),
        Integer.toUnsignedLong(b.getInt(SEGS_IN)),
        Integer.toUnsignedLong(b.getInt(SEGS_OUT)),
        Integer.toUnsignedLong(b.getInt(SRTT_US)),
        Integer.toUnsignedLong(b.getInt(RTTVAR_US)),
        Integer.toUnsignedLong(b.getInt(TOTAL_RETRANS)),
        Integer.toUnsignedLong(b.getInt(SND_CWND)),
        TcpState.of(b.get(OLD_STATE) & 0xff),
        TcpState.of(b.get(NEW_STATE) & 0xff),
        b.get(FLAGS) & 0xff);
  }

  /** 16 bytes in network order; InetAddress turns {@code ::ffff:a.b.c.d} into Inet4Address. */
  private static InetAddress address(byte[] bytes, int offset) {
    byte[] a = new byte[16];
    System.arraycopy(bytes, offset, a, 0, 16);
    try {
      return InetAddress.getByAddress(a);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("16 bytes are always a valid address", e);
    }
  }

  private static String comm(byte[] bytes) {
    int len = 0;
    while (len < 16 && bytes[COMM + len] != 0) {
      len++;
    }
    return new String(bytes, COMM, len, StandardCharsets.UTF_8);
  }
}
