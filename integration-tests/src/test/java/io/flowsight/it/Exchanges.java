package io.flowsight.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Request-response connections of known sizes, for traffic the sidecar captures: the client sends
 * {@code request} bytes, the server answers {@code response} bytes and both close (each waits for
 * the other's FIN, so both ends' close events happen before the call returns).
 */
final class Exchanges {

  private Exchanges() {}

  /** One connection from {@code client} to {@code server:port}. */
  static void call(InetAddress client, InetAddress server, int port, int request, int response)
      throws IOException {
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(client, 0));
      socket.connect(new InetSocketAddress(server, port));
      socket.getOutputStream().write(new byte[request]);
      socket.getOutputStream().flush();
      readExactly(socket.getInputStream(), response);
      socket.shutdownOutput();
      readExactly(socket.getInputStream(), 0);
    }
  }

  /**
   * Answers every connection to {@code listener} on a daemon thread, until the listener is closed
   * or the thread interrupted.
   */
  static Thread serve(ServerSocket listener, int request, int response) {
    Thread t =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted() && !listener.isClosed()) {
                try (Socket accepted = listener.accept()) {
                  readExactly(accepted.getInputStream(), request);
                  accepted.getOutputStream().write(new byte[response]);
                  accepted.getOutputStream().flush();
                  accepted.shutdownOutput();
                  readExactly(accepted.getInputStream(), 0);
                } catch (IOException e) {
                  if (listener.isClosed()) {
                    return;
                  }
                }
              }
            },
            "exchanges-server-" + listener.getLocalPort());
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Reads exactly {@code bytes}; with 0, expects the end of the stream (the peer's FIN). */
  static void readExactly(InputStream in, int bytes) throws IOException {
    byte[] buffer = new byte[8192];
    int left = bytes;
    while (left > 0) {
      int n = in.read(buffer, 0, Math.min(buffer.length, left));
      if (n < 0) {
        throw new IOException("stream ended with " + left + " bytes unread");
      }
      left -= n;
    }
    if (bytes == 0 && in.read() != -1) {
      throw new IOException("expected the peer's FIN");
    }
  }
}
