package io.flowsight.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.flowsight.druid.DruidException;
import io.flowsight.ops.OpsSecurity;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * The console's HTTP server: the JDK's own ({@code com.sun.net.httpserver}), as the services'
 * {@code /metrics} endpoint uses. It is enough here: a handful of GET endpoints answering JSON, a
 * page and its scripts from the classpath, TLS and basic authentication, which the JDK's server
 * does; no web framework (and its Jetty, Kotlin and their versions) comes into the project.
 *
 * <p>Paths: {@code /} the page; {@code /static/*} its script and style; {@code
 * /webjars/echarts.min.js} the charts library from its webjar; {@code /api/graph}, {@code
 * /api/filters}, {@code /api/table/NAME}, {@code /api/series} JSON ({@link ConsoleApi}); {@code
 * /health} open to probes, everything else behind the user when one is set.
 */
public final class ConsoleServer implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STATIC = "io/flowsight/console/static/";

  /**
   * The page may load its own files only, and talk to its own server: nothing from elsewhere runs,
   * even if a value from Druid (an app name) held markup. echarts sets inline styles on its
   * tooltips.
   */
  private static final String CONTENT_SECURITY_POLICY =
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
          + " object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

  private final HttpServer server;
  private final ExecutorService executor;
  private final String echartsPath;

  public ConsoleServer(String host, int port, OpsSecurity security, ConsoleApi api)
      throws IOException {
    echartsPath = "META-INF/resources/webjars/echarts/" + echartsVersion() + "/dist/echarts.min.js";
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (security.tls() != null) {
      HttpsServer https = HttpsServer.create(address, 64);
      https.setHttpsConfigurator(new HttpsConfigurator(security.tls()));
      server = https;
    } else {
      server = HttpServer.create(address, 64);
    }
    BasicAuthenticator authenticator =
        security.authenticated()
            ? new BasicAuthenticator("flowsight console", StandardCharsets.UTF_8) {
              @Override
              public boolean checkCredentials(String user, String password) {
                return security.admits(user, password);
              }
            }
            : null;
    guard(server.createContext("/", this::page), authenticator);
    guard(server.createContext("/api/graph", json(p -> api.graph(p))), authenticator);
    guard(server.createContext("/api/filters", json(p -> api.filters(p))), authenticator);
    guard(
        server.createContext(
            "/api/table/",
            exchange ->
                json(p -> api.table(exchange.getRequestURI().getPath().substring(11), p))
                    .handle(exchange)),
        authenticator);
    guard(server.createContext("/api/series", json(p -> api.series(p))), authenticator);
    server.createContext(
        "/health",
        exchange ->
            send(
                exchange,
                200,
                "application/json",
                "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8)));
    // A few threads: the page asks for the graph, its filters and three tables at once, and each
    // waits on Druid.
    executor =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "flowsight-console-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.start();
  }

  /** The port bound (with port 0, the one the system chose). */
  public int port() {
    return server.getAddress().getPort();
  }

  private static void guard(HttpContext context, BasicAuthenticator authenticator) {
    if (authenticator != null) {
      context.setAuthenticator(authenticator);
    }
  }

  /** The echarts version of the webjar on the classpath (written by the build). */
  static String echartsVersion() {
    Properties versions = new Properties();
    try (InputStream in =
        ConsoleServer.class.getResourceAsStream("/io/flowsight/console/versions.properties")) {
      if (in == null) {
        throw new IllegalStateException("versions.properties is missing from the console's jar");
      }
      versions.load(in);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return versions.getProperty("echarts");
  }

  /** The page, its files and the charts library; anything else is 404. */
  private void page(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
      send(exchange, 405, "text/plain", "GET only\n".getBytes(StandardCharsets.UTF_8));
      return;
    }
    String path = exchange.getRequestURI().getPath();
    String resource;
    if (path.equals("/") || path.equals("/index.html")) {
      resource = STATIC + "index.html";
    } else if (path.equals("/webjars/echarts.min.js")) {
      resource = echartsPath;
    } else if (path.matches("/static/[a-z0-9-]+\\.(js|css|png)")) {
      resource = STATIC + path.substring("/static/".length());
    } else {
      send(
          exchange,
          404,
          "text/plain",
          ("not found: " + path + "\n").getBytes(StandardCharsets.UTF_8));
      return;
    }
    byte[] body;
    try (InputStream in = ConsoleServer.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        send(
            exchange,
            404,
            "text/plain",
            ("not found: " + path + "\n").getBytes(StandardCharsets.UTF_8));
        return;
      }
      body = in.readAllBytes();
    }
    send(exchange, 200, contentType(resource), body);
  }

  private static String contentType(String resource) {
    if (resource.endsWith(".html")) {
      return "text/html; charset=utf-8";
    } else if (resource.endsWith(".js")) {
      return "text/javascript; charset=utf-8";
    } else if (resource.endsWith(".css")) {
      return "text/css; charset=utf-8";
    }
    return "image/png";
  }

  /** A JSON endpoint: 200 with the answer, 400 for a bad request, 502 when Druid fails. */
  private static HttpHandler json(Function<Map<String, String>, ObjectNode> answer) {
    return exchange -> {
      if (!exchange.getRequestMethod().equals("GET")) {
        send(exchange, 405, "application/json", error("GET only"));
        return;
      }
      int status;
      byte[] body;
      try {
        ObjectNode out =
            answer.apply(ConsoleApi.parameters(exchange.getRequestURI().getRawQuery()));
        status = 200;
        body = JSON.writeValueAsBytes(out);
      } catch (ConsoleApi.BadRequest e) {
        status = 400;
        body = error(e.getMessage());
      } catch (DruidException e) {
        status = 502;
        body = error(e.getMessage());
      } catch (RuntimeException e) {
        status = 500;
        body = error(e.toString());
      }
      send(exchange, status, "application/json", body);
    };
  }

  private static byte[] error(String message) {
    try {
      return JSON.writeValueAsBytes(JSON.createObjectNode().put("error", message));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void send(HttpExchange exchange, int status, String type, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.getResponseHeaders().set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      if (!head) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
