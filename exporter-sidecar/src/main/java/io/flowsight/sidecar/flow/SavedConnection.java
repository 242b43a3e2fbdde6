package io.flowsight.sidecar.flow;

import io.flowsight.schemas.Side;
import io.flowsight.sidecar.bpf.FlowEvent;
import java.net.InetAddress;

/**
 * What a clean shutdown keeps of one open connection so that the next run goes on where this one
 * stopped: the socket (its kernel address and 4-tuple, which must both match again), its side and
 * process, and the counters already reported.
 *
 * @param socketId the {@code struct sock *} address
 * @param side CLIENT or SERVER
 * @param localAddress local address
 * @param localPort local port
 * @param remoteAddress remote address
 * @param remotePort remote port
 * @param startNs the connection's start, CLOCK_MONOTONIC ns (the kernel's time base; valid across
 *     processes until the host reboots)
 * @param reportedUntilNs end of the last record, CLOCK_MONOTONIC ns
 * @param sent payload bytes sent, already reported (SYN and FIN excluded)
 * @param received payload bytes received, already reported (FIN excluded)
 * @param segsOut segments sent, already reported
 * @param segsIn segments received, already reported
 * @param retrans retransmits, already reported
 * @param pid process id, 0 if unknown
 * @param comm process name, null if unknown
 */
public record SavedConnection(
    long socketId,
    Side side,
    InetAddress localAddress,
    int localPort,
    InetAddress remoteAddress,
    int remotePort,
    long startNs,
    long reportedUntilNs,
    long sent,
    long received,
    long segsOut,
    long segsIn,
    long retrans,
    int pid,
    String comm) {

  /** Whether {@code socket} is this connection: the same kernel address and the same 4-tuple. */
  public boolean matches(FlowEvent socket) {
    return socket.socketId() == socketId
        && socket.localPort() == localPort
        && socket.remotePort() == remotePort
        && socket.localAddress().equals(localAddress)
        && socket.remoteAddress().equals(remoteAddress);
  }
}
