package io.flowsight.sidecar.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.testing.Requirements;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Loads the real flow.bpf.o into this kernel, makes TCP connections over loopback and checks the
 * exact events: one CLOSE per socket, carrying its side, its open time and the handshake time, and
 * nothing at the open. Needs root (CAP_BPF + CAP_PERFMON) and a kernel with BTF.
 *
 * <p>The byte counters, for a client that sends 1000 bytes and a server that answers 5000, where
 * the client half-closes first and the server closes after reading the client's FIN:
 *
 * <ul>
 *   <li>client (active open): bytes_acked = 1000 + 1 (its SYN) + 1 (its FIN) = 1002, bytes_received
 *       = 5000 + 1 (the server's FIN) = 5001, closes from FIN_WAIT2;
 *   <li>server (passive open): bytes_acked = 5000 + 1 (its FIN) = 5001 (its SYN-ACK does not
 *       count), bytes_received = 1000 + 1 (the client's FIN) = 1001, closes from LAST_ACK.
 * </ul>
 *
 * The first closer half-closes ({@code shutdownOutput}) instead of closing: an orphaned socket in
 * FIN_WAIT2 may become a timewait socket before the peer's FIN arrives, and then its CLOSE would
 * come without that FIN counted.
 */
class BpfObjectIT {

  static final int CLIENT_BYTES = 1000;
  static final int SERVER_BYTES = 5000;

  static BpfObject bpf;
  static final List<FlowEvent> events = new ArrayList<>();

  @BeforeAll
  static void load() {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    long t0 = System.nanoTime();
    bpf = BpfObject.load(BpfObject.Options.defaults());
    long t1 = System.nanoTime();
    List<HookStatus> hooks = bpf.attach();
    long t2 = System.nanoTime();
    bpf.onEvents(events::add);
    System.out.printf(
        "BPF open+load %.1f ms, attach %.1f ms, total %.1f ms%n",
        (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t2 - t0) / 1e6);
    hooks.forEach(h -> System.out.println("hook " + h));
  }

  /** Each test sees only its own events: ports and socket addresses get reused. */
  @BeforeEach
  void forgetEarlierEvents() {
    bpf.consume();
    events.clear();
  }

  @AfterAll
  static void close() {
    if (bpf != null) {
      bpf.close();
    }
  }

  @Test
  void shouldAttachTheTracepointAndLoadEveryKprobe() {
    List<HookStatus> hooks = bpf.hooksLive();
    assertThat(hooks).extracting(HookStatus::program).containsExactlyElementsOf(BpfNames.PROGRAMS);
    HookStatus tracepoint = hooks.get(0);
    assertThat(tracepoint.hook()).isEqualTo("tracepoint/sock/inet_sock_set_state");
    assertThat(tracepoint.live()).isTrue();
    assertThat(tracepoint.required()).isTrue();
    // the kprobes must pass the verifier even where they cannot attach
    assertThat(hooks).allMatch(HookStatus::loaded, "loaded");
    for (HookStatus h : hooks.subList(1, hooks.size())) {
      assertThat(h.required()).isFalse();
      if (!h.live()) {
        assertThat(h.errno()).isPositive();
        assertThat(h.error()).startsWith("attach failed: bpf_program__attach(" + h.program());
      }
    }
    assertThat(bpf.maxEntries(BpfNames.MAP_EVENTS)).isEqualTo(4L << 20);
    assertThat(bpf.maxEntries(BpfNames.MAP_SOCKS)).isEqualTo(65536);
  }

  @Test
  void shouldReportAnIpv4ConnectionExactly() throws Exception {
    checkConnection(StandardProtocolFamily.INET, "127.0.0.1", FlowEvent.AF_INET);
  }

  @Test
  void shouldReportAnIpv6ConnectionExactly() throws Exception {
    checkConnection(StandardProtocolFamily.INET6, "::1", FlowEvent.AF_INET6);
  }

  /** Java's default (dual-stack) sockets are AF_INET6 even for IPv4: v4-mapped addresses. */
  @Test
  void shouldReportIpv4OverADualStackSocketAsV4MappedInAnInet6Socket() throws Exception {
    checkConnection(StandardProtocolFamily.INET6, "127.0.0.1", FlowEvent.AF_INET6);
  }

  private void checkConnection(ProtocolFamily pf, String host, int family) throws Exception {
    InetAddress loopback = InetAddress.getByName(host);
    long pid = ProcessHandle.current().pid();
    int serverPort;
    int clientPort;
    long beforeConnect;
    long afterConnect;
    long[] accepted = new long[1];
    try (ServerSocketChannel server = ServerSocketChannel.open(pf)) {
      server.bind(new InetSocketAddress(loopback, 0));
      serverPort = ((InetSocketAddress) server.getLocalAddress()).getPort();
      CompletableFuture<Void> served =
          CompletableFuture.runAsync(
              () -> {
                try (SocketChannel s = server.accept()) {
                  accepted[0] = System.nanoTime();
                  readExactly(s, CLIENT_BYTES);
                  s.write(ByteBuffer.allocate(SERVER_BYTES));
                  readUntilEof(s);
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      try (SocketChannel client = SocketChannel.open(pf)) {
        beforeConnect = System.nanoTime(); // CLOCK_MONOTONIC, as bpf_ktime_get_ns()
        client.connect(new InetSocketAddress(loopback, serverPort));
        afterConnect = System.nanoTime();
        clientPort = ((InetSocketAddress) client.getLocalAddress()).getPort();
        client.write(ByteBuffer.allocate(CLIENT_BYTES));
        readExactly(client, SERVER_BYTES);
        client.shutdownOutput();
        readUntilEof(client);
      }
      served.get(10, TimeUnit.SECONDS);
    }
    int sp = serverPort;
    int cp = clientPort;

    FlowEvent listen = awaitOne(e -> e.type() == FlowEventType.LISTEN && e.localPort() == sp);
    FlowEvent clientClose =
        awaitOne(
            e -> e.type() == FlowEventType.CLOSE && e.localPort() == cp && e.remotePort() == sp);
    FlowEvent serverClose =
        awaitOne(
            e -> e.type() == FlowEventType.CLOSE && e.localPort() == sp && e.remotePort() == cp);
    FlowEvent listenerClose =
        awaitOne(
            e ->
                e.type() == FlowEventType.CLOSE
                    && e.oldState() == TcpState.LISTEN
                    && e.localPort() == sp);
    long clientSk = clientClose.socketId();
    long serverSk = serverClose.socketId();
    System.out.printf(
        "%s %s:%n  %s%n  %s%n  %s%n  %s%n",
        pf, host, listen, clientClose, serverClose, listenerClose);

    // LISTEN: in listen(), so our pid
    assertThat(listen.oldState()).isEqualTo(TcpState.CLOSE);
    assertThat(listen.newState()).isEqualTo(TcpState.LISTEN);
    assertThat(listen.family()).isEqualTo(family);
    assertThat(listen.localAddress()).isEqualTo(loopback);
    assertThat(listen.pid()).isEqualTo(pid);
    assertThat(listen.has(FlowEvent.FLAG_PID)).isTrue();

    // CLOSE of the client: half-closed first, so FIN_WAIT2 -> CLOSE when the server's FIN came;
    // it carries what connect() and the handshake told
    assertThat(clientClose.oldState()).isEqualTo(TcpState.FIN_WAIT2);
    assertThat(clientClose.newState()).isEqualTo(TcpState.CLOSE);
    assertThat(clientClose.family()).isEqualTo(family);
    assertThat(clientClose.localAddress()).isEqualTo(loopback);
    assertThat(clientClose.remoteAddress()).isEqualTo(loopback);
    assertThat(clientClose.bytesAcked()).isEqualTo(CLIENT_BYTES + 2); // 1002: + SYN + FIN
    assertThat(clientClose.bytesReceived()).isEqualTo(SERVER_BYTES + 1); // 5001: + server's FIN
    assertThat(clientClose.has(FlowEvent.FLAG_ACTIVE)).isTrue();
    assertThat(clientClose.has(FlowEvent.FLAG_PASSIVE)).isFalse();
    assertThat(clientClose.has(FlowEvent.FLAG_PID | FlowEvent.FLAG_SEEN_OPEN)).isTrue();
    assertThat(clientClose.pid()).isEqualTo(pid);
    assertThat(clientClose.comm()).as("the process name, not the thread name").isEqualTo("java");
    // opened (SYN_SENT) inside connect(); the handshake within it, in us rounded up
    assertThat(clientClose.timestampNs() - clientClose.durationNs())
        .isBetween(beforeConnect, afterConnect);
    assertThat(clientClose.connectUs())
        .isPositive()
        .isLessThanOrEqualTo((afterConnect - beforeConnect) / 1000 + 1);
    assertThat(clientClose.segsIn()).isPositive();
    assertThat(clientClose.segsOut()).isPositive();
    assertThat(clientClose.sndCwnd()).isPositive();
    assertThat(clientClose.totalRetrans()).isZero();
    assertThat(clientClose.has(FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)).isTrue();

    // CLOSE of the accepted socket: LAST_ACK -> CLOSE when the client acked its FIN
    assertThat(serverClose.oldState()).isEqualTo(TcpState.LAST_ACK);
    assertThat(serverClose.family()).isEqualTo(family);
    assertThat(serverClose.localAddress()).isEqualTo(loopback);
    assertThat(serverClose.remoteAddress()).isEqualTo(loopback);
    assertThat(serverClose.bytesAcked()).isEqualTo(SERVER_BYTES + 1); // 5001: + FIN
    assertThat(serverClose.bytesReceived()).isEqualTo(CLIENT_BYTES + 1); // 1001: + client's FIN
    assertThat(serverClose.has(FlowEvent.FLAG_PASSIVE)).isTrue();
    assertThat(serverClose.has(FlowEvent.FLAG_ACTIVE)).isFalse();
    assertThat(serverClose.has(FlowEvent.FLAG_SEEN_OPEN)).isTrue();
    assertThat(serverClose.connectUs()).isZero();
    // established (SYN_RECV -> ESTABLISHED) after connect() began, before accept() returned
    assertThat(serverClose.timestampNs() - serverClose.durationNs())
        .isBetween(beforeConnect, accepted[0]);
    assertThat(serverClose.totalRetrans()).isZero();
    assertThat(serverClose.has(FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)).isTrue();
    assertThat(serverClose.srttUs()).isPositive();
    assertThat(serverClose.rttvarUs()).isPositive();
    if (bpf.hooksLive().get(3).live()) {
      // kretprobe inet_csk_accept adds the accepting process
      assertThat(serverClose.pid()).isEqualTo(pid);
      assertThat(serverClose.has(FlowEvent.FLAG_PID_KPROBE)).isTrue();
    } else {
      // established in softirq: no process
      assertThat(serverClose.has(FlowEvent.FLAG_PID)).isFalse();
      assertThat(serverClose.pid()).isZero();
    }

    // the listener's own close: neither side
    assertThat(listenerClose.newState()).isEqualTo(TcpState.CLOSE);
    assertThat(listenerClose.socketId()).isEqualTo(listen.socketId());
    assertThat(listenerClose.pid()).isEqualTo(pid);
    assertThat(listenerClose.bytesAcked()).isZero();
    assertThat(listenerClose.connectUs()).isZero();
    assertThat(listenerClose.rttvarUs()).isZero(); // no RTT sample: not the kernel's 1 s seed
    assertThat(listenerClose.flags() & (FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN))
        .isZero();
    assertThat(listenerClose.flags() & (FlowEvent.FLAG_ACTIVE | FlowEvent.FLAG_PASSIVE)).isZero();

    // exactly one event per socket, its CLOSE: nothing at the open or the handshake
    assertThat(matching(e -> e.socketId() == clientSk && e.remotePort() == sp)).hasSize(1);
    assertThat(matching(e -> e.socketId() == serverSk && e.remotePort() == cp)).hasSize(1);
    assertThat(
            matching(
                e ->
                    (e.localPort() == cp && e.remotePort() == sp)
                        || (e.localPort() == sp && e.remotePort() == cp)))
        .containsExactlyInAnyOrder(clientClose, serverClose);
    assertOnlyCloseAndListenEvents();
  }

  /** The ring buffer carries CLOSE and LISTEN events only (the types 1-3 would not even decode). */
  private static void assertOnlyCloseAndListenEvents() {
    assertThat(events)
        .extracting(FlowEvent::type)
        .containsOnly(FlowEventType.CLOSE, FlowEventType.LISTEN);
    assertThat(bpf.sinkErrors()).isZero();
  }

  @Test
  void shouldReportARefusedConnectAsACloseFromSynSent() throws Exception {
    int port;
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      port = ((InetSocketAddress) s.getLocalAddress()).getPort();
    } // now closed: nothing listens there
    long beforeConnect;
    long afterConnect;
    try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.INET)) {
      beforeConnect = System.nanoTime();
      assertThatThrownBy(() -> c.connect(new InetSocketAddress("127.0.0.1", port)))
          .isInstanceOf(ConnectException.class);
      afterConnect = System.nanoTime();
    }
    int p = port;
    FlowEvent close =
        awaitOne(
            e ->
                e.type() == FlowEventType.CLOSE
                    && e.remotePort() == p
                    && e.oldState() == TcpState.SYN_SENT);
    System.out.printf("refused:%n  %s%n", close);
    assertThat(close.localPort()).isPositive();
    assertThat(close.bytesAcked()).isZero();
    assertThat(close.bytesReceived()).isZero();
    assertThat(close.flags() & (FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)).isZero();
    assertThat(close.has(FlowEvent.FLAG_ACTIVE | FlowEvent.FLAG_SEEN_OPEN)).isTrue();
    assertThat(close.has(FlowEvent.FLAG_PASSIVE)).isFalse();
    assertThat(close.pid()).isEqualTo(ProcessHandle.current().pid());
    assertThat(close.comm()).isEqualTo("java");
    // never established: no handshake time
    assertThat(close.connectUs()).isZero();
    assertThat(close.timestampNs() - close.durationNs()).isBetween(beforeConnect, afterConnect);
    // close() of the already closed socket (CLOSE -> CLOSE) is not reported again, and the open
    // is not reported at all
    assertThat(matching(e -> e.socketId() == close.socketId() && e.remotePort() == p)).hasSize(1);
    assertOnlyCloseAndListenEvents();
  }

  /** Closed by RST (SO_LINGER 0): no FIN either way, so the byte counters hold data (+ SYN). */
  @Test
  void shouldReportAResetConnectionWithoutFinFlags() throws Exception {
    int serverPort;
    int clientPort;
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      serverPort = ((InetSocketAddress) server.getLocalAddress()).getPort();
      SocketChannel client = SocketChannel.open(server.getLocalAddress());
      try (SocketChannel accepted = server.accept()) {
        clientPort = ((InetSocketAddress) client.getLocalAddress()).getPort();
        client.write(ByteBuffer.allocate(CLIENT_BYTES));
        readExactly(accepted, CLIENT_BYTES);
        accepted.write(ByteBuffer.allocate(10)); // also acknowledges the client's 1000 bytes
        readExactly(client, 10);
        client.setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
        client.close(); // RST
        assertThatThrownBy(() -> accepted.read(ByteBuffer.allocate(1)))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("reset");
      } finally {
        client.close();
      }
    }
    int sp = serverPort;
    int cp = clientPort;
    FlowEvent clientClose =
        awaitOne(
            e -> e.type() == FlowEventType.CLOSE && e.localPort() == cp && e.remotePort() == sp);
    FlowEvent serverClose =
        awaitOne(
            e -> e.type() == FlowEventType.CLOSE && e.localPort() == sp && e.remotePort() == cp);
    System.out.printf("reset:%n  %s%n  %s%n", clientClose, serverClose);
    assertThat(clientClose.oldState()).isEqualTo(TcpState.ESTABLISHED);
    assertThat(clientClose.has(FlowEvent.FLAG_ACTIVE)).isTrue();
    assertThat(clientClose.connectUs()).isPositive();
    assertThat(serverClose.has(FlowEvent.FLAG_PASSIVE)).isTrue();
    assertThat(serverClose.connectUs()).isZero();
    assertThat(clientClose.bytesAcked()).isEqualTo(CLIENT_BYTES + 1); // 1001: + SYN, no FIN
    assertThat(clientClose.bytesReceived()).isEqualTo(10);
    assertThat(clientClose.flags() & (FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)).isZero();
    assertThat(serverClose.oldState()).isEqualTo(TcpState.ESTABLISHED);
    assertThat(serverClose.bytesReceived()).isEqualTo(CLIENT_BYTES); // 1000: no FIN came
    // whether the client acked the 10 bytes before its RST depends on delayed ACKs
    assertThat(serverClose.bytesAcked()).isIn(0L, 10L);
    assertThat(serverClose.flags() & (FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)).isZero();
    assertThat(matching(e -> e.localPort() == cp && e.remotePort() == sp)).hasSize(1);
    assertThat(matching(e -> e.localPort() == sp && e.remotePort() == cp)).hasSize(1);
    assertOnlyCloseAndListenEvents();
  }

  /** The iter/tcp snapshot: open sockets with their counters so far, listeners included. */
  @Test
  void shouldSnapshotOpenConnectionsWithTheirCountersSoFar() throws Exception {
    HookStatus iter = bpf.hooksLive().get(BpfNames.PROGRAMS.indexOf(BpfNames.PROG_SNAPSHOT));
    Requirements.require(iter.live(), "the iter/tcp program attached: " + iter);
    int sp;
    int cp;
    FlowEvent c;
    FlowEvent s;
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      sp = ((InetSocketAddress) server.getLocalAddress()).getPort();
      try (SocketChannel client = SocketChannel.open(server.getLocalAddress());
          SocketChannel accepted = server.accept()) {
        cp = ((InetSocketAddress) client.getLocalAddress()).getPort();
        int clientPort = cp;
        int serverPort = sp;
        client.write(ByteBuffer.allocate(CLIENT_BYTES));
        readExactly(accepted, CLIENT_BYTES);
        accepted.write(ByteBuffer.allocate(10)); // carries the ACK of the client's 1000 bytes
        readExactly(client, 10);

        long t0 = System.nanoTime();
        List<FlowEvent> sockets = bpf.snapshot();
        System.out.printf(
            "snapshot of %d sockets in %.2f ms%n", sockets.size(), (System.nanoTime() - t0) / 1e6);
        FlowEvent listener = only(sockets, e -> e.localPort() == serverPort && e.remotePort() == 0);
        c = only(sockets, e -> e.localPort() == clientPort && e.remotePort() == serverPort);
        s = only(sockets, e -> e.localPort() == serverPort && e.remotePort() == clientPort);
        System.out.printf("snapshot:%n  %s%n  %s%n  %s%n", listener, c, s);

        assertThat(sockets).allMatch(e -> e.type() == FlowEventType.SNAPSHOT);
        assertThat(listener.newState()).isEqualTo(TcpState.LISTEN);
        assertThat(listener.pid()).isEqualTo(ProcessHandle.current().pid());
        assertThat(listener.flags() & (FlowEvent.FLAG_ACTIVE | FlowEvent.FLAG_PASSIVE)).isZero();
        assertThat(c.newState()).isEqualTo(TcpState.ESTABLISHED);
        assertThat(c.oldState()).isEqualTo(TcpState.ESTABLISHED);
        assertThat(c.family()).isEqualTo(FlowEvent.AF_INET6); // dual-stack socket
        assertThat(c.localAddress()).isEqualTo(InetAddress.getByName("127.0.0.1"));
        assertThat(c.bytesAcked()).isEqualTo(CLIENT_BYTES + 1); // 1001: + SYN
        assertThat(c.bytesReceived()).isEqualTo(10);
        assertThat(c.pid()).isEqualTo(ProcessHandle.current().pid());
        assertThat(c.has(FlowEvent.FLAG_SEEN_OPEN)).isTrue();
        assertThat(c.durationNs()).isPositive();
        // the side and the handshake, as the CLOSE will carry them
        assertThat(c.has(FlowEvent.FLAG_ACTIVE)).isTrue();
        assertThat(c.has(FlowEvent.FLAG_PASSIVE)).isFalse();
        assertThat(c.connectUs()).isPositive();
        assertThat(c.flags() & (FlowEvent.FLAG_FIN_ACKED | FlowEvent.FLAG_PEER_FIN)).isZero();
        assertThat(s.family()).isEqualTo(FlowEvent.AF_INET);
        assertThat(s.localAddress()).isEqualTo(InetAddress.getByName("127.0.0.1"));
        assertThat(s.bytesReceived()).isEqualTo(CLIENT_BYTES);
        assertThat(s.bytesAcked()).isIn(0L, 10L); // the client's ACK of 10 bytes may be delayed
        assertThat(s.has(FlowEvent.FLAG_PASSIVE | FlowEvent.FLAG_SEEN_OPEN)).isTrue();
        assertThat(s.has(FlowEvent.FLAG_ACTIVE)).isFalse();
        assertThat(s.connectUs()).isZero();
        assertThat(s.durationNs()).isPositive();
      }
    }
    // nothing crossed the ring buffer while they were open; their CLOSEs are of the same sockets
    int clientPort = cp;
    int serverPort = sp;
    assertThat(
            awaitOne(
                    e ->
                        e.type() == FlowEventType.CLOSE
                            && e.localPort() == clientPort
                            && e.remotePort() == serverPort)
                .socketId())
        .isEqualTo(c.socketId());
    assertThat(
            awaitOne(
                    e ->
                        e.type() == FlowEventType.CLOSE
                            && e.localPort() == serverPort
                            && e.remotePort() == clientPort)
                .socketId())
        .isEqualTo(s.socketId());
    assertOnlyCloseAndListenEvents();
  }

  private static FlowEvent only(List<FlowEvent> events, Predicate<FlowEvent> p) {
    List<FlowEvent> found = events.stream().filter(p).toList();
    assertThat(found).hasSize(1);
    return found.get(0);
  }

  @Test
  void shouldCountEventsAndDropNothing() throws Exception {
    shouldReportAnIpv4ConnectionExactly();
    BpfCounters c = bpf.counters();
    System.out.println("counters " + c);
    assertThat(c.events()).isPositive();
    assertThat(c.ringBufferDrops()).isZero();
    assertThat(c.sockMapFull()).isZero();
    // the opening transitions are counted though not sent
    assertThat(c.activeOpen()).isPositive();
    assertThat(c.activeEstablished()).isPositive();
    assertThat(c.passiveEstablished()).isPositive();
    assertThat(c.close()).isPositive();
    assertThat(c.listen()).isPositive();
    assertThat(c.close() + c.listen()).as("events sent").isEqualTo(c.events());
    assertThat(bpf.sinkErrors()).isZero();
  }

  @Test
  void shouldOpenLoadAndAttachInWellUnderASecond() {
    // the first load in @BeforeAll also pays for loading libbpf, jffi and the classes
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      try (BpfObject again = BpfObject.load(BpfObject.Options.defaults())) {
        long t1 = System.nanoTime();
        again.attach();
        long t2 = System.nanoTime();
        System.out.printf(
            "warm open+load %.1f ms, attach %.1f ms%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6);
        assertThat(t2 - t0).isLessThan(TimeUnit.SECONDS.toNanos(1));
      }
    }
  }

  @Test
  void shouldCountDropsWhenTheRingBufferIsFull() throws Exception {
    // one page holds 26 records of 144 + 8 bytes; 20 connections make 80 events (a LISTEN, and the
    // CLOSEs of the client, the accepted socket and the listener)
    try (BpfObject small =
        BpfObject.load(
            BpfObject.Options.defaults()
                .withRingBufferBytes(4096)
                .withSocketMapEntries(1024)
                .withKprobes(false))) {
      assertThat(small.maxEntries(BpfNames.MAP_EVENTS)).isEqualTo(4096);
      assertThat(small.maxEntries(BpfNames.MAP_SOCKS)).isEqualTo(1024);
      assertThat(small.hooksLive().subList(1, 4)).noneMatch(HookStatus::loaded);
      small.attach();
      List<FlowEvent> got = new ArrayList<>();
      small.onEvents(got::add);
      for (int i = 0; i < 20; i++) {
        shortConnection();
      }
      BpfCounters c = small.counters();
      int consumed = small.consume();
      System.out.println("small ring: consumed " + consumed + ", counters " + c);
      assertThat(c.ringBufferDrops()).isPositive();
      assertThat(consumed).isEqualTo(got.size()).isEqualTo((int) c.events()).isLessThan(27);
    }
  }

  private static void shortConnection() throws IOException {
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      try (SocketChannel c = SocketChannel.open(server.getLocalAddress());
          SocketChannel s = server.accept()) {
        c.write(ByteBuffer.allocate(1));
        readExactly(s, 1);
      }
    }
  }

  /** Drains the ring buffer until exactly one event matches (waits up to 5 s for it). */
  private static FlowEvent awaitOne(Predicate<FlowEvent> p) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      bpf.consume();
      List<FlowEvent> found = matching(p);
      if (!found.isEmpty() || System.nanoTime() > deadline) {
        assertThat(found).as("matching events").hasSize(1);
        return found.get(0);
      }
      Thread.sleep(20);
    }
  }

  private static List<FlowEvent> matching(Predicate<FlowEvent> p) {
    return events.stream().filter(p).toList();
  }

  private static void readExactly(SocketChannel s, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (s.read(b) < 0) {
        throw new IOException("EOF after " + b.position() + " of " + n + " bytes");
      }
    }
  }

  private static void readUntilEof(SocketChannel s) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(64);
    while (s.read(b) >= 0) {
      if (b.position() > 0) {
        throw new IOException("unexpected data before EOF");
      }
    }
  }
}
