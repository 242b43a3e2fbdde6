package io.flowsight.sidecar.flow;

import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import io.flowsight.sidecar.bpf.FlowEvent;
import io.flowsight.sidecar.bpf.TcpState;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Joins the kernel's per-socket events into one {@link FlowRecord} per connection: CLOSED when it
 * ends, FAILED_CONNECT when a connect never got through, and INTERIM for each {@link #onSnapshot
 * snapshot} while it stays open, with the counters' deltas since the previous record.
 *
 * <p>The kernel sends one CLOSE per socket and nothing at its open: the CLOSE (and a snapshot of a
 * socket still open) carries the side, the time since open, the handshake time and the process. A
 * short connection is therefore never tracked here; one that stays open is tracked from the first
 * snapshot that finds it.
 *
 * <p>Direction is known at the source: a connection this host opened (connect, {@link
 * FlowEvent#FLAG_ACTIVE}) makes it the CLIENT, the remote port being the service port; one it
 * accepted ({@link FlowEvent#FLAG_PASSIVE}) makes it the SERVER, the local port being the service
 * port. A socket with neither flag (it opened before the sidecar started) is a SERVER when its
 * local port is a listening port, else a CLIENT.
 *
 * <p>Byte counters exclude the SYN and FIN, which the kernel counts as one byte of sequence space
 * each: {@code bytes_acked} includes the CLIENT's own SYN (from the handshake on) and our FIN once
 * the peer acknowledged it ({@link FlowEvent#FLAG_FIN_ACKED}); {@code bytes_received} includes the
 * peer's FIN once received ({@link FlowEvent#FLAG_PEER_FIN}).
 *
 * <p>Memory is bounded: beyond {@code maxConnections} the oldest connection is evicted (and
 * counted); its close is then reported like that of a connection never tracked. Not thread-safe:
 * one thread consumes the ring buffer and runs the snapshots.
 */
public final class FlowTable {

  /** What the table reports about itself. */
  public interface Listener {
    void recordEmitted(FlowKind kind);

    void connectionEvicted();

    /** A tracked socket is gone without a close event (that event was lost). */
    void connectionVanished();
  }

  private final String observerId;
  private final String runId = UUID.randomUUID().toString();
  private final int maxConnections;
  private final KernelClock clock;
  private final Function<byte[], Identity> localIdentity;
  private final Consumer<FlowRecord> output;
  private final Listener listener;

  /** Tracked connections by socket address, oldest first (eviction order). */
  private final LinkedHashMap<Long, Connection> connections = new LinkedHashMap<>();

  /** Listening sockets: socket address to local port. */
  private final Map<Long, Integer> listeners = new HashMap<>();

  private long sequence;

  public FlowTable(
      String observerId,
      int maxConnections,
      KernelClock clock,
      Function<byte[], Identity> localIdentity,
      Consumer<FlowRecord> output,
      Listener listener) {
    this.observerId = observerId;
    this.maxConnections = maxConnections;
    this.clock = clock;
    this.localIdentity = localIdentity;
    this.output = output;
    this.listener = listener;
  }

  /** The id of this run, in every record's {@code sidecarRunId}. */
  public String runId() {
    return runId;
  }

  /** Connections tracked now. */
  public int size() {
    return connections.size();
  }

  /** Handles one kernel event. */
  public void onEvent(FlowEvent event) {
    switch (event.type()) {
      case LISTEN -> listeners.put(event.socketId(), event.localPort());
      case CLOSE -> onClose(event);
      default -> {
        // SNAPSHOT events arrive through onSnapshot.
      }
    }
  }

  private void onClose(FlowEvent event) {
    TcpState old = event.oldState();
    if (old == TcpState.LISTEN) {
      listeners.remove(event.socketId());
      return;
    }
    Connection c = connections.remove(event.socketId());
    if (old == TcpState.SYN_RECV || old == TcpState.NEW_SYN_RECV) {
      return; // a passive handshake that never completed: no connection to report
    }
    if (old == TcpState.SYN_SENT) {
      if (c == null) {
        c = new Connection(Side.CLIENT, event, startNs(event));
      }
      c.update(event);
      emit(c, FlowKind.FAILED_CONNECT, event, event.timestampNs());
      return;
    }
    if (c == null) {
      c = adopt(event);
    }
    c.update(event);
    emit(c, FlowKind.CLOSED, event, event.timestampNs());
  }

  /**
   * Reports every open connection: {@code sockets} are the kernel's current TCP sockets with their
   * counters (a socket iterator's output). Each established connection gets an INTERIM record with
   * its deltas. A socket not tracked yet is adopted: one the kernel saw opening ({@link
   * FlowEvent#FLAG_SEEN_OPEN}, after the sidecar started) gets its first INTERIM record now, with
   * everything since its open; one that opened before the sidecar only gets its counters so far as
   * the baseline. Tracked connections missing from the kernel are dropped and counted.
   */
  public void onSnapshot(List<FlowEvent> sockets) {
    clock.resync();
    long now = clock.nowMonotonicNs();
    Set<Long> present = new HashSet<>();
    List<FlowEvent> toReport = new ArrayList<>();
    for (FlowEvent socket : sockets) {
      present.add(socket.socketId());
      TcpState state = socket.newState();
      if (state == TcpState.LISTEN) {
        listeners.putIfAbsent(socket.socketId(), socket.localPort());
        continue;
      }
      if (state == TcpState.SYN_SENT || state == TcpState.SYN_RECV || state == TcpState.CLOSE) {
        continue;
      }
      toReport.add(socket);
    }
    for (FlowEvent socket : toReport) {
      Connection c = connections.get(socket.socketId());
      if (c == null) {
        c = adopt(socket);
        track(c);
        if (!socket.has(FlowEvent.FLAG_SEEN_OPEN)) {
          // Opened before the sidecar (or its map entry was lost): what it did so far is not ours
          // to report; its records start now.
          c.update(socket);
          c.setBaseline(socket);
          c.lastReportNs = socket.timestampNs();
          continue;
        }
      }
      c.update(socket);
      emit(c, FlowKind.INTERIM, socket, socket.timestampNs());
    }
    for (Iterator<Map.Entry<Long, Connection>> it = connections.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<Long, Connection> entry = it.next();
      // A connection opened after the iterator passed its bucket is not missing: only look at
      // connections older than this snapshot.
      if (!present.contains(entry.getKey())
          && entry.getValue().firstSeenNs < now - 1_000_000_000L) {
        it.remove();
        listener.connectionVanished();
      }
    }
    listeners.keySet().retainAll(present);
  }

  /**
   * A connection first seen established or closing: its side from the kernel's flag, else (opened
   * before the sidecar) from the listening ports.
   */
  private Connection adopt(FlowEvent event) {
    Side side;
    if (event.has(FlowEvent.FLAG_ACTIVE)) {
      side = Side.CLIENT;
    } else if (event.has(FlowEvent.FLAG_PASSIVE)) {
      side = Side.SERVER;
    } else {
      side = listeners.containsValue(event.localPort()) ? Side.SERVER : Side.CLIENT;
    }
    return new Connection(side, event, startNs(event));
  }

  /** The socket's open when the kernel saw it, else the event's time. */
  private static long startNs(FlowEvent event) {
    return event.has(FlowEvent.FLAG_SEEN_OPEN)
        ? event.timestampNs() - event.durationNs()
        : event.timestampNs();
  }

  private void track(Connection c) {
    Connection previous = connections.put(c.socketId, c);
    if (previous == null && connections.size() > maxConnections) {
      Iterator<Connection> eldest = connections.values().iterator();
      eldest.next();
      eldest.remove();
      listener.connectionEvicted();
    }
  }

  private void emit(Connection c, FlowKind kind, FlowEvent event, long endNs) {
    Instant end = clock.toInstant(endNs);
    Instant connectionStart = clock.toInstant(c.startNs);
    Instant start = c.lastReportNs == 0 ? connectionStart : clock.toInstant(c.lastReportNs);
    boolean failed = kind == FlowKind.FAILED_CONNECT;
    long sent = failed ? 0 : c.sentPayload(event) - c.reportedSent;
    long received = failed ? 0 : c.receivedPayload(event) - c.reportedReceived;
    long segsOut = failed ? 0 : event.segsOut() - c.reportedSegsOut;
    long segsIn = failed ? 0 : event.segsIn() - c.reportedSegsIn;
    long retrans = failed ? 0 : event.totalRetrans() - c.reportedRetrans;
    byte[] local = bytes(c.localAddress);
    FlowRecord record =
        FlowRecord.newBuilder()
            .setObserverId(observerId)
            .setSidecarRunId(runId)
            .setSequence(sequence++)
            .setKind(kind)
            .setProtocol(Protocol.TCP)
            .setAddressFamily(
                c.localAddress instanceof Inet4Address ? AddressFamily.IPV4 : AddressFamily.IPV6)
            .setLocalIp(ByteBuffer.wrap(local))
            .setLocalPort(c.localPort)
            .setRemoteIp(ByteBuffer.wrap(bytes(c.remoteAddress)))
            .setRemotePort(c.remotePort)
            .setSide(c.side)
            .setServicePort(c.side == Side.CLIENT ? c.remotePort : c.localPort)
            .setConnectionStartTime(connectionStart)
            .setStartTime(start)
            .setEndTime(end)
            .setBytesSent(Math.max(0, sent))
            .setBytesReceived(Math.max(0, received))
            .setSegmentsSent(Math.max(0, segsOut))
            .setSegmentsReceived(Math.max(0, segsIn))
            .setRetransmits(Math.max(0, retrans))
            .setSrttMicros(failed ? 0 : (int) event.srttUs())
            .setRttVarMicros(failed ? 0 : (int) event.rttvarUs())
            .setCongestionWindow(failed ? 0 : (int) event.sndCwnd())
            .setConnectLatencyMicros(
                c.lastReportNs == 0 && c.connectLatencyMicros > 0 ? c.connectLatencyMicros : null)
            .setPid(c.pid > 0 ? c.pid : null)
            .setProcessName(c.comm)
            .setCgroupId(c.cgroupId != 0 ? c.cgroupId : null)
            .setContainerId(null)
            .setLocalIdentity(localIdentity.apply(local))
            .build();
    c.lastReportNs = endNs;
    if (!failed) {
      c.setBaseline(event);
    }
    output.accept(record);
    listener.recordEmitted(kind);
  }

  private static byte[] bytes(InetAddress address) {
    return address.getAddress();
  }

  /** What the table knows of one connection. */
  private static final class Connection {
    final long socketId;
    final Side side;
    final long startNs;
    final long firstSeenNs;
    final InetAddress localAddress;
    final InetAddress remoteAddress;
    final int localPort;
    final int remotePort;
    final long connectLatencyMicros;
    int pid;
    String comm;
    long cgroupId;
    long lastReportNs;
    // Counters already reported (payload bytes: SYN and FIN excluded).
    long reportedSent;
    long reportedReceived;
    long reportedSegsOut;
    long reportedSegsIn;
    long reportedRetrans;

    Connection(Side side, FlowEvent event, long startNs) {
      this.socketId = event.socketId();
      this.side = side;
      this.startNs = startNs;
      this.firstSeenNs = event.timestampNs();
      this.localAddress = event.localAddress();
      this.remoteAddress = event.remoteAddress();
      this.localPort = event.localPort();
      this.remotePort = event.remotePort();
      this.connectLatencyMicros = event.connectUs();
    }

    /** Takes what a later event knows better: the process and the cgroup. */
    void update(FlowEvent event) {
      if ((event.flags() & FlowEvent.FLAG_PID) != 0 && pid == 0) {
        pid = event.pid();
        comm = event.comm().isEmpty() ? null : event.comm();
      }
      if (cgroupId == 0) {
        cgroupId = event.cgroupId();
      }
    }

    /**
     * Payload bytes sent and acknowledged so far: bytes_acked less our SYN (the CLIENT's, counted
     * from the handshake on; a failed connect reports no bytes) and FIN.
     */
    long sentPayload(FlowEvent event) {
      long syn = side == Side.CLIENT ? 1 : 0;
      long fin = (event.flags() & FlowEvent.FLAG_FIN_ACKED) != 0 ? 1 : 0;
      return event.bytesAcked() - syn - fin;
    }

    /** Payload bytes received so far: bytes_received less the peer's FIN. */
    long receivedPayload(FlowEvent event) {
      long fin = (event.flags() & FlowEvent.FLAG_PEER_FIN) != 0 ? 1 : 0;
      return event.bytesReceived() - fin;
    }

    void setBaseline(FlowEvent event) {
      reportedSent = sentPayload(event);
      reportedReceived = receivedPayload(event);
      reportedSegsOut = event.segsOut();
      reportedSegsIn = event.segsIn();
      reportedRetrans = event.totalRetrans();
    }
  }
}
