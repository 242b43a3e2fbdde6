package io.flowsight.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The collector in a JVM of its own ({@code CollectorMain} on the test's class path), with short
 * windows (10 s, grace 2 s) so that tests see rows soon; its output goes to {@code log}.
 */
final class CollectorProcess implements AutoCloseable {

  private final Process process;

  private CollectorProcess(Process process) {
    this.process = process;
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
            "127.0.0.1:0"));
    return new CollectorProcess(
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start());
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
