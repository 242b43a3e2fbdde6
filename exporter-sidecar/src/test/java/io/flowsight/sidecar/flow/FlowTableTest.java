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
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class FlowTableTest {

  private static final long SOCK = 0xffff_8880_1234_0000L;
  private static final long MS = 1_000_000L;

  private final List<FlowRecord> out = new ArrayList<>();
  private int untracked;
  private int partial;
  private int vanished;
  private final KernelClock clock = new KernelClock();
  private final Identity me = Identity.newBuilder().setApp("frontend").build();
  private FlowTable table = startedTable(1024);

  /** A table started with no socket open and no state. */
  private FlowTable startedTable(int max) {
    FlowTable t = newTable(max);
    t.start(List.of(), null);
    return t;
  }

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
          public void connectionUntracked() {
            untracked++;
          }

          @Override
          public void connectionPartial() {
            partial++;
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
  void shouldTakeASocketWithoutFlagForAServerOnlyWhereAListenerAcceptsItsAddressAndPort()
      throws UnknownHostException {
    long t0 = clock.nowMonotonicNs();
    // Listening on 127.0.0.41:42065 and on every address at 9000; no socket below has a flag (the
    // kernel's socket map was full when they opened).
    table.onEvent(
        event(FlowEventType.LISTEN, SOCK + 64, t0, 42065, 0, TcpState.CLOSE, TcpState.LISTEN)
            .local("127.0.0.41")
            .build());
    table.onEvent(
        event(FlowEventType.LISTEN, SOCK + 65, t0, 9000, 0, TcpState.CLOSE, TcpState.LISTEN)
            .local("0.0.0.0")
            .build());
    // A client on 127.0.0.40 whose ephemeral port happens to be 42065 too.
    table.onEvent(
        close(SOCK, t0 + MS, 42065, 42065, TcpState.FIN_WAIT2)
            .local("127.0.0.40")
            .counters(11, 0, 2, 2, 0)
            .build());
    table.onEvent(
        close(SOCK + 1, t0 + MS, 42065, 50000, TcpState.LAST_ACK)
            .local("127.0.0.41")
            .counters(10, 0, 2, 2, 0)
            .build());
    table.onEvent(
        close(SOCK + 2, t0 + MS, 9000, 50001, TcpState.LAST_ACK)
            .local("127.0.0.7")
            .counters(10, 0, 2, 2, 0)
            .build());

    assertThat(out)
        .extracting(FlowRecord::getSide)
        .containsExactly(Side.CLIENT, Side.SERVER, Side.SERVER);
    assertThat(out).extracting(FlowRecord::getBytesSent).containsExactly(10L, 10L, 10L);
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
    assertThat(out).extracting(FlowRecord::getPartial).containsOnly(false);
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
  void shouldAdoptAConnectionOpenedBeforeAStartWithoutStateWithoutReportingItsPast() {
    long t0 = clock.nowMonotonicNs();
    table = newTable(1024);
    table.start(
        List.of(
            snapshot(SOCK + 64, t0, 8080, 0).state(TcpState.LISTEN).build(),
            snapshot(SOCK, t0, 8080, 50000).counters(10_000, 20_000, 10, 10, 0).build()),
        null);
    assertThat(out).isEmpty();
    assertThat(table.size()).isEqualTo(1);
    assertThat(partial).isEqualTo(1);
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
    assertThat(r.getPartial()).as("what it did before the start is not in it").isTrue();
  }

  @Test
  void shouldAdoptAFlaggedSocketFoundOpenWithItsExactSide() {
    long t0 = clock.nowMonotonicNs();
    // Established before the sidecar, accepted after it started: the accept probe flagged it.
    table = newTable(1024);
    table.start(
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
                .build()),
        null);
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
  void shouldNotEvictAtTheCapButReportASocketWithoutRoomWholeAtItsCloseAndCountItOnce() {
    table = startedTable(2);
    long t0 = clock.nowMonotonicNs();
    // Three client sockets; bytes_acked includes the client's SYN, and the FIN once acknowledged.
    table.onSnapshot(
        List.of(open(0, t0, 101, 1000), open(1, t0, 201, 2000), open(2, t0, 301, 3000)));
    assertThat(table.size()).isEqualTo(2);
    assertThat(table.untracked()).isEqualTo(1);
    table.onSnapshot(
        List.of(
            open(0, t0 + 100 * MS, 151, 1500),
            open(1, t0 + 100 * MS, 251, 2500),
            open(2, t0 + 100 * MS, 351, 3500)));
    assertThat(table.size()).isEqualTo(2);
    assertThat(table.untracked()).isEqualTo(1);
    for (int i = 0; i < 3; i++) {
      table.onEvent(
          close(SOCK + i, t0 + 200 * MS, 40000 + i, 443, TcpState.FIN_WAIT2)
              .side(FlowEvent.FLAG_ACTIVE)
              .duration(200 * MS)
              .counters(1000 * (i + 1) + 2, 10_000 * (i + 1) + 1, 10, 10, 0)
              .flags(FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)
              .build());
    }

    Map<Integer, Long> sent = sum(FlowRecord::getBytesSent);
    Map<Integer, Long> received = sum(FlowRecord::getBytesReceived);
    assertThat(sent)
        .containsExactlyInAnyOrderEntriesOf(Map.of(40000, 1000L, 40001, 2000L, 40002, 3000L));
    assertThat(received)
        .containsExactlyInAnyOrderEntriesOf(Map.of(40000, 10_000L, 40001, 20_000L, 40002, 30_000L));
    assertThat(out.stream().filter(r -> r.getLocalPort() == 40002))
        .as("no interim records without room: one CLOSED record with everything")
        .extracting(FlowRecord::getKind)
        .containsExactly(FlowKind.CLOSED);
    assertThat(untracked).as("counted once, not once per snapshot").isEqualTo(1);
    assertThat(table.size()).isZero();
    table.onSnapshot(List.of());
    assertThat(table.untracked()).isZero();
  }

  @Test
  void shouldAdoptASocketWithoutRoomOnceRoomIsFreeWithEverythingSinceItsOpen() {
    table = startedTable(2);
    long t0 = clock.nowMonotonicNs();
    table.onSnapshot(List.of(open(0, t0, 101, 0), open(1, t0, 201, 0), open(2, t0, 301, 0)));
    table.onEvent(
        close(SOCK, t0 + 50 * MS, 40000, 443, TcpState.FIN_WAIT2)
            .side(FlowEvent.FLAG_ACTIVE)
            .duration(50 * MS)
            .counters(102, 0, 5, 5, 0)
            .flags(FlowEvent.FLAG_FIN_ACKED)
            .build());
    table.onSnapshot(List.of(open(1, t0 + 100 * MS, 251, 0), open(2, t0 + 100 * MS, 351, 0)));
    assertThat(table.size()).isEqualTo(2);
    assertThat(table.untracked()).isZero();
    table.onSnapshot(List.of(open(1, t0 + 200 * MS, 261, 0), open(2, t0 + 200 * MS, 391, 0)));

    assertThat(sum(FlowRecord::getBytesSent))
        .containsExactlyInAnyOrderEntriesOf(Map.of(40000, 100L, 40001, 260L, 40002, 390L));
    List<FlowRecord> late = out.stream().filter(r -> r.getLocalPort() == 40002).toList();
    assertThat(late.get(0).getStartTime())
        .as("its first record covers everything since its open")
        .isEqualTo(late.get(0).getConnectionStartTime());
    assertThat(untracked).isEqualTo(1);
  }

  @Test
  void shouldNotTakeASocketMissingFromOneSnapshotForVanishedAndReportItsQueuedCloseAsADelta() {
    long t0 = clock.nowMonotonicNs();
    table.onSnapshot(List.of(open(0, t0, 1001, 0)));
    // It closed just before the iterator reached it: its CLOSE is still queued.
    table.onSnapshot(List.of());
    assertThat(vanished).isZero();
    table.onEvent(
        close(SOCK, t0 + 50 * MS, 40000, 443, TcpState.FIN_WAIT2)
            .side(FlowEvent.FLAG_ACTIVE)
            .duration(50 * MS)
            .counters(1502, 0, 5, 5, 0)
            .flags(FlowEvent.FLAG_FIN_ACKED)
            .build());

    assertThat(out).extracting(FlowRecord::getBytesSent).containsExactly(1000L, 500L);
    assertThat(vanished).isZero();
  }

  @Test
  void shouldDropTrackedConnectionsMissingFromTwoSnapshots() {
    long old = clock.nowMonotonicNs() - 5_000 * MS;
    table.onSnapshot(
        List.of(snapshot(SOCK, old, 8080, 40000).side(FlowEvent.FLAG_PASSIVE).build()));
    assertThat(table.size()).isEqualTo(1);
    table.onSnapshot(List.of());
    assertThat(table.size()).isEqualTo(1);
    table.onSnapshot(List.of());
    assertThat(table.size()).isZero();
    assertThat(vanished).isEqualTo(1);
    assertThat(out).hasSize(1); // its one INTERIM
  }

  @Test
  void shouldTreatAnotherSocketAtATrackedAddressAsNewAndTheOldOneAsVanished() {
    long t0 = clock.nowMonotonicNs();
    table.onSnapshot(List.of(open(0, t0, 1001, 0)));
    // Same kernel address, another 4-tuple: the first socket's close was lost.
    table.onSnapshot(
        List.of(
            snapshot(SOCK, t0 + 100 * MS, 41000, 443)
                .side(FlowEvent.FLAG_ACTIVE)
                .duration(10 * MS)
                .counters(51, 0, 1, 1, 0)
                .build()));

    assertThat(vanished).isEqualTo(1);
    assertThat(sum(FlowRecord::getBytesSent))
        .containsExactlyInAnyOrderEntriesOf(Map.of(40000, 1000L, 41000, 50L));
  }

  @Test
  void shouldGoOnAfterACleanRestartFromTheSavedCountersWithoutLossOrRepeat() {
    long t0 = clock.nowMonotonicNs();
    table.onSnapshot(
        List.of(
            snapshot(SOCK + 64, t0, 8080, 0).state(TcpState.LISTEN).build(),
            open(0, t0, 1001, 5000),
            snapshot(SOCK + 1, t0, 8080, 50000)
                .side(FlowEvent.FLAG_PASSIVE)
                .duration(10 * MS)
                .counters(700, 300, 3, 3, 0)
                .build()));
    // The last INTERIM at shutdown, then the state.
    table.onSnapshot(
        List.of(
            snapshot(SOCK + 64, t0, 8080, 0).state(TcpState.LISTEN).build(),
            open(0, t0 + 100 * MS, 2001, 6000),
            snapshot(SOCK + 1, t0 + 100 * MS, 8080, 50000)
                .side(FlowEvent.FLAG_PASSIVE)
                .duration(110 * MS)
                .counters(800, 400, 4, 4, 0)
                .build()));
    List<SavedConnection> saved = table.openConnections();
    assertThat(saved).hasSize(2);
    String firstRun = table.runId();

    // The next run: a new program, so no socket carries a flag or its open any more. The socket
    // opened while no sidecar ran (port 40009) reported nothing yet.
    FlowTable next = newTable(1024);
    next.start(
        List.of(
            snapshot(SOCK + 64, t0 + 300 * MS, 8080, 0).state(TcpState.LISTEN).build(),
            snapshot(SOCK, t0 + 300 * MS, 40000, 443).counters(2501, 6500, 9, 9, 0).build(),
            snapshot(SOCK + 1, t0 + 300 * MS, 8080, 50000).counters(850, 450, 5, 5, 0).build(),
            snapshot(SOCK + 9, t0 + 300 * MS, 40009, 443).counters(78, 9, 2, 2, 0).build()),
        saved);
    assertThat(next.size()).isEqualTo(2);
    next.onSnapshot(
        List.of(
            snapshot(SOCK, t0 + 400 * MS, 40000, 443).counters(3001, 7000, 9, 9, 0).build(),
            snapshot(SOCK + 1, t0 + 400 * MS, 8080, 50000).counters(900, 500, 5, 5, 0).build(),
            snapshot(SOCK + 9, t0 + 400 * MS, 40009, 443).counters(78, 9, 2, 2, 0).build()));
    next.onEvent(
        close(SOCK, t0 + 500 * MS, 40000, 443, TcpState.FIN_WAIT2)
            .counters(3102, 7001, 12, 12, 0)
            .flags(FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)
            .build());
    next.onEvent(
        close(SOCK + 1, t0 + 500 * MS, 8080, 50000, TcpState.LAST_ACK)
            .counters(1001, 601, 6, 6, 0)
            .flags(FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)
            .build());

    assertThat(sum(FlowRecord::getBytesSent))
        .containsExactlyInAnyOrderEntriesOf(Map.of(40000, 3100L, 8080, 1000L, 40009, 77L));
    assertThat(sum(FlowRecord::getBytesReceived))
        .containsExactlyInAnyOrderEntriesOf(Map.of(40000, 7000L, 8080, 600L, 40009, 9L));
    List<FlowRecord> client = out.stream().filter(r -> r.getLocalPort() == 40000).toList();
    assertThat(client).extracting(FlowRecord::getSide).containsOnly(Side.CLIENT);
    FlowRecord firstOfNextRun =
        client.stream().filter(r -> !r.getSidecarRunId().equals(firstRun)).findFirst().get();
    assertThat(firstOfNextRun.getStartTime())
        .as("the next run goes on where the last INTERIM ended")
        .isEqualTo(at(t0 + 100 * MS));
    assertThat(firstOfNextRun.getConnectionStartTime())
        .isEqualTo(client.get(0).getConnectionStartTime());
    assertThat(out).extracting(FlowRecord::getPartial).containsOnly(false);
    assertThat(partial).isZero();
  }

  @Test
  void shouldReportTheQueuedCloseOfASavedConnectionGoneBeforeTheStartSnapshotAsADelta() {
    long t0 = clock.nowMonotonicNs();
    table.onSnapshot(List.of(open(0, t0, 1001, 0), open(1, t0, 2001, 0)));
    List<SavedConnection> saved = table.openConnections();

    FlowTable next = newTable(1024);
    next.start(List.of(), saved);
    next.onEvent(
        close(SOCK, t0 + 500 * MS, 40000, 443, TcpState.FIN_WAIT2)
            .counters(1502, 0, 12, 12, 0)
            .flags(FlowEvent.FLAG_FIN_ACKED)
            .build());
    // The other one closed while no sidecar ran: gone at the next snapshot, counted.
    next.onSnapshot(List.of());

    assertThat(sum(FlowRecord::getBytesSent))
        .containsExactlyInAnyOrderEntriesOf(Map.of(40000, 1500L, 40001, 2000L));
    assertThat(next.size()).isZero();
    assertThat(vanished).isEqualTo(1);
  }

  @Test
  void shouldNotMatchASavedConnectionToAnotherSocketAtItsAddress() {
    long t0 = clock.nowMonotonicNs();
    table.onSnapshot(List.of(open(0, t0, 1001, 0)));
    List<SavedConnection> saved = table.openConnections();

    FlowTable next = newTable(1024);
    // Same kernel address, another local port: a new socket, which reported nothing yet.
    next.start(
        List.of(snapshot(SOCK, t0 + 300 * MS, 41000, 443).counters(301, 0, 2, 2, 0).build()),
        saved);
    next.onSnapshot(
        List.of(snapshot(SOCK, t0 + 400 * MS, 41000, 443).counters(301, 0, 2, 2, 0).build()));

    assertThat(vanished).isEqualTo(1);
    assertThat(sum(FlowRecord::getBytesSent))
        .containsExactlyInAnyOrderEntriesOf(Map.of(40000, 1000L, 41000, 300L));
  }

  @Test
  void shouldMarkOnlyTheFirstRecordOfAConnectionOpenBeforeAStartWithoutStateAsPartial() {
    long t0 = clock.nowMonotonicNs();
    table = newTable(1024);
    table.start(List.of(snapshot(SOCK, t0, 40000, 443).counters(5001, 0, 9, 9, 0).build()), null);
    table.onSnapshot(
        List.of(snapshot(SOCK, t0 + 100 * MS, 40000, 443).counters(5101, 0, 9, 9, 0).build()));
    table.onSnapshot(
        List.of(snapshot(SOCK, t0 + 200 * MS, 40000, 443).counters(5201, 0, 9, 9, 0).build()));

    assertThat(out).extracting(FlowRecord::getPartial).containsExactly(true, false);
    assertThat(out).extracting(FlowRecord::getBytesSent).containsExactly(100L, 100L);
    assertThat(partial).isEqualTo(1);
  }

  @Test
  void shouldLeaveRecordsUnnumberedForTheOutputToNumber() {
    long t0 = clock.nowMonotonicNs();
    for (int i = 0; i < 3; i++) {
      table.onEvent(
          close(SOCK + i, t0 + MS, 30000 + i, 80, TcpState.SYN_SENT)
              .side(FlowEvent.FLAG_ACTIVE)
              .duration(MS)
              .build());
    }
    assertThat(out).extracting(FlowRecord::getSequence).containsOnly(0L);
    assertThat(out).extracting(FlowRecord::getSidecarRunId).containsOnly(table.runId());
  }

  /** Client socket i (local port 40000 + i, to 443), seen opening at t0, with its counters. */
  private static FlowEvent open(int i, long ts, long acked, long received) {
    return snapshot(SOCK + i, ts, 40000 + i, 443)
        .side(FlowEvent.FLAG_ACTIVE)
        .duration(10 * MS)
        .counters(acked, received, 1, 1, 0)
        .build();
  }

  /** A counter summed over all records, by local port. */
  private Map<Integer, Long> sum(java.util.function.ToLongFunction<FlowRecord> counter) {
    return out.stream()
        .collect(Collectors.groupingBy(FlowRecord::getLocalPort, Collectors.summingLong(counter)));
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
    InetAddress localOverride;

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

    EventBuilder local(String address) throws UnknownHostException {
      this.localOverride = InetAddress.getByName(address);
      return this;
    }

    EventBuilder state(TcpState state) {
      this.now = state;
      return this;
    }

    FlowEvent build() {
      try {
        InetAddress local =
            localOverride != null
                ? localOverride
                : address != null ? address : InetAddress.getByName("127.0.0.2");
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
