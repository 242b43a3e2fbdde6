package io.flowsight.collector;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Collectors the integration tests run as processes of their own. */
final class CollectorProcesses {

  private CollectorProcesses() {}

  /**
   * Waits up to 90 s until the collector's /health answers 200 with state RUNNING and returns
   * {@code p}; fails with its log when it exits first.
   */
  static Process awaitRunning(Process p, int metricsPort, Path log)
      throws IOException, InterruptedException {
    return awaitRunning(
        p, URI.create("http://127.0.0.1:" + metricsPort), HttpClient.newHttpClient(), log);
  }

  /** As above, for the endpoint at {@code base} (https with {@code http}'s trust). */
  static Process awaitRunning(Process p, URI base, HttpClient http, Path log)
      throws IOException, InterruptedException {
    HttpRequest health =
        HttpRequest.newBuilder(base.resolve("/health")).timeout(Duration.ofSeconds(2)).build();
    long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (System.nanoTime() < until) {
      if (!p.isAlive()) {
        throw new AssertionError("the collector exited: " + Files.readString(log));
      }
      try {
        HttpResponse<String> answer = http.send(health, HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() == 200 && answer.body().contains("RUNNING")) {
          return p;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the collector did not become healthy in 90 s; log " + log);
  }
}
