package io.flowsight.druid.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.druid.DruidClient;
import io.flowsight.druid.DruidException;
import io.flowsight.druid.DruidFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./flowsight bench freshness}: the time from a connection's close to its row being
 * queryable in Druid, for the whole local pipeline (sudo ./flowsight up: the sidecar of this host,
 * the collector, Druid with the flows supervisor).
 *
 * <p>One connection every --interval seconds, spread evenly over the windows, from the demo app
 * frontend (127.0.0.2) to the demo app backend (127.0.0.3), each to a service port of its own, so
 * that each connection is a Druid row of its own: the client sends --request-bytes, the server
 * answers --response-bytes and closes, the client closes. The close time is taken on the client
 * after its close(), from this host's clock (the clock the sidecar and the collector use too). A
 * poller asks Druid SQL every --poll seconds which of the ports have a row, and keeps the first
 * time each one is seen. At the end it checks what Druid holds: for every port one row, exactly one
 * connection observed by both ends, the exact bytes each way, both ends attributed to the demo
 * apps.
 */
@Command(
    name = "./flowsight bench freshness",
    mixinStandardHelpOptions = true,
    description = "Time from a connection's close to its row in Druid (needs sudo ./flowsight up).",
    footer = {
      "",
      "Printed for every percentile:",
      "  freshness   first seen in Druid - close",
      "  floor       window end + settle + grace - close: the wait the collector's windows impose",
      "              by design (a flow counts in the window of its end time, which is emitted once",
      "              the settle delay and the grace after the window's end have passed), the",
      "              baseline of the same run",
      "  pipeline    freshness - floor: emission check, Kafka, Druid ingestion and the poll",
      "              interval",
      "",
      "The window, settle delay and grace are the collector's, read from `./flowsight collector",
      "--print-config` (its defaults and FLOWSIGHT_COLLECTOR_* variables), or given with --window,",
      "--settle and --grace."
    })
public final class FreshnessBenchmark implements Callable<Integer> {

  static final String CLIENT_IP = "127.0.0.2"; // frontend in deploy/local/sample-identities.yaml
  static final String SERVER_IP = "127.0.0.3"; // backend
  static final String CLIENT_APP = "frontend";
  static final String SERVER_APP = "backend";

  @Option(
      names = "--connections",
      defaultValue = "300",
      description = "connections to make (default 300)")
  int connections;

  @Option(
      names = "--interval",
      defaultValue = "1.0",
      description = "seconds between connections (default 1)")
  double interval;

  @Option(
      names = "--first-port",
      defaultValue = "31000",
      description = "first service port on 127.0.0.3 (default 31000)")
  int firstPort;

  @Option(
      names = "--request-bytes",
      defaultValue = "100",
      description = "bytes client to server (default 100)")
  int requestBytes;

  @Option(
      names = "--response-bytes",
      defaultValue = "1000",
      description = "bytes server to client (default 1000)")
  int responseBytes;

  @Option(
      names = "--poll",
      defaultValue = "1.0",
      description = "seconds between Druid queries (default 1)")
  double poll;

  @Option(
      names = "--timeout",
      defaultValue = "300",
      description = "seconds to wait after the last close (default 300)")
  double timeout;

  @Option(
      names = "--window",
      description = "the collector's window (default: as the collector says)")
  String window;

  @Option(
      names = "--settle",
      description = "the collector's settle delay (default: as the collector says)")
  String settle;

  @Option(names = "--grace", description = "the collector's grace (default: as the collector says)")
  String grace;

  @Option(
      names = "--druid-url",
      description =
          "the router (FLOWSIGHT_DRUID_URL, else http://127.0.0.1:$FLOWSIGHT_DRUID_ROUTER_PORT)")
  String druidUrl;

  private final PrintStream out;

  FreshnessBenchmark(PrintStream out) {
    this.out = out;
  }

