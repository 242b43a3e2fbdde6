package io.flowsight.sidecar;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;

/** Real TCP connections over loopback with known payloads, for tests of the capture path. */
final class Loopback {

  /** The ports of one finished connection. */
  record Ports(int clientPort, int serverPort) {}

  private Loopback() {}

  /**
   * One connection: the client sends {@code clientBytes}, the server answers {@code serverBytes},
   * then the client half-closes, the server closes, the client closes. Half-closing first makes
   * both sides see both FINs before they close, whatever the scheduling.
   */
  static Ports exchange(InetAddress loopback, int clientBytes, int serverBytes) throws Exception {
    return exchange(null, loopback, clientBytes, serverBytes);
  }

  /** The same, with the client bound to {@code clientAddress} (null: the kernel's choice). */
  static Ports exchange(
      InetAddress clientAddress, InetAddress loopback, int clientBytes, int serverBytes)
      throws Exception {
    try (ServerSocket server = new ServerSocket(0, 50, loopback)) {
      CompletableFuture<Void> serving =
          CompletableFuture.runAsync(
              () -> {
                try (Socket accepted = server.accept()) {
                  readExactly(accepted.getInputStream(), clientBytes);
                  accepted.getOutputStream().write(new byte[serverBytes]);
                  accepted.getOutputStream().flush();
                  if (accepted.getInputStream().read() != -1) {
                    throw new IllegalStateException("expected the client's FIN");
                  }
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      try (Socket client = new Socket()) {
        if (clientAddress != null) {
          client.bind(new InetSocketAddress(clientAddress, 0));
        }
        client.connect(new InetSocketAddress(loopback, server.getLocalPort()));
        OutputStream out = client.getOutputStream();
        out.write(new byte[clientBytes]);
        out.flush();
        readExactly(client.getInputStream(), serverBytes);
        client.shutdownOutput();
        serving.get();
        if (client.getInputStream().read() != -1) {
          throw new IllegalStateException("expected the server's FIN");
        }
        return new Ports(client.getLocalPort(), server.getLocalPort());
      }
    }
  }

  /** A port on which nothing listens: a connect to it is refused. */
  static int closedPort(InetAddress loopback) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, loopback)) {
      return s.getLocalPort();
    }
  }

  static void readExactly(InputStream in, int bytes) throws IOException {
    byte[] buffer = new byte[8192];
    int left = bytes;
    while (left > 0) {
      int n = in.read(buffer, 0, Math.min(buffer.length, left));
      if (n < 0) {
        throw new IOException("stream ended with " + left + " of " + bytes + " bytes unread");
      }
      left -= n;
    }
  }
}
