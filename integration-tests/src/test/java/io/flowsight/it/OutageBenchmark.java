package io.flowsight.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.druid.DruidClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A long broker outage under load, on the running local pipeline ({@code sudo ./flowsight up}):
 * connections from the demo app frontend (127.0.0.2) to backend (127.0.0.3), each sending 100 bytes
 * and receiving 1,000, at a steady rate; Kafka is stopped for {@code --seconds} (the stack script's
 * stop: SIGTERM) and started again. It prints what was made, what the sidecar delivered, dropped or
 * lost, what the collector dead-lettered, what reached Druid against the truth, and how long after
 * the broker's return Druid held every connection.
 *
 * <p>Run: {@code sudo ./flowsight bench outage [--seconds 600] [--rate 20]}.
 */
public final class OutageBenchmark {

  private static final int REQUEST_BYTES = 100;
  private static final int RESPONSE_BYTES = 1000;

  public static void main(String[] args) throws Exception {
    long seconds = 600;
    double rate = 20;
    long settleSeconds = 20;
    String router = env("FLOWSIGHT_DRUID_URL", "http://127.0.0.1:18888");
    String sidecarMetrics = env("FLOWSIGHT_SIDECAR_METRICS_URL", "http://127.0.0.1:9464/metrics");
    String collectorMetrics =
        env("FLOWSIGHT_COLLECTOR_METRICS_URL", "http://127.0.0.1:9465/metrics");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seconds" -> seconds = Long.parseLong(args[++i]);
        case "--rate" -> rate = Double.parseDouble(args[++i]);
        case "--settle" -> settleSeconds = Long.parseLong(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown option " + args[i] + " (use --seconds N, --rate R, --settle N)");
      }
    }
    DruidClient druid = new DruidClient(router);
    if (!druid.ready()) {
      throw new IllegalStateException("no Druid at " + router + ": run sudo ./flowsight up first");
    }
    Path stack = Repository.file("deploy/local/stack");
    InetAddress client = InetAddress.getByName("127.0.0.2");
    InetAddress server = InetAddress.getByName("127.0.0.3");
    try (ServerSocket listener = new ServerSocket(0, 200, server)) {
      int port = listener.getLocalPort();
      Thread serving = Exchanges.serve(listener, REQUEST_BYTES, RESPONSE_BYTES);
      Metrics sidecar0 = Metrics.scrape(sidecarMetrics);
      Metrics collector0 = Metrics.scrape(collectorMetrics);
      AtomicLong made = new AtomicLong();
      ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
      long periodMicros = Math.round(1_000_000 / rate);
      load.scheduleAtFixedRate(
          () -> {
            try {
              Exchanges.call(client, server, port, REQUEST_BYTES, RESPONSE_BYTES);
              made.incrementAndGet();
            } catch (IOException e) {
              System.err.println("connection failed: " + e);
            }
          },
          0,
          periodMicros,
          TimeUnit.MICROSECONDS);
      System.out.printf(
          Locale.ROOT,
          "outage benchmark: %.0f connections/s 127.0.0.2 -> 127.0.0.3:%d, broker down %d s%n",
          rate,
          port,
          seconds);
      Thread.sleep(settleSeconds * 1000);
      run(stack, "stop", "kafka");
      long madeBefore = made.get();
      long stoppedAt = System.nanoTime();
      Thread.sleep(seconds * 1000);
      run(stack, "start", "kafka");
      long restartedAt = System.nanoTime();
      long madeDuring = made.get() - madeBefore;
      double downSeconds = (restartedAt - stoppedAt) / 1e9;
      Thread.sleep(settleSeconds * 1000);
      load.shutdown();
      load.awaitTermination(10, TimeUnit.SECONDS);
      serving.interrupt();
      long connections = made.get();
      System.out.printf(
          Locale.ROOT,
          "made %d connections (%d while the broker was down %.0f s); waiting for Druid...%n",
          connections,
          madeDuring,
          downSeconds);

      String sql =
          "SELECT SUM(connections) AS c, SUM(bytesClientToServer) AS up,"
              + " SUM(bytesServerToClient) AS down FROM flows WHERE servicePort = "
              + port;
      long inDruid = 0;
      long up = 0;
      long down = 0;
      double recoverSeconds = Double.NaN;
      long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
      while (System.nanoTime() < deadline) {
        List<ObjectNode> rows = druid.sql(sql).objects();
        if (rows.size() > 0 && !rows.get(0).path("c").isNull()) {
          inDruid = rows.get(0).path("c").asLong();
          up = rows.get(0).path("up").asLong();
          down = rows.get(0).path("down").asLong();
        }
        if (inDruid >= connections) {
          recoverSeconds = (System.nanoTime() - restartedAt) / 1e9;
          break;
        }
        Thread.sleep(2000);
      }
      // Anything counted twice would show now.
      Thread.sleep(15_000);
      List<ObjectNode> rows = druid.sql(sql).objects();
      if (rows.size() > 0) {
        inDruid = rows.get(0).path("c").asLong();
        up = rows.get(0).path("up").asLong();
        down = rows.get(0).path("down").asLong();
      }
      Metrics sidecar1 = Metrics.scrape(sidecarMetrics);
      Metrics collector1 = Metrics.scrape(collectorMetrics);
      double records = sidecar1.delta(sidecar0, "flowsight_sidecar_records_total");
      double delivered = sidecar1.delta(sidecar0, "flowsight_sidecar_records_produced_total");
      double dropped =
          sidecar1.delta(sidecar0, "flowsight_sidecar_output_dropped_total")
              + sidecar1.delta(sidecar0, "flowsight_sidecar_producer_errors_total")
              + sidecar1.delta(sidecar0, "flowsight_sidecar_output_lost_at_shutdown_total");
      double dlq = collector1.delta(collector0, "flowsight_collector_dead_letters_total");
      double afterClose =
          collector1.delta(collector0, "flowsight_collector_records_after_close_total");
      double gaps = collector1.delta(collector0, "flowsight_collector_sequence_gaps_total");
      boolean exact =
          inDruid == connections
              && up == connections * REQUEST_BYTES
              && down == connections * RESPONSE_BYTES;
      System.out.println();
      System.out.println(
          "| load | fault | connections made | sidecar records (all traffic) | delivered |"
              + " dropped | DLQ'd | records after close | sequence gaps | connections in Druid |"
              + " bytes up / down in Druid | lost | Druid complete after restart |");
      System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
      System.out.printf(
          Locale.ROOT,
          "| %.0f conn/s | broker down %.0f s | %d (%d during) | %.0f | %.0f | %.0f | %.0f | %.0f"
              + " | %.0f | %d | %d / %d (truth %d / %d) | %d | %s |%n",
          rate,
          downSeconds,
          connections,
          madeDuring,
          records,
          delivered,
          dropped,
          dlq,
          afterClose,
          gaps,
          inDruid,
          up,
          down,
          connections * REQUEST_BYTES,
          connections * RESPONSE_BYTES,
          connections - inDruid,
          Double.isNaN(recoverSeconds)
              ? "not within 20 min"
              : String.format(Locale.ROOT, "%.0f s", recoverSeconds));
      System.out.println();
      System.out.println(exact ? "EXACT: every connection is in Druid once" : "NOT EXACT");
      if (!exact) {
        System.exit(1);
      }
    }
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }

  private static void run(Path script, String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>();
    command.add(script.toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue());
    }
  }

  /** One scrape of a Prometheus text endpoint: each metric summed over its labels. */
  private record Metrics(String text) {
    static Metrics scrape(String url) throws IOException, InterruptedException {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                  HttpResponse.BodyHandlers.ofString());
      return new Metrics(response.body());
    }

    double value(String name) {
      double sum = 0;
      for (String line : text.split("\n")) {
        if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return sum;
    }

    double delta(Metrics before, String name) {
      return value(name) - before.value(name);
    }
  }
}
