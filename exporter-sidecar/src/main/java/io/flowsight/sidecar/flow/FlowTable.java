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
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
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
 * snapshot that finds it, and that first INTERIM record covers everything since its open.
 *
 * <p>Direction is known at the source: a connection this host opened (connect, {@link
 * FlowEvent#FLAG_ACTIVE}) makes it the CLIENT, the remote port being the service port; one it
 * accepted ({@link FlowEvent#FLAG_PASSIVE}) makes it the SERVER, the local port being the service
 * port. A socket with neither flag (opened before this run, or while the kernel's socket map was
 * full) is a SERVER when a listening socket accepts its local address and port (the same port on
 * the same or the wildcard address), else a CLIENT.
 *
 * <p>Byte counters exclude the SYN and FIN, which the kernel counts as one byte of sequence space
 * each: {@code bytes_acked} includes the CLIENT's own SYN (from the handshake on) and our FIN once
 * the peer acknowledged it ({@link FlowEvent#FLAG_FIN_ACKED}); {@code bytes_received} includes the
 * peer's FIN once received ({@link FlowEvent#FLAG_PEER_FIN}).
 *
 * <p><b>Exactness.</b> For every connection the table keeps the counters it has reported; each
 * record carries the counters less those, so the records of a connection add up to its totals. What
 * the table does not track has reported nothing, so its CLOSE reports its whole life, which is
 * exact too. The cases:
 *
 * <ul>
 *   <li><b>Full table</b> ({@code maxConnections}). Nothing is ever evicted: evicting a connection
 *       that reported already and finding it again at the next snapshot would report its past twice
 *       (or lose it). A socket the table has no room for is simply not tracked: it gets no INTERIM
 *       records while the table is full, is adopted (with everything since its open) by a later
 *       snapshot that finds room, and otherwise reports its whole life in its CLOSED record. It is
 *       counted once, when a snapshot first finds it without room ({@link
 *       Listener#connectionUntracked()}); {@link #untracked()} is how many the last snapshot found.
 *   <li><b>Full kernel socket map</b> (also {@code maxConnections} entries). The socket's open is
 *       not recorded: its CLOSE and snapshots lack the side flag and the time since open. The
 *       counters come from the socket itself and stay exact; the side comes from the listening
 *       ports, and the connection's start is when the sidecar first saw it.
 *   <li><b>Start without state</b> (first start, or after a crash): a socket already open ({@link
 *       #start}) may have been reported by a run that was killed, so its counters so far are its
 *       baseline and its first record is marked {@code partial}. These connections are all tracked
 *       even beyond {@code maxConnections}, so that none is reported from zero at its close.
 *   <li><b>Start after a clean stop</b>: the previous run reported every open connection up to its
 *       end (a last INTERIM) and saved those counters ({@link #openConnections()}, {@link
 *       StateFile}); they become the baselines again, matched by socket address and 4-tuple. Any
 *       other socket open at the start reported nothing before (it opened in between, or the
 *       previous run had no room for it) and is reported from zero.
 *   <li><b>A close event lost</b> (ring buffer full): a tracked connection missing from two
 *       snapshots in a row is dropped and counted ({@link Listener#connectionVanished()}). One
 *       snapshot is not enough: a socket closing just before the iterator reaches it has its CLOSE
 *       still queued.
 * </ul>
 *
 * <p>Records are not numbered here ({@code sequence} is 0): see {@link RecordNumbering}, applied to
 * what is actually output. Not thread-safe: one thread consumes the ring buffer and runs the
 * snapshots.
 */
public final class FlowTable {

  /** What the table reports about itself. */
  public interface Listener {
    void recordEmitted(FlowKind kind);

    /** A connection found open with no room in the table: counted once per connection. */
    void connectionUntracked();

    /**
     * A connection open before this run started without state: its first record is partial. Counted
     * once per connection.
     */
    void connectionPartial();

    /** A tracked socket is gone without a close event (that event was lost). */
    void connectionVanished();
  }

  private final String observerId;
  private final String runId = UUID.randomUUID().toString();
  private final int maxConnections;
  private final KernelClock clock;
  private final Function<byte[], Identity> localIdentity;
  private final SocketOwners owners;
  private final Consumer<FlowRecord> output;
  private final Listener listener;

  /** Tracked connections by socket address. */
  private final Map<Long, Connection> connections = new HashMap<>();

  /** Listening sockets by socket address. */
  private final Map<Long, ListeningSocket> listeners = new HashMap<>();

  /** A listening socket's local address (possibly the wildcard) and port. */
  private record ListeningSocket(InetAddress address, int port) {

    static ListeningSocket of(FlowEvent event) {
      return new ListeningSocket(event.localAddress(), event.localPort());
    }

    /**
     * Whether it accepts connections to this local address and port. The address counts: a client
     * socket on another address may have the same port number as a listener.
     */
    boolean accepts(InetAddress local, int localPort) {
      return port == localPort && (address.isAnyLocalAddress() || address.equals(local));
    }
  }

  /**
   * Socket addresses that the last snapshot found without room, sorted (8 bytes per socket rather
   * than a boxed set: there may be many); {@link #untrackedClosed} marks those closed since.
   */
  private long[] untrackedAtLastSnapshot = new long[0];

  private final BitSet untrackedClosed = new BitSet();

  private boolean started;

  public FlowTable(
      String observerId,
      int maxConnections,
      KernelClock clock,
      Function<byte[], Identity> localIdentity,
      Consumer<FlowRecord> output,
      Listener listener) {
    this(observerId, maxConnections, clock, localIdentity, SocketOwners.NONE, output, listener);
  }

  /**
   * @param localIdentity the identity of a local IP (network byte order), or null
   * @param owners the container and pod of a socket's cgroup
   */
  public FlowTable(
      String observerId,
      int maxConnections,
      KernelClock clock,
      Function<byte[], Identity> localIdentity,
      SocketOwners owners,
      Consumer<FlowRecord> output,
      Listener listener) {
    this.observerId = observerId;
    this.maxConnections = maxConnections;
    this.clock = clock;
    this.localIdentity = localIdentity;
    this.owners = owners;
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

  /** Open connections the last snapshot found without room in the table (not tracked). */
  public int untracked() {
    return untrackedAtLastSnapshot.length;
  }

  /**
   * Takes over the sockets open when this run starts: {@code sockets} from a snapshot taken once
   * the program is attached, {@code saved} the previous run's {@link #openConnections()} (null when
   * there is no state: first start, or the previous run did not stop cleanly). Emits nothing.
   */
  public void start(List<FlowEvent> sockets, List<SavedConnection> saved) {
    if (started) {
      throw new IllegalStateException("the flow table is started already");
    }
    started = true;
    Map<Long, SavedConnection> savedById = new HashMap<>();
    if (saved != null) {
      saved.forEach(s -> savedById.put(s.socketId(), s));
    }
    // Listeners first: the side of a socket without a flag depends on them.
    for (FlowEvent socket : sockets) {
      if (socket.newState() == TcpState.LISTEN) {
        listeners.put(socket.socketId(), ListeningSocket.of(socket));
      }
    }
    for (FlowEvent socket : sockets) {
      if (!reportable(socket.newState())) {
        continue;
      }
      SavedConnection s = savedById.remove(socket.socketId());
      if (s != null && s.matches(socket)) {
        Connection c = restore(s);
        c.update(socket);
        connections.put(c.socketId, c);
        continue;
      }
      if (s != null) {
        // The address now holds another socket: the saved one closed while no sidecar ran.
        listener.connectionVanished();
      }
      if (saved != null || socket.has(FlowEvent.FLAG_SEEN_OPEN)) {
        // Nothing of it was reported: it opened since the previous run stopped (or since the
        // program was attached), or the previous run had no room for it. The next snapshot or its
        // close reports it from zero.
        continue;
      }
      // Open before this run, and no state: a previous run may have reported it. Its counters so
      // far are the baseline; it is tracked even beyond the cap so that its close is not reported
      // from zero.
      Connection c = adopt(socket);
      c.update(socket);
      c.setBaseline(socket);
      c.lastReportNs = socket.timestampNs();
      c.partial = true;
      connections.put(c.socketId, c);
      listener.connectionPartial();
    }
    // Saved connections the snapshot did not find closed in between, or just after the program
    // was attached: then their CLOSE is queued and reports the rest. Kept until a snapshot misses
    // them again.
    for (SavedConnection s : savedById.values()) {
      Connection c = restore(s);
      c.missing = true;
      connections.put(c.socketId, c);
    }
  }

  /** Handles one kernel event. */
  public void onEvent(FlowEvent event) {
    switch (event.type()) {
      case LISTEN -> listeners.put(event.socketId(), ListeningSocket.of(event));
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
    Connection c = connections.get(event.socketId());
    if (c != null && !c.isSocket(event)) {
      c = null; // another socket at a reused address: the tracked one's close was lost
    } else if (c != null) {
      connections.remove(event.socketId());
    }
    if (c == null) {
      int i = Arrays.binarySearch(untrackedAtLastSnapshot, event.socketId());
      if (i >= 0) {
        untrackedClosed.set(i);
      }
    }
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
      // Never tracked: nothing of it was reported, so the close reports its whole life.
      c = adopt(event);
    }
    c.update(event);
    emit(c, FlowKind.CLOSED, event, event.timestampNs());
  }

  /**
   * Reports every open connection: {@code sockets} are the kernel's current TCP sockets with their
   * counters (a socket iterator's output). Each tracked connection gets an INTERIM record with its
   * deltas. A socket not tracked yet is adopted while there is room, and its first INTERIM record
   * covers everything since its open; without room it stays untracked (see the class comment).
   * Tracked connections missing from two snapshots in a row are dropped and counted.
   */
  public void onSnapshot(List<FlowEvent> sockets) {
    if (!started) {
      throw new IllegalStateException("call start(...) before the first snapshot");
    }
    clock.resync();
    Set<Long> present = new HashSet<>();
    Set<Long> listening = new HashSet<>();
    for (FlowEvent socket : sockets) {
      if (socket.newState() == TcpState.LISTEN) {
        listeners.putIfAbsent(socket.socketId(), ListeningSocket.of(socket));
        listening.add(socket.socketId());
      }
    }
    long[] untrackedNow = new long[16];
    int untrackedCount = 0;
    for (FlowEvent socket : sockets) {
      present.add(socket.socketId());
      if (!reportable(socket.newState())) {
        continue;
      }
      Connection c = connections.get(socket.socketId());
      if (c != null && !c.isSocket(socket)) {
        // The address holds another socket now: the tracked one's close was lost.
        connections.remove(socket.socketId());
        listener.connectionVanished();
        c = null;
      }
      if (c == null) {
        if (connections.size() >= maxConnections) {
          if (untrackedCount == untrackedNow.length) {
            untrackedNow = Arrays.copyOf(untrackedNow, untrackedCount * 2);
          }
          untrackedNow[untrackedCount++] = socket.socketId();
          if (!wasUntracked(socket.socketId())) {
            listener.connectionUntracked();
          }
          continue;
        }
        c = adopt(socket);
        connections.put(c.socketId, c);
      }
      c.missing = false;
      c.update(socket);
      emit(c, FlowKind.INTERIM, socket, socket.timestampNs());
    }
    for (Iterator<Connection> it = connections.values().iterator(); it.hasNext(); ) {
      Connection c = it.next();
      if (present.contains(c.socketId)) {
        continue;
      }
      if (c.missing) {
        it.remove();
        listener.connectionVanished();
      } else {
        c.missing = true;
      }
    }
    listeners.keySet().retainAll(listening);
    untrackedAtLastSnapshot = Arrays.copyOf(untrackedNow, untrackedCount);
    Arrays.sort(untrackedAtLastSnapshot);
    untrackedClosed.clear();
  }

  /** Whether the last snapshot found this socket untracked, and it has not closed since. */
  private boolean wasUntracked(long socketId) {
    int i = Arrays.binarySearch(untrackedAtLastSnapshot, socketId);
    return i >= 0 && !untrackedClosed.get(i);
  }

  /**
   * The tracked connections with the counters reported so far, for the next run ({@link
   * StateFile}). Meant right after a last {@link #onSnapshot} at shutdown.
   */
  public List<SavedConnection> openConnections() {
    List<SavedConnection> open = new ArrayList<>(connections.size());
    for (Connection c : connections.values()) {
      open.add(
          new SavedConnection(
              c.socketId,
              c.side,
              c.localAddress,
              c.localPort,
              c.remoteAddress,
              c.remotePort,
              c.startNs,
              c.lastReportNs,
              c.reportedSent,
              c.reportedReceived,
              c.reportedSegsOut,
              c.reportedSegsIn,
              c.reportedRetrans,
              c.pid,
              c.comm));
    }
    return open;
  }

  /** States in which a socket is a connection with counters to report. */
  private static boolean reportable(TcpState state) {
    return state != TcpState.LISTEN
        && state != TcpState.SYN_SENT
        && state != TcpState.SYN_RECV
        && state != TcpState.CLOSE;
  }

  /**
   * A connection first seen established or closing: its side from the kernel's flag, else (open not
   * seen) from the listening ports.
   */
  private Connection adopt(FlowEvent event) {
    Side side;
    if (event.has(FlowEvent.FLAG_ACTIVE)) {
      side = Side.CLIENT;
    } else if (event.has(FlowEvent.FLAG_PASSIVE)) {
      side = Side.SERVER;
    } else {
      InetAddress local = event.localAddress();
      int port = event.localPort();
      side =
          listeners.values().stream().anyMatch(l -> l.accepts(local, port))
              ? Side.SERVER
              : Side.CLIENT;
    }
    return new Connection(side, event, startNs(event));
  }

  private static Connection restore(SavedConnection s) {
    Connection c =
        new Connection(
            s.socketId(),
            s.side(),
            s.startNs(),
            s.localAddress(),
            s.localPort(),
            s.remoteAddress(),
            s.remotePort(),
            0);
    c.pid = s.pid();
    c.comm = s.comm();
    c.lastReportNs = s.reportedUntilNs();
    c.reportedSent = s.sent();
    c.reportedReceived = s.received();
    c.reportedSegsOut = s.segsOut();
    c.reportedSegsIn = s.segsIn();
    c.reportedRetrans = s.retrans();
    return c;
  }

  /** The socket's open when the kernel saw it, else the event's time. */
  private static long startNs(FlowEvent event) {
    return event.has(FlowEvent.FLAG_SEEN_OPEN)
        ? event.timestampNs() - event.durationNs()
        : event.timestampNs();
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
    // Setters, not the builder: every field is set here, and the builder's per-field defaults
    // and validation cost the kernel consumer's thread on each record.
    FlowRecord record = new FlowRecord();
    record.setObserverId(observerId);
    record.setSidecarRunId(runId);
    record.setSequence(0); // numbered on output, see RecordNumbering
    record.setKind(kind);
    record.setProtocol(Protocol.TCP);
    record.setAddressFamily(
        c.localAddress instanceof Inet4Address ? AddressFamily.IPV4 : AddressFamily.IPV6);
    record.setLocalIp(ByteBuffer.wrap(local));
    record.setLocalPort(c.localPort);
    record.setRemoteIp(ByteBuffer.wrap(bytes(c.remoteAddress)));
    record.setRemotePort(c.remotePort);
    record.setSide(c.side);
    record.setServicePort(c.side == Side.CLIENT ? c.remotePort : c.localPort);
    record.setConnectionStartTime(connectionStart);
    record.setStartTime(start);
    record.setEndTime(end);
    record.setBytesSent(Math.max(0, sent));
    record.setBytesReceived(Math.max(0, received));
    record.setSegmentsSent(Math.max(0, segsOut));
    record.setSegmentsReceived(Math.max(0, segsIn));
    record.setRetransmits(Math.max(0, retrans));
    record.setSrttMicros(failed ? 0 : (int) event.srttUs());
    record.setRttVarMicros(failed ? 0 : (int) event.rttvarUs());
    record.setCongestionWindow(failed ? 0 : (int) event.sndCwnd());
    record.setConnectLatencyMicros(
        c.lastReportNs == 0 && c.connectLatencyMicros > 0 ? c.connectLatencyMicros : null);
    record.setPid(c.pid > 0 ? c.pid : null);
    record.setProcessName(c.comm);
    record.setCgroupId(c.cgroupId != 0 ? c.cgroupId : null);
    SocketOwners.Owner owner = owners.ownerOf(c.cgroupId);
    record.setContainerId(owner.containerId());
    record.setLocalIdentity(localIdentity.apply(local));
    record.setPartial(c.partial);
    record.setPod(owner.pod());
    c.lastReportNs = endNs;
    c.partial = false;
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
    // The first record of a connection open before a start without state.
    boolean partial;
    // Missing from the last snapshot: dropped if the next one misses it too.
    boolean missing;

    Connection(Side side, FlowEvent event, long startNs) {
      this(
          event.socketId(),
          side,
          startNs,
          event.localAddress(),
          event.localPort(),
          event.remoteAddress(),
          event.remotePort(),
          event.connectUs());
    }

    Connection(
        long socketId,
        Side side,
        long startNs,
        InetAddress localAddress,
        int localPort,
        InetAddress remoteAddress,
        int remotePort,
        long connectLatencyMicros) {
      this.socketId = socketId;
      this.side = side;
      this.startNs = startNs;
      this.localAddress = localAddress;
      this.remoteAddress = remoteAddress;
      this.localPort = localPort;
      this.remotePort = remotePort;
      this.connectLatencyMicros = connectLatencyMicros;
    }

    /** Whether the event is about this connection's socket (not another one at the address). */
    boolean isSocket(FlowEvent event) {
      return event.localPort() == localPort
          && event.remotePort() == remotePort
          && event.localAddress().equals(localAddress)
          && event.remoteAddress().equals(remoteAddress);
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
