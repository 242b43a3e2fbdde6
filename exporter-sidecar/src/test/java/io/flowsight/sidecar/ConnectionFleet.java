package io.flowsight.sidecar;

import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Side;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Many real TCP connections over loopback between two addresses of the test's own, each sending
 * known bytes in rounds, with the truth kept per connection: what the records of both ends must add
 * up to. Blocking channels, one thread: each round's payload is small enough for the socket
 * buffers.
 */
final class ConnectionFleet implements AutoCloseable {

  /** Bytes one connection carried so far, each way. */
  static final class Truth {
    long clientToServer;
    long serverToClient;
  }

  private final InetAddress clientAddress;
  private final InetAddress serverAddress;
  private final ServerSocketChannel listener;
  private final List<SocketChannel> clients = new ArrayList<>();
  private final List<SocketChannel> servers = new ArrayList<>();
  private final List<Truth> truths = new ArrayList<>();
  private final Map<Integer, Integer> indexByClientPort = new HashMap<>();
  private final List<Integer> clientPorts = new ArrayList<>();
  private final int serverPort;

  /** Opens {@code count} connections from {@code clientAddress} to {@code serverAddress}. */
  ConnectionFleet(InetAddress clientAddress, InetAddress serverAddress, int count)
      throws IOException {
    this.clientAddress = clientAddress;
    this.serverAddress = serverAddress;
    this.listener = ServerSocketChannel.open();
    listener.bind(new InetSocketAddress(serverAddress, 0), 128);
    this.serverPort = ((InetSocketAddress) listener.getLocalAddress()).getPort();
    for (int i = 0; i < count; i++) {
      SocketChannel client = SocketChannel.open();
      client.bind(new InetSocketAddress(clientAddress, 0));
      client.connect(new InetSocketAddress(serverAddress, serverPort()));
      clients.add(client);
      clientPorts.add(((InetSocketAddress) client.getLocalAddress()).getPort());
      servers.add(listener.accept());
      truths.add(new Truth());
      indexByClientPort.put(clientPort(i), i);
    }
  }

  int size() {
    return clients.size();
  }

  int serverPort() {
    return serverPort;
  }

  int clientPort(int i) {
    return clientPorts.get(i);
  }

  Truth truth(int i) {
    return truths.get(i);
  }

  /**
   * One round: connection i's client sends {@code 100 + i + round} bytes, its server answers {@code
   * 50 + 2i + round}: distinct per connection and round.
   */
  void round(int round) throws IOException {
    for (int i = 0; i < clients.size(); i++) {
      int up = up(i, round);
      int down = down(i, round);
      write(clients.get(i), up);
      read(servers.get(i), up);
      write(servers.get(i), down);
      read(clients.get(i), down);
      truths.get(i).clientToServer += up;
      truths.get(i).serverToClient += down;
    }
  }

  /**
   * Closes every connection gracefully (the client half-closes, the server reads the FIN and
   * closes, the client reads the FIN and closes): both ends see both FINs.
   */
  void closeAll() throws IOException {
    for (SocketChannel client : clients) {
      client.shutdownOutput();
    }
    ByteBuffer one = ByteBuffer.allocate(1);
    for (SocketChannel server : servers) {
      one.clear();
      if (server.read(one) != -1) {
        throw new IllegalStateException("expected the client's FIN");
      }
      server.close();
    }
    for (SocketChannel client : clients) {
      one.clear();
      if (client.read(one) != -1) {
        throw new IllegalStateException("expected the server's FIN");
      }
      client.close();
    }
    listener.close();
  }

  /** The connection a record of either end is about, or -1 when it is not one of this fleet's. */
  int indexOf(FlowRecord r) {
    return indexOf(
        address(r.getLocalIp()), r.getLocalPort(), address(r.getRemoteIp()), r.getRemotePort());
  }

  /** The connection with these ends, seen from either, or -1. */
  int indexOf(InetAddress local, int localPort, InetAddress remote, int remotePort) {
    Integer i = null;
    if (local.equals(clientAddress) && remote.equals(serverAddress) && remotePort == serverPort) {
      i = indexByClientPort.get(localPort);
    } else if (local.equals(serverAddress)
        && remote.equals(clientAddress)
        && localPort == serverPort) {
      i = indexByClientPort.get(remotePort);
    }
    return i == null ? -1 : i;
  }

  /** What connection i's client sends in {@code round} (see {@link #round}). */
  static int up(int i, int round) {
    return 100 + i + round;
  }

  /** What connection i's server answers in {@code round}. */
  static int down(int i, int round) {
    return 50 + 2 * i + round;
  }

  /** The side a record of connection {@link #indexOf} must have: the one its local address is. */
  Side sideOf(FlowRecord r) {
    return address(r.getLocalIp()).equals(clientAddress) ? Side.CLIENT : Side.SERVER;
  }

  static InetAddress address(ByteBuffer ip) {
    byte[] bytes = new byte[ip.remaining()];
    ip.duplicate().get(bytes);
    try {
      return InetAddress.getByAddress(bytes);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void write(SocketChannel channel, int bytes) throws IOException {
    byte[] payload = new byte[bytes];
    Arrays.fill(payload, (byte) 'x');
    ByteBuffer buffer = ByteBuffer.wrap(payload);
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  private static void read(SocketChannel channel, int bytes) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(bytes);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new IOException("stream ended with " + buffer.remaining() + " bytes unread");
      }
    }
  }

  @Override
  public void close() {
    for (SocketChannel c : clients) {
      closeQuietly(c);
    }
    for (SocketChannel c : servers) {
      closeQuietly(c);
    }
    closeQuietly(listener);
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing at the end of a test: nothing to do
    }
  }
}