  /** A failure that ends the run with its message (an exit code of 1). */
  static final class Stop extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stop(String message) {
      super("bench freshness: " + message);
    }
  }

  public static void main(String[] args) {
    CommandLine commandLine = new CommandLine(new FreshnessBenchmark(System.out));
    commandLine.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof Stop) {
            System.err.println(e.getMessage());
            return 1;
          }
          throw e;
        });
    System.exit(commandLine.execute(args));
  }

  /** The collector's effective settings, each option to its value, as --print-config says. */
  static Map<String, String> collectorSettings() {
    String text;
    try {
      Process p =
          new ProcessBuilder(DruidFiles.flowsightScript().toString(), "collector", "--print-config")
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new Stop("cannot ask the collector for its settings: exit code " + p.exitValue());
      }
    } catch (IOException e) {
      throw new Stop("cannot ask the collector for its settings: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Stop("interrupted");
    }
    return parseSettings(text);
  }

  static Map<String, String> parseSettings(String printConfig) {
    Map<String, String> settings = new HashMap<>();
    for (String line : printConfig.split("\n")) {
      String[] parts = line.strip().split("\\s+");
      if (parts.length >= 2 && parts[0].startsWith("--")) {
        settings.put(parts[0], parts[1]);
      }
    }
    return settings;
  }

  private static final Pattern DURATION =
      Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)\\s*");

  static double durationSeconds(String text) {
    Matcher m = DURATION.matcher(text);
    if (!m.matches()) {
      throw new Stop("cannot read the duration '" + text + "' (use e.g. 500ms, 30s, 1m)");
    }
    double value = Double.parseDouble(m.group(1));
    return value
        * switch (m.group(2)) {
          case "ms" -> 0.001;
          case "s" -> 1;
          case "m" -> 60;
          default -> 3600;
        };
  }

  /** Nearest rank. */
  static double percentile(List<Double> values, double p) {
    List<Double> ordered = new ArrayList<>(values);
    ordered.sort(null);
    int rank = Math.max(1, (int) Math.ceil(p / 100 * ordered.size()));
    return ordered.get(rank - 1);
  }

  /** A number as C's %g writes it (six significant digits, no trailing zeros): 60, 0.5, 62. */
  static String g(double value) {
    BigDecimal d = new BigDecimal(value).round(new MathContext(6)).stripTrailingZeros();
    return d.scale() < 0 ? d.setScale(0).toPlainString() : d.toPlainString();
  }

  static double now() {
    return System.currentTimeMillis() / 1000.0;
  }

  private String seenQuery(double sinceEpoch) {
    String since =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneOffset.UTC)
            .format(Instant.ofEpochSecond((long) Math.floor(sinceEpoch / 60) * 60));
    return String.format(
        Locale.ROOT,
        "SELECT servicePort, SUM(connections) AS connections,"
            + " SUM(bytesClientToServer) AS up, SUM(bytesServerToClient) AS down,"
            + " clientApp, serverApp, observedBy"
            + " FROM flows WHERE serverIp = '%s' AND clientIp = '%s'"
            + " AND servicePort >= %d AND servicePort < %d AND __time >= TIMESTAMP '%s'"
            + " GROUP BY servicePort, clientApp, serverApp, observedBy",
        SERVER_IP,
        CLIENT_IP,
        firstPort,
        firstPort + connections,
        since);
  }

  /** The backend: one listening socket per service port, served from one thread. */
  static final class Servers implements AutoCloseable {
    private final byte[] response;
    private final Selector selector;
    private final List<ServerSocketChannel> listeners = new ArrayList<>();
    private final Thread thread;
    private volatile boolean stopped;

    Servers(int firstPort, int count, int responseBytes) throws IOException {
      response = new byte[responseBytes];
      Arrays.fill(response, (byte) 'r');
      selector = Selector.open();
      for (int port = firstPort; port < firstPort + count; port++) {
        ServerSocketChannel s = ServerSocketChannel.open();
        s.socket().setReuseAddress(true);
        try {
          s.bind(new InetSocketAddress(SERVER_IP, port), 16);
        } catch (IOException e) {
          s.close();
          close();
          throw new Stop(
              String.format(
                  "cannot listen on %s:%d (%s): choose other ports with --first-port",
                  SERVER_IP, port, e.getMessage()));
        }
        s.configureBlocking(false);
        s.register(selector, SelectionKey.OP_ACCEPT);
        listeners.add(s);
      }
      thread = new Thread(this::serve, "freshness-servers");
      thread.setDaemon(true);
      thread.start();
    }

    private void serve() {
      try {
        while (!stopped) {
          selector.select(200);
          for (SelectionKey key : selector.selectedKeys()) {
            SocketChannel conn = ((ServerSocketChannel) key.channel()).accept();
            if (conn != null) {
              Thread answer = new Thread(() -> answer(conn.socket()));
              answer.setDaemon(true);
              answer.start();
            }
          }
          selector.selectedKeys().clear();
        }
      } catch (IOException e) {
        // the selector closed: the run is over
      }
    }

    private void answer(Socket conn) {
      try (conn) {
        conn.setSoTimeout(10_000);
        InputStream in = conn.getInputStream();
        byte[] buffer = new byte[65536];
        while (in.read(buffer) >= 0) {
          // the request, up to the client's shutdownOutput()
        }
        conn.getOutputStream().write(response);
      } catch (IOException e) {
        // the client sees a short answer and reports it
      }
    }

    @Override
    public void close() throws IOException {
      stopped = true;
      if (thread != null) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      for (ServerSocketChannel s : listeners) {
        s.close();
      }
      selector.close();
    }
  }

  /** One connection; the close time (epoch seconds) and the bytes received. */
  static double[] connectOnce(int port, byte[] request) throws IOException {
    long received = 0;
    try (Socket s = new Socket()) {
      s.setSoTimeout(10_000);
      s.bind(new InetSocketAddress(InetAddress.getByName(CLIENT_IP), 0));
      s.connect(new InetSocketAddress(SERVER_IP, port), 10_000);
      OutputStream o = s.getOutputStream();
      o.write(request);
      s.shutdownOutput();
      InputStream in = s.getInputStream();
      byte[] buffer = new byte[65536];
      for (int n; (n = in.read(buffer)) >= 0; ) {
        received += n;
      }
    }
    return new double[] {now(), received};
  }

  private record Seen(double at, ObjectNode row) {}

  @Override
  public Integer call() throws Exception {
    if (connections < 1 || interval <= 0 || poll <= 0) {
      throw new Stop("--connections, --interval and --poll must be positive");
    }
    String url = druidUrl != null ? druidUrl : DruidClient.defaultUrl(System.getenv());
    DruidClient druid = new DruidClient(url, java.time.Duration.ofSeconds(30));
    Map<String, String> collector =
        window != null && settle != null && grace != null ? Map.of() : collectorSettings();
    double windowSeconds = durationSeconds(window != null ? window : collector.get("--window"));
    // A settle delay longer than the hold-back is capped at it (the collector's own rule).
    double settleSeconds = durationSeconds(settle != null ? settle : collector.get("--settle"));
    if (settle == null) {
      settleSeconds = Math.min(settleSeconds, durationSeconds(collector.get("--hold-back")));
    }
    double graceSeconds =
        durationSeconds(grace != null ? grace : collector.get("--grace")) + settleSeconds;
    int lastPort = firstPort + connections;

    double started = now();
    List<ObjectNode> leftover;
    try {
      leftover = druid.sql(seenQuery(started - 120)).objects();
    } catch (DruidException e) {
      throw new Stop(
          "cannot query Druid at " + url + " (" + e.getMessage() + "): run sudo ./flowsight up");
    }
    if (!leftover.isEmpty()) {
      throw new Stop(
          String.format(
              "Druid already has rows for ports %d-%d of the last minutes (an earlier run):"
                  + " wait two minutes, or use --first-port",
              firstPort, lastPort - 1));
    }

    Map<Integer, Double> closed = new ConcurrentHashMap<>(); // port -> close time (epoch s)
    Map<Integer, Seen> firstSeen = new ConcurrentHashMap<>();
    CountDownLatch done = new CountDownLatch(1);
    List<String> pollErrors = new CopyOnWriteArrayList<>();
    Thread poller =
        new Thread(
            () -> {
              while (done.getCount() > 0) {
                double t0 = now();
                List<ObjectNode> rows;
                try {
                  rows = druid.sql(seenQuery(started)).objects();
                } catch (DruidException e) {
                  pollErrors.add(e.getMessage());
                  rows = List.of();
                }
                double seenAt = now();
                for (ObjectNode row : rows) {
                  int port = row.path("servicePort").asInt();
                  Double closedAt = closed.get(port);
                  // A row polled before its connection closed would be an earlier run's.
                  if (closedAt != null && !firstSeen.containsKey(port) && seenAt >= closedAt) {
                    firstSeen.put(port, new Seen(seenAt, row));
                  }
                }
                if (firstSeen.size() == connections) {
                  return;
                }
                try {
                  done.await(
                      (long) (Math.max(0.0, poll - (now() - t0)) * 1000), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "freshness-poller");
    poller.setDaemon(true);
    poller.start();
    out.printf(
        Locale.ROOT,
        "%d connections %s -> %s:%d-%d, one every %.1f s (%.0f s); window %ss, settle + grace %ss;"
            + " polling Druid every %s s%n",
        connections,
        CLIENT_IP,
        SERVER_IP,
        firstPort,
        lastPort - 1,
        interval,
        connections * interval,
        g(windowSeconds),
        g(graceSeconds),
        g(poll));
    out.flush();
    byte[] request = new byte[requestBytes];
    Arrays.fill(request, (byte) 'q');
    List<String> failures = new ArrayList<>();
    Servers servers = new Servers(firstPort, connections, responseBytes);
    try {
      for (int i = 0; i < connections; i++) {
        int port = firstPort + i;
        double due = started + i * interval;
        long wait = (long) ((due - now()) * 1000);
        if (wait > 0) {
          Thread.sleep(wait);
        }
        try {
          double[] result = connectOnce(port, request);
          if ((long) result[1] != responseBytes) {
            failures.add(
                String.format(
                    "port %d: received %d bytes, expected %d",
                    port, (long) result[1], responseBytes));
          }
          closed.put(port, result[0]);
        } catch (IOException e) {
          failures.add(String.format("port %d: %s", port, e));
        }
        if ((i + 1) % 60 == 0) {
          out.printf("  %d connections made, %d seen in Druid%n", i + 1, firstSeen.size());
          out.flush();
        }
      }
    } finally {
      servers.close();
    }
    double lastClose = closed.values().stream().mapToDouble(d -> d).max().orElse(now());
    while (firstSeen.size() < closed.size() && now() < lastClose + timeout) {
      Thread.sleep(1000);
    }
    done.countDown();
    poller.join();

    // What Druid holds in the end, one row per port expected: every connection once, exact bytes.
    Map<Integer, List<ObjectNode>> last = new HashMap<>();
    for (ObjectNode row : druid.sql(seenQuery(started)).objects()) {
      last.computeIfAbsent(row.path("servicePort").asInt(), p -> new ArrayList<>()).add(row);
    }
    List<Double> freshness = new ArrayList<>();
    List<Double> floor = new ArrayList<>();
    List<Double> pipeline = new ArrayList<>();
    List<String> wrong = new ArrayList<>();
    String expected =
        "[" + tuple(1, requestBytes, responseBytes, CLIENT_APP, SERVER_APP, "BOTH") + "]";
    for (Map.Entry<Integer, Double> e : new TreeMap<>(closed).entrySet()) {
      int port = e.getKey();
      double closedAt = e.getValue();
      Seen seen = firstSeen.get(port);
      if (seen == null) {
        continue;
      }
      double windowEnd = (Math.floor(closedAt / windowSeconds) + 1) * windowSeconds;
      freshness.add(seen.at() - closedAt);
      floor.add(windowEnd + graceSeconds - closedAt);
      pipeline.add((seen.at() - closedAt) - (windowEnd + graceSeconds - closedAt));
      List<String> got = new ArrayList<>();
      for (JsonNode r : last.getOrDefault(port, List.of())) {
        got.add(
            tuple(
                r.path("connections").asLong(),
                r.path("up").asLong(),
                r.path("down").asLong(),
                r.path("clientApp").isNull() ? null : r.path("clientApp").asText(),
                r.path("serverApp").isNull() ? null : r.path("serverApp").asText(),
                r.path("observedBy").asText()));
      }
      String gotText = "[" + String.join(", ", got) + "]";
      if (!gotText.equals(expected)) {
        wrong.add(
            String.format(
                "port %d: (connections, up, down, clientApp, serverApp, observedBy) = %s,"
                    + " expected %s",
                port, gotText, expected));
      }
    }

    out.println();
    out.printf(
        Locale.ROOT,
        "connections made: %d, seen in Druid: %d, never seen within %.0f s: %d%n",
        closed.size(),
        freshness.size(),
        timeout,
        closed.size() - freshness.size());
    if (!freshness.isEmpty()) {
      out.printf("%-10s %8s %8s %8s %8s %8s%n", "seconds", "p50", "p90", "p95", "p99", "max");
      Map<String, List<Double>> series = new java.util.LinkedHashMap<>();
      series.put("freshness", freshness);
      series.put("floor", floor);
      series.put("pipeline", pipeline);
      series.forEach(
          (name, values) ->
              out.printf(
                  Locale.ROOT,
                  "%-10s %8.1f %8.1f %8.1f %8.1f %8.1f%n",
                  name,
                  percentile(values, 50),
                  percentile(values, 90),
                  percentile(values, 95),
                  percentile(values, 99),
                  values.stream().mapToDouble(d -> d).max().orElseThrow()));
    }
    for (String line : failures) {
      out.println("  " + line);
    }
    for (String line : wrong) {
      out.println("  " + line);
    }
    if (!pollErrors.isEmpty()) {
      out.printf(
          "  %d Druid queries failed, the last: %s%n",
          pollErrors.size(), pollErrors.get(pollErrors.size() - 1));
    }
    boolean ok =
        !freshness.isEmpty()
            && freshness.size() == closed.size()
            && failures.isEmpty()
            && wrong.isEmpty();
    out.println(
        ok ? "exact: every connection seen once with its bytes and apps" : "NOT exact: see above");
    out.flush();
    return ok ? 0 : 1;
  }

  /** A row's values as the report writes them: (1, 100, 1000, 'frontend', 'backend', 'BOTH'). */
  static String tuple(Object... values) {
    List<String> parts = new ArrayList<>();
    for (Object v : values) {
      parts.add(v == null ? "None" : v instanceof String s ? "'" + s + "'" : v.toString());
    }
    return "(" + String.join(", ", parts) + ")";
  }
}
