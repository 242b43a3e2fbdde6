package io.flowsight.sidecar.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A loopback TCP connection load generator, for measuring what capturing connections costs.
 *
 * <p>An in-process server on 127.0.0.1 accepts, reads a request of {@code --request-bytes}, answers
 * {@code --response-bytes} and closes. Client threads open connections at {@code --rate}
 * connections/s (paced on one shared schedule, so a thread that falls behind is caught up by the
 * others), or as fast as they can with {@code --rate max}. Each connection connects, writes the
 * request, reads the whole answer and the server's FIN, then closes.
 *
 * <p>The server closes first, as HTTP/1.0 servers do: TIME_WAIT stays on the server's side, where
 * the kernel lets a new SYN reuse a 4-tuple in TIME_WAIT (RFC 6191, timestamps on), so the client's
 * ephemeral ports are free again at once and no sysctl (port range, tcp_tw_reuse) or SO_LINGER 0
 * (which would turn every close into a RST) is needed.
 *
 * <p>Runs {@code --warmup} seconds first (JIT, caches), then measures for {@code --duration}
 * seconds. Prints {@code # measure-start} and {@code # measure-end} when the window opens and
 * closes (a harness samples other processes then), and at the end one line {@code result
 * key=value...}: achieved connections/s, completed, errors, latency percentiles of one connection
 * (connect to close, µs), and this process's CPU (client and server, kernel time included).
 */
public final class ConnectionLoadGenerator {

  private final InetAddress host;
  private final double rate; // connections/s; 0 = as fast as possible
  private final int clientThreads;
  private final int serverThreads;
  private final int requestBytes;
  private final int responseBytes;
  private final long warmupNs;
  private final long durationNs;

  private volatile boolean serving = true;
  private final AtomicLong serverErrors = new AtomicLong();

  private ConnectionLoadGenerator(Args args) throws IOException {
    this.host = InetAddress.getByName(args.host);
    this.rate = args.rate;
    this.clientThreads = args.clientThreads;
    this.serverThreads = args.serverThreads;
    this.requestBytes = args.requestBytes;
    this.responseBytes = args.responseBytes;
    this.warmupNs = (long) (args.warmupSeconds * 1e9);
    this.durationNs = (long) (args.durationSeconds * 1e9);
  }

  /** What one client thread saw inside the measurement window. */
  private static final class ClientStats {
    long[] latenciesNs = new long[1 << 14];
    int completed;
    long errors;
    long lateNs; // how far behind the schedule connections started, summed
    String firstError;

    void add(long latencyNs) {
      if (completed == latenciesNs.length) {
        latenciesNs = Arrays.copyOf(latenciesNs, completed * 2);
      }
      latenciesNs[completed++] = latencyNs;
    }
  }

  public static void main(String[] argv) throws Exception {
    Args args = Args.parse(argv);
    if (args == null) {
      return;
    }
    System.exit(new ConnectionLoadGenerator(args).run(System.out));
  }

  private int run(PrintStream out) throws Exception {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(host, 0), 4096);
    InetSocketAddress target = new InetSocketAddress(host, server.getLocalPort());
    List<Thread> servers = new ArrayList<>();
    for (int i = 0; i < serverThreads; i++) {
      Thread t = new Thread(() -> serve(server), "bench-server-" + i);
      t.setDaemon(true);
      t.start();
      servers.add(t);
    }
    out.printf(
        Locale.ROOT,
        "# server 127.0.0.1:%d, rate %s, %d client threads, %d server threads, request %d B,"
            + " response %d B, warm-up %.1f s, duration %.1f s%n",
        server.getLocalPort(),
        rate == 0 ? "max" : String.format(Locale.ROOT, "%.0f/s", rate),
        clientThreads,
        serverThreads,
        requestBytes,
        responseBytes,
        warmupNs / 1e9,
        durationNs / 1e9);
    out.flush();

    long t0 = System.nanoTime() + 50_000_000L; // let every thread start before the first slot
    long measureStart = t0 + warmupNs;
    long measureEnd = measureStart + durationNs;
    AtomicLong tickets = new AtomicLong();
    ClientStats[] stats = new ClientStats[clientThreads];
    Thread[] clients = new Thread[clientThreads];
    for (int i = 0; i < clientThreads; i++) {
      ClientStats s = stats[i] = new ClientStats();
      clients[i] =
          new Thread(
              () -> clientLoop(target, t0, measureStart, measureEnd, tickets, s),
              "bench-client-" + i);
      clients[i].start();
    }

    sleepUntil(measureStart);
    long cpuStart = processCpuNs();
    long wallStart = System.nanoTime();
    out.println("# measure-start");
    out.flush();
    sleepUntil(measureEnd);
    long cpuEnd = processCpuNs();
    long wallEnd = System.nanoTime();
    out.println("# measure-end");
    out.flush();
    for (Thread c : clients) {
      c.join();
    }
    serving = false;
    server.close();

    int completed = 0;
    long errors = 0;
    long lateNs = 0;
    String firstError = null;
    for (ClientStats s : stats) {
      completed += s.completed;
      errors += s.errors;
      lateNs += s.lateNs;
      if (firstError == null) {
        firstError = s.firstError;
      }
    }
    long[] all = new long[completed];
    int n = 0;
    for (ClientStats s : stats) {
      System.arraycopy(s.latenciesNs, 0, all, n, s.completed);
      n += s.completed;
    }
    Arrays.sort(all);
    double seconds = durationNs / 1e9;
    double cpuNs = cpuEnd - cpuStart;
    out.printf(
        Locale.ROOT,
        "result rate_target=%s conns_per_s=%.1f completed=%d errors=%d server_errors=%d"
            + " p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f mean_late_us=%.0f"
            + " cpu_pct=%.1f cpu_us_per_conn=%.2f%n",
        rate == 0 ? "max" : String.format(Locale.ROOT, "%.0f", rate),
        completed / seconds,
        completed,
        errors,
        serverErrors.get(),
        percentileUs(all, 0.50),
        percentileUs(all, 0.90),
        percentileUs(all, 0.99),
        all.length == 0 ? 0.0 : all[all.length - 1] / 1e3,
        completed == 0 ? 0.0 : lateNs / 1e3 / completed,
        100.0 * cpuNs / (wallEnd - wallStart),
        completed == 0 ? 0.0 : cpuNs / 1e3 / completed);
    if (firstError != null) {
      out.println("# first error: " + firstError);
    }
    out.flush();
    return completed == 0 ? 1 : 0;
  }

  private void clientLoop(
      InetSocketAddress target,
      long t0,
      long measureStart,
      long measureEnd,
      AtomicLong tickets,
      ClientStats stats) {
    byte[] request = new byte[requestBytes];
    Arrays.fill(request, (byte) 'q');
    byte[] buffer = new byte[Math.max(responseBytes, 1) + 1];
    double intervalNs = rate == 0 ? 0 : 1e9 / rate;
    while (true) {
      long scheduled;
      if (rate == 0) {
        scheduled = System.nanoTime();
        if (scheduled < t0) {
          sleepUntil(t0);
          scheduled = t0;
        }
      } else {
        scheduled = t0 + (long) (tickets.getAndIncrement() * intervalNs);
        sleepUntil(scheduled);
      }
      // Counted by when it really starts: a run that falls behind shows a lower rate.
      long start = System.nanoTime();
      if (start >= measureEnd) {
        return;
      }
      boolean measured = start >= measureStart;
      try {
        connectOnce(target, request, buffer);
        if (measured) {
          stats.add(System.nanoTime() - start);
          stats.lateNs += start - scheduled;
        }
      } catch (IOException | RuntimeException e) {
        if (measured) {
          stats.errors++;
          if (stats.firstError == null) {
            stats.firstError = e.toString();
          }
        }
      }
    }
  }

  private void connectOnce(InetSocketAddress target, byte[] request, byte[] buffer)
      throws IOException {
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.connect(target, 5_000);
      socket.setSoTimeout(5_000);
      OutputStream out = socket.getOutputStream();
      out.write(request);
      out.flush();
      InputStream in = socket.getInputStream();
      int got = 0;
      while (true) {
        int r = in.read(buffer, 0, buffer.length);
        if (r < 0) {
          break; // the server's FIN: it closed first
        }
        got += r;
      }
      if (got != responseBytes) {
        throw new IOException("short answer: " + got + " of " + responseBytes + " bytes");
      }
    }
  }

  private void serve(ServerSocket server) {
    byte[] response = new byte[responseBytes];
    Arrays.fill(response, (byte) 'a');
    byte[] buffer = new byte[Math.max(requestBytes, 1)];
    while (serving) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        if (serving) {
          serverErrors.incrementAndGet();
        }
        continue;
      }
      try (Socket s = socket) {
        s.setTcpNoDelay(true);
        s.setSoTimeout(5_000);
        InputStream in = s.getInputStream();
        int got = 0;
        while (got < requestBytes) {
          int r = in.read(buffer, 0, requestBytes - got);
          if (r < 0) {
            throw new SocketException("client closed after " + got + " bytes");
          }
          got += r;
        }
        OutputStream out = s.getOutputStream();
        out.write(response);
        out.flush();
      } catch (IOException e) {
        serverErrors.incrementAndGet();
      }
    }
  }

  private static double percentileUs(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
    return sorted[Math.max(i, 0)] / 1e3;
  }

  private static long processCpuNs() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static void sleepUntil(long deadlineNs) {
    long left;
    while ((left = deadlineNs - System.nanoTime()) > 0) {
      LockSupport.parkNanos(left);
    }
  }

  /** Command-line options. */
  private static final class Args {
    String host = "127.0.0.1";
    double rate; // 0 = max
    int clientThreads = -1;
    int serverThreads = 2;
    int requestBytes = 100;
    int responseBytes = 1000;
    double warmupSeconds = 5;
    double durationSeconds = 20;

    static Args parse(String[] argv) {
      Args a = new Args();
      boolean rateSet = false;
      for (int i = 0; i < argv.length; i++) {
        String name = argv[i];
        if (name.equals("-h") || name.equals("--help")) {
          System.out.println(
              """
              Usage: ConnectionLoadGenerator --rate N|max [--duration S] [--warmup S]
                       [--client-threads N] [--server-threads N]
                       [--request-bytes N] [--response-bytes N] [--host 127.0.0.1]

              Opens loopback TCP connections at N connections/s (or as fast as it can) against
              an in-process server that reads the request, answers and closes first. Prints
              '# measure-start' and '# measure-end' around the measurement window and a final
              'result key=value...' line.
              Defaults: --duration 20 --warmup 5 --request-bytes 100 --response-bytes 1000
                        --server-threads 2, client threads 4 (max) or 2 plus one per 2500/s.""");
          return null;
        }
        if (i + 1 >= argv.length) {
          throw new IllegalArgumentException(name + " needs a value");
        }
        String value = argv[++i];
        switch (name) {
          case "--host" -> a.host = value;
          case "--rate" -> {
            a.rate = value.equals("max") ? 0 : Double.parseDouble(value);
            if (a.rate < 0) {
              throw new IllegalArgumentException("--rate must be positive or max");
            }
            rateSet = true;
          }
          case "--client-threads" -> a.clientThreads = Integer.parseInt(value);
          case "--server-threads" -> a.serverThreads = Integer.parseInt(value);
          case "--request-bytes" -> a.requestBytes = Integer.parseInt(value);
          case "--response-bytes" -> a.responseBytes = Integer.parseInt(value);
          case "--warmup" -> a.warmupSeconds = Double.parseDouble(value);
          case "--duration" -> a.durationSeconds = Double.parseDouble(value);
          default -> throw new IllegalArgumentException("unknown option " + name);
        }
      }
      if (!rateSet) {
        throw new IllegalArgumentException("--rate N|max is required");
      }
      if (a.clientThreads <= 0) {
        a.clientThreads = a.rate == 0 ? 4 : 2 + (int) (a.rate / 2500);
      }
      return a;
    }
  }
}
