package io.flowsight.sidecar.flow;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.Side;
import io.flowsight.sidecar.bpf.FlowEvent;
import io.flowsight.sidecar.bpf.FlowEventType;
import io.flowsight.sidecar.bpf.TcpState;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlowTableTest {

  private static final long SOCK = 0xffff_8880_1234_0000L;
  private static final long MS = 1_000_000L;

  private final List<FlowRecord> out = new ArrayList<>();
  private int evicted;
  private int vanished;
  private final KernelClock clock = new KernelClock();
  private final Identity me = Identity.newBuilder().setApp("frontend").build();
  private FlowTable table = newTable(1024);

  private FlowTable newTable(int max) {
    return new FlowTable(
        "host-1",
        max,
        clock,
        ip -> me,
        out::add,
        new FlowTable.Listener() {
          @Override
          public void recordEmitted(FlowKind kind) {}

          @Override
          public void connectionEvicted() {
            evicted++;
          }

          @Override
          public void connectionVanished() {
            vanished++;
          }
        });
  }

  @Test
  void shouldReportAnActiveConnectionFromItsCloseAsOneClientRecordWithoutSynAndFin() {
    long t0 = clock.nowMonotonicNs();
    // bytes_acked = 1000 payload + SYN + FIN; bytes_received = 5000 payload + peer's FIN.
    table.onEvent(
        close(SOCK, t0 + 50 * MS, 40000, 8080, TcpState.FIN_WAIT2)
            .side(FlowEvent.FLAG_ACTIVE)
            .duration(50 * MS)
            .connectUs(2000)
            .pid(4242, "curl")
            .counters(1002, 5001, 7, 9, 1)
            .rtt(120, 30, 10)
            .flags(FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)
            .build());

    assertThat(out).hasSize(1);
    FlowRecord r = out.get(0);
    assertThat(r.getKind()).isEqualTo(FlowKind.CLOSED);
    assertThat(r.getSide()).isEqualTo(Side.CLIENT);
    assertThat(r.getServicePort()).isEqualTo(8080);
    assertThat(r.getLocalPort()).isEqualTo(40000);
    assertThat(r.getRemotePort()).isEqualTo(8080);
    assertThat(r.getAddressFamily()).isEqualTo(AddressFamily.IPV4);
    assertThat(r.getBytesSent()).isEqualTo(1000);
    assertThat(r.getBytesReceived()).isEqualTo(5000);
    assertThat(r.getSegmentsReceived()).isEqualTo(7);
    assertThat(r.getSegmentsSent()).isEqualTo(9);
    assertThat(r.getRetransmits()).isEqualTo(1);
    assertThat(r.getSrttMicros()).isEqualTo(120);
    assertThat(r.getRttVarMicros()).isEqualTo(30);
    assertThat(r.getCongestionWindow()).isEqualTo(10);
    assertThat(r.getConnectLatencyMicros()).isEqualTo(2000L);
    assertThat(r.getPid()).isEqualTo(4242);
    assertThat(r.getProcessName()).isEqualTo("curl");
    assertThat(r.getCgroupId()).isEqualTo(77L);
    assertThat(r.getLocalIdentity()).isEqualTo(me);
    // the connection started at the close less its duration
    assertThat(r.getConnectionStartTime()).isEqualTo(at(t0));
    assertThat(r.getEndTime()).isEqualTo(at(t0 + 50 * MS));
    assertThat(Duration.between(r.getStartTime(), r.getEndTime()).toMillis()).isEqualTo(50);
    assertThat(r.getConnectionStartTime()).isEqualTo(r.getStartTime());
    assertThat(r.getSequence()).isZero();
    assertThat(table.size()).as("a closed connection is never tracked").isZero();
  }

  @Test
  void shouldReportTheAcceptingSideAsServerWithTheLocalPortAsServicePort() {
    long t0 = clock.nowMonotonicNs();
    // The server's SYN is not in bytes_acked; its FIN is, and the client's FIN is in
    // bytes_received.
    table.onEvent(
        close(SOCK, t0 + 10 * MS, 8080, 40000, TcpState.LAST_ACK)
            .side(FlowEvent.FLAG_PASSIVE)
            .duration(10 * MS)
            .counters(5001, 1001, 9, 7, 0)
            .flags(FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)
            .build());

    FlowRecord r = out.get(0);
    assertThat(r.getSide()).isEqualTo(Side.SERVER);
    assertThat(r.getServicePort()).isEqualTo(8080);
    assertThat(r.getLocalPort()).isEqualTo(8080);
    assertThat(r.getRemotePort()).isEqualTo(40000);
    assertThat(r.getBytesSent()).isEqualTo(5000);
    assertThat(r.getBytesReceived()).isEqualTo(1000);
    assertThat(r.getConnectLatencyMicros()).isNull();
    assertThat(r.getPid()).isNull();
    assertThat(r.getProcessName()).isNull();
    assertThat(r.getConnectionStartTime()).isEqualTo(at(t0));
  }

  @Test
  void shouldTakeTheSideFromTheKernelsFlagRatherThanFromTheListeningPorts() {
    long t0 = clock.nowMonotonicNs();
    table.onEvent(
        event(FlowEventType.LISTEN, SOCK + 64, t0, 8080, 0, TcpState.CLOSE, TcpState.LISTEN)
            .build());
    // A connect from local port 8080 (a listening port too), and an accepted connection on a port
    // whose listener was never seen.
    table.onEvent(
        close(SOCK, t0 + MS, 8080, 443, TcpState.FIN_WAIT2)
            .side(FlowEvent.FLAG_ACTIVE)
            .duration(MS)
            .connectUs(100)
            .counters(11, 0, 2, 3, 0)
            .build());
    table.onEvent(
        close(SOCK + 128, t0 + MS, 9090, 50000, TcpState.LAST_ACK)
            .side(FlowEvent.FLAG_PASSIVE)
            .duration(MS)
            .counters(10, 0, 2, 3, 0)
            .build());

    assertThat(out).extracting(FlowRecord::getSide).containsExactly(Side.CLIENT, Side.SERVER);
    assertThat(out).extracting(FlowRecord::getServicePort).containsExactly(443, 9090);
    assertThat(out).extracting(FlowRecord::getBytesSent).containsExactly(10L, 10L);
  }

  @Test
  void shouldMarkARefusedConnectAsFailedAndIgnoreListenerCloses() {
    long t0 = clock.nowMonotonicNs();
    table.onEvent(
        event(FlowEventType.LISTEN, SOCK + 64, t0, 9000, 0, TcpState.CLOSE, TcpState.LISTEN)
            .build());
    table.onEvent(
        close(SOCK, t0 + MS, 41000, 9999, TcpState.SYN_SENT)
            .side(FlowEvent.FLAG_ACTIVE)
            .duration(MS)
            .pid(4242, "curl")
            .build());
    table.onEvent(close(SOCK + 64, t0 + MS, 9000, 0, TcpState.LISTEN).duration(MS).build());

    assertThat(out).hasSize(1);
    FlowRecord r = out.get(0);
    assertThat(r.getKind()).isEqualTo(FlowKind.FAILED_CONNECT);
    assertThat(r.getSide()).isEqualTo(Side.CLIENT);
    assertThat(r.getServicePort()).isEqualTo(9999);
    assertThat(r.getLocalPort()).isEqualTo(41000);
    assertThat(r.getBytesSent()).isZero();
    assertThat(r.getBytesReceived()).isZero();
    assertThat(r.getConnectLatencyMicros()).isNull();
    assertThat(r.getPid()).isEqualTo(4242);
    assertThat(r.getConnectionStartTime()).isEqualTo(at(t0));
    assertThat(table.size()).isZero();
  }

  @Test
  void shouldReportAConnectionFirstFoundOpenFromItsOpenWithDeltasThatAddUpToTheTotals() {
    long t0 = clock.nowMonotonicNs();
    table.onSnapshot(
        List.of(
            snapshot(SOCK, t0 + 100 * MS, 40001, 443)
                .side(FlowEvent.FLAG_ACTIVE)
                .duration(100 * MS)
                .connectUs(1000)
                .pid(4242, "curl")
                .counters(301, 700, 3, 4, 0)
                .build()));
    table.onSnapshot(
        List.of(
            snapshot(SOCK, t0 + 200 * MS, 40001, 443)
                .side(FlowEvent.FLAG_ACTIVE)
                .duration(200 * MS)
                .connectUs(1000)
                .pid(4242, "curl")
                .counters(501, 1700, 6, 8, 2)
                .build()));
    table.onEvent(
        close(SOCK, t0 + 250 * MS, 40001, 443, TcpState.FIN_WAIT2)
            .side(FlowEvent.FLAG_ACTIVE)
            .duration(250 * MS)
            .connectUs(1000)
            .pid(4242, "curl")
            .counters(602, 1801, 8, 10, 2)
            .flags(FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)
            .build());

    assertThat(out)
        .extracting(FlowRecord::getKind)
        .containsExactly(FlowKind.INTERIM, FlowKind.INTERIM, FlowKind.CLOSED);
    assertThat(out).extracting(FlowRecord::getSide).containsOnly(Side.CLIENT);
    assertThat(out).extracting(FlowRecord::getBytesSent).containsExactly(300L, 200L, 100L);
    assertThat(out).extracting(FlowRecord::getBytesReceived).containsExactly(700L, 1000L, 100L);
    assertThat(out).extracting(FlowRecord::getSegmentsSent).containsExactly(4L, 4L, 2L);
    assertThat(out).extracting(FlowRecord::getRetransmits).containsExactly(0L, 2L, 0L);
    assertThat(out).extracting(FlowRecord::getSequence).containsExactly(0L, 1L, 2L);
    assertThat(out).extracting(FlowRecord::getPid).containsOnly(4242);
    // The first record starts at the open (100 ms before the first snapshot); each next one where
    // the previous one ended.
    assertThat(out.get(0).getStartTime()).isEqualTo(out.get(0).getConnectionStartTime());
    assertThat(Duration.between(out.get(0).getStartTime(), out.get(0).getEndTime()))
        .isEqualTo(Duration.ofMillis(100));
    assertThat(out.get(1).getStartTime()).isEqualTo(out.get(0).getEndTime());
    assertThat(out.get(2).getStartTime()).isEqualTo(out.get(1).getEndTime());
    assertThat(out)
        .extracting(FlowRecord::getConnectLatencyMicros)
        .containsExactly(1000L, null, null);
    assertThat(table.size()).isZero();
  }

  @Test
  void shouldAdoptAConnectionOpenedBeforeTheSidecarWithoutReportingItsPast() {
    long t0 = clock.nowMonotonicNs();
    table.onSnapshot(
        List.of(
            snapshot(SOCK + 64, t0, 8080, 0).state(TcpState.LISTEN).build(),
            snapshot(SOCK, t0, 8080, 50000).counters(10_000, 20_000, 10, 10, 0).build()));
    assertThat(out).isEmpty();
    assertThat(table.size()).isEqualTo(1);
    table.onEvent(
        close(SOCK, t0 + 10 * MS, 8080, 50000, TcpState.LAST_ACK)
            .counters(10_101, 20_051, 12, 12, 0)
            .flags(FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)
            .build());

    FlowRecord r = out.get(0);
    assertThat(r.getSide()).as("no flag, local port 8080 listens: server").isEqualTo(Side.SERVER);
    assertThat(r.getBytesSent()).isEqualTo(100);
    assertThat(r.getBytesReceived()).isEqualTo(50);
    assertThat(r.getStartTime()).isEqualTo(at(t0));
    assertThat(r.getConnectionStartTime()).as("open not seen").isEqualTo(at(t0));
  }

  @Test
  void shouldAdoptAFlaggedSocketFoundOpenWithItsExactSide() {
    long t0 = clock.nowMonotonicNs();
    // Established before the sidecar, accepted after it started: the accept probe flagged it.
    table.onSnapshot(
        List.of(
            snapshot(SOCK + 64, t0, 8080, 0).state(TcpState.LISTEN).build(),
            snapshot(SOCK, t0, 8080, 50000)
                .side(FlowEvent.FLAG_PASSIVE)
                .pid(999, "nginx")
                .counters(100, 200, 1, 1, 0)
                .build(),
            snapshot(SOCK + 128, t0, 8080, 443)
                .side(FlowEvent.FLAG_ACTIVE)
                .counters(1, 0, 1, 1, 0)
                .build()));
    assertThat(out).isEmpty();
    table.onEvent(
        close(SOCK, t0 + 10 * MS, 8080, 50000, TcpState.CLOSE_WAIT)
            .side(FlowEvent.FLAG_PASSIVE)
            .pid(999, "nginx")
            .counters(150, 230, 2, 2, 0)
            .build());
    table.onEvent(
        close(SOCK + 128, t0 + 10 * MS, 8080, 443, TcpState.CLOSE_WAIT)
            .side(FlowEvent.FLAG_ACTIVE)
            .counters(8, 0, 2, 2, 0)
            .build());

    assertThat(out).extracting(FlowRecord::getSide).containsExactly(Side.SERVER, Side.CLIENT);
    assertThat(out).extracting(FlowRecord::getServicePort).containsExactly(8080, 443);
    assertThat(out).extracting(FlowRecord::getBytesSent).containsExactly(50L, 7L);
    assertThat(out).extracting(FlowRecord::getBytesReceived).containsExactly(30L, 0L);
    assertThat(out.get(0).getProcessName()).isEqualTo("nginx");
  }

  @Test
  void shouldEvictTheOldestConnectionBeyondTheCap() {
    table = newTable(2);
    long t0 = clock.nowMonotonicNs();
    List<FlowEvent> open = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      open.add(snapshot(SOCK + i, t0, 40000 + i, 443).side(FlowEvent.FLAG_ACTIVE).build());
    }
    table.onSnapshot(open);
    assertThat(table.size()).isEqualTo(2);
    assertThat(evicted).isEqualTo(1);
  }

  @Test
  void shouldDropTrackedConnectionsThatVanishedFromTheKernel() {
    long old = clock.nowMonotonicNs() - 5_000 * MS;
    table.onSnapshot(
        List.of(snapshot(SOCK, old, 8080, 40000).side(FlowEvent.FLAG_PASSIVE).build()));
    assertThat(table.size()).isEqualTo(1);
    table.onSnapshot(List.of());
    assertThat(table.size()).isZero();
    assertThat(vanished).isEqualTo(1);
    assertThat(out).isEmpty();
  }

  @Test
  void shouldNumberRecordsOfOneRunWithoutGaps() {
    long t0 = clock.nowMonotonicNs();
    for (int i = 0; i < 5; i++) {
      table.onEvent(
          close(SOCK + i, t0 + MS, 30000 + i, 80, TcpState.SYN_SENT)
              .side(FlowEvent.FLAG_ACTIVE)
              .duration(MS)
              .build());
    }
    assertThat(out).extracting(FlowRecord::getSequence).containsExactly(0L, 1L, 2L, 3L, 4L);
    assertThat(out).extracting(FlowRecord::getSidecarRunId).containsOnly(table.runId());
  }

  @Test
  void shouldCarryIpv6AddressesAs16Bytes() throws UnknownHostException {
    long t0 = clock.nowMonotonicNs();
    InetAddress v6 = InetAddress.getByName("2001:db8::1");
    table.onEvent(
        new EventBuilder(
                FlowEventType.CLOSE,
                SOCK,
                t0 + MS,
                443,
                50000,
                TcpState.CLOSE_WAIT,
                TcpState.CLOSE,
                v6)
            .side(FlowEvent.FLAG_PASSIVE)
            .duration(MS)
            .build());

    FlowRecord r = out.get(0);
    assertThat(r.getAddressFamily()).isEqualTo(AddressFamily.IPV6);
    assertThat(r.getSide()).isEqualTo(Side.SERVER);
    assertThat(bytes(r.getLocalIp())).isEqualTo(v6.getAddress());
  }

  /** A kernel time as a record holds it (Avro timestamp-millis). */
  private Instant at(long monotonicNs) {
    return clock.toInstant(monotonicNs).truncatedTo(ChronoUnit.MILLIS);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] b = new byte[buffer.remaining()];
    buffer.duplicate().get(b);
    return b;
  }

  private static EventBuilder event(
      FlowEventType type,
      long sock,
      long ts,
      int localPort,
      int remotePort,
      TcpState old,
      TcpState now) {
    return new EventBuilder(type, sock, ts, localPort, remotePort, old, now, null);
  }

  /** The CLOSE of a socket from {@code old}. */
  private static EventBuilder close(
      long sock, long ts, int localPort, int remotePort, TcpState old) {
    return event(FlowEventType.CLOSE, sock, ts, localPort, remotePort, old, TcpState.CLOSE);
  }

  private static EventBuilder snapshot(long sock, long ts, int localPort, int remotePort) {
    return new EventBuilder(
        FlowEventType.SNAPSHOT,
        sock,
        ts,
        localPort,
        remotePort,
        TcpState.ESTABLISHED,
        TcpState.ESTABLISHED,
        null);
  }

  /** A FlowEvent as the kernel would send it; IPv4 127.0.0.2 -> 127.0.0.3 unless told. */
  private static final class EventBuilder {
    final FlowEventType type;
    final long sock;
    final long ts;
    final int localPort;
    final int remotePort;
    final TcpState old;
    TcpState now;
    final InetAddress address;
    long durationNs;
    long connectUs;
    long acked, received, segsIn, segsOut, retrans, srtt, rttvar, cwnd;
    int pid;
    String comm = "";
    int flags;

    EventBuilder(
        FlowEventType type,
        long sock,
        long ts,
        int localPort,
        int remotePort,
        TcpState old,
        TcpState now,
        InetAddress address) {
      this.type = type;
      this.sock = sock;
      this.ts = ts;
      this.localPort = localPort;
      this.remotePort = remotePort;
      this.old = old;
      this.now = now;
      this.address = address;
    }

    EventBuilder pid(int pid, String comm) {
      this.pid = pid;
      this.comm = comm;
      this.flags |= FlowEvent.FLAG_PID;
      return this;
    }

    EventBuilder duration(long ns) {
      this.durationNs = ns;
      this.flags |= FlowEvent.FLAG_SEEN_OPEN;
      return this;
    }

    /** {@code FlowEvent.FLAG_ACTIVE} or {@code FLAG_PASSIVE}. */
    EventBuilder side(int flag) {
      this.flags |= flag;
      return this;
    }

    EventBuilder connectUs(long us) {
      this.connectUs = us;
      return this;
    }

    EventBuilder counters(long acked, long received, long segsIn, long segsOut, long retrans) {
      this.acked = acked;
      this.received = received;
      this.segsIn = segsIn;
      this.segsOut = segsOut;
      this.retrans = retrans;
      return this;
    }

    EventBuilder rtt(long srtt, long rttvar, long cwnd) {
      this.srtt = srtt;
      this.rttvar = rttvar;
      this.cwnd = cwnd;
      return this;
    }

    EventBuilder flags(int flags) {
      this.flags |= flags;
      return this;
    }

    EventBuilder state(TcpState state) {
      this.now = state;
      return this;
    }

    FlowEvent build() {
      try {
        InetAddress local = address != null ? address : InetAddress.getByName("127.0.0.2");
        InetAddress remote = address != null ? address : InetAddress.getByName("127.0.0.3");
        return new FlowEvent(
            type,
            ts,
            sock,
            77L,
            durationNs,
            acked,
            received,
            address != null ? FlowEvent.AF_INET6 : FlowEvent.AF_INET,
            local,
            localPort,
            remote,
            remotePort,
            pid,
            connectUs,
            comm,
            segsIn,
            segsOut,
            srtt,
            rttvar,
            retrans,
            cwnd,
            old,
            now,
            flags);
      } catch (UnknownHostException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
