package io.flowsight.sidecar.kubernetes;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * The "pod's" process of {@link PodIdentityIT}, run in a cgroup of its own: {@code <local address>
 * <server address> <port> <bytes>} connects from the local address, sends the bytes, reads the
 * server's reply to the end, and prints its local port.
 */
public final class PodClient {

  private PodClient() {}

  public static void main(String[] args) throws Exception {
    InetAddress local = InetAddress.getByName(args[0]);
    InetAddress server = InetAddress.getByName(args[1]);
    int port = Integer.parseInt(args[2]);
    int bytes = Integer.parseInt(args[3]);
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(local, 0));
      socket.connect(new InetSocketAddress(server, port));
      OutputStream out = socket.getOutputStream();
      out.write(new byte[bytes]);
      out.flush();
      socket.shutdownOutput();
      InputStream in = socket.getInputStream();
      while (in.read() != -1) {
        // the reply, to the server's close
      }
      System.out.println(socket.getLocalPort());
    }
  }
}
