package io.flowsight.ops;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
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
 * small daemon thread. Optionally over TLS and behind HTTP basic authentication ({@link
 * OpsSecurity}): the JDK's own server does both, so no web framework comes into the services.
 */
public final class OpsServer implements AutoCloseable {

  /** A health verdict and its JSON body. */
  public record Health(boolean healthy, String json) {}

  private final HttpServer server;

  public OpsServer(String host, int port, PrometheusRegistry registry, Supplier<Health> health)
      throws IOException {
    this(host, port, registry, health, OpsSecurity.NONE);
  }

  public OpsServer(
      String host,
      int port,
      PrometheusRegistry registry,
      Supplier<Health> health,
      OpsSecurity security)
      throws IOException {
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (security.tls() != null) {
      HttpsServer https = HttpsServer.create(address, 16);
      https.setHttpsConfigurator(new HttpsConfigurator(security.tls()));
      server = https;
    } else {
      server = HttpServer.create(address, 16);
    }
    HttpContext metrics = server.createContext("/metrics", new MetricsHandler(registry));
    HttpContext healthContext =
        server.createContext("/health", exchange -> respond(exchange, health.get()));
    if (security.authenticated()) {
      BasicAuthenticator authenticator =
          new BasicAuthenticator("flowsight", StandardCharsets.UTF_8) {
            @Override
            public boolean checkCredentials(String user, String password) {
              return security.admits(user, password);
            }
          };
      metrics.setAuthenticator(authenticator);
      if (security.healthToo()) {
        healthContext.setAuthenticator(authenticator);
      }
    }
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
