package io.flowsight.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The operations endpoint of a Flowsight service (the sidecar, the collector): {@code /metrics}
 * (Prometheus text format) and {@code /health} (JSON; HTTP 200 when healthy, 503 when not), on one
 * small daemon thread.
 */
public final class OpsServer implements AutoCloseable {

  /** A health verdict and its JSON body. */
  public record Health(boolean healthy, String json) {}

  private final HttpServer server;

  public OpsServer(String host, int port, PrometheusRegistry registry, Supplier<Health> health)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.createContext("/metrics", new MetricsHandler(registry));
    server.createContext("/health", exchange -> respond(exchange, health.get()));
    server.setExecutor(
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "flowsight-ops-http");
              t.setDaemon(true);
              return t;
            }));
    server.start();
  }

  /** The port bound (useful with port 0 in tests). */
  public int port() {
    return server.getAddress().getPort();
  }

  private static void respond(HttpExchange exchange, Health health) throws IOException {
    byte[] body = health.json().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(health.healthy() ? 200 : 503, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
