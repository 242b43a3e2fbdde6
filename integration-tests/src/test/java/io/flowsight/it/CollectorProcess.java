package io.flowsight.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The collector in a JVM of its own ({@code CollectorMain} on the test's class path), with short
 * windows (10 s, grace 2 s) so that tests see rows soon; its output goes to {@code log}.
 */
final class CollectorProcess implements AutoCloseable {

  private final Process process;
  private final int metricsPort;

  private CollectorProcess(Process process, int metricsPort) {
    this.process = process;
    this.metricsPort = metricsPort;
  }

  static CollectorProcess start(
      String bootstrapServers,
      String registryUrl,
      String rawTopic,
      String identityTopic,
      String aggregatedTopic,
      String deadLetterTopic,
      String applicationId,
      Path stateDir,
      Path log)
      throws IOException {
    return start(
        bootstrapServers,
        registryUrl,
        rawTopic,
        identityTopic,
        aggregatedTopic,
        deadLetterTopic,
        applicationId,
        stateDir,
        log,
        List.of(),
        Map.of());
  }

  /**
   * As above, with {@code moreOptions} after the others (security settings) and {@code environment}
   * added to the process's ({@code FLOWSIGHT_COLLECTOR_*} secrets: never on its command line).
   */
  static CollectorProcess start(
      String bootstrapServers,
      String registryUrl,
      String rawTopic,
      String identityTopic,
      String aggregatedTopic,
      String deadLetterTopic,
      String applicationId,
      Path stateDir,
      Path log,
      List<String> moreOptions,
      Map<String, String> environment)
      throws IOException {
    int metricsPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      metricsPort = socket.getLocalPort();
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("io.flowsight.collector.CollectorMain");
    command.addAll(
        List.of(
            "--bootstrap-servers",
            bootstrapServers,
            "--registry-url",
            registryUrl,
            "--flows-topic",
            rawTopic,
            "--identity-topic",
            identityTopic,
            "--output-topic",
            aggregatedTopic,
            "--dlq-topic",
            deadLetterTopic,
            "--application-id",
            applicationId,
            "--window",
            "10s",
            "--grace",
            "2s",
            "--state-dir",
            stateDir.toString(),
            "--metrics-address",
            "127.0.0.1:" + metricsPort));
    command.addAll(moreOptions);
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().putAll(environment);
    return new CollectorProcess(builder.start(), metricsPort);
  }

  /**
   * The collector's own metrics whose name starts with {@code prefix} and whose value is not 0, a
   * line each: for failure messages.
   */
  String metrics(String prefix) {
    try {
      String text =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      return text.lines()
          .filter(l -> l.startsWith(prefix) && !l.endsWith(" 0.0") && !l.endsWith(" 0"))
          .collect(Collectors.joining("\n"));
    } catch (IOException | InterruptedException e) {
      return "(metrics unreadable: " + e + ")";
    }
  }

  /** The stacks of the collector's stream threads ({@code jcmd Thread.print}): for failures. */
  String streamThreadStacks() {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    try {
      Process p =
          new ProcessBuilder(jcmd.toString(), String.valueOf(process.pid()), "Thread.print")
              .redirectErrorStream(true)
              .start();
      String dump = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(30, TimeUnit.SECONDS);
      StringBuilder out = new StringBuilder();
      for (String thread : dump.split("\n\n")) {
        if (thread.contains("StreamThread") || thread.contains("StateUpdater")) {
          out.append(thread).append("\n\n");
        }
      }
      return out.toString();
    } catch (IOException | InterruptedException e) {
      return "(no thread dump: " + e + ")";
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Whether it runs, or its exit code: for failure messages. */
  String state() {
    return process.isAlive() ? "running" : "exited with " + process.exitValue();
  }

  /** SIGTERM, then SIGKILL after 30 s. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
