package io.flowsight.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Kafka broker of one test's own, started and stopped with the project's stack script ({@code
 * deploy/local/stack start|stop kafka}) on free ports with its data in the test's directory, so
 * that the test can take it away and bring it back without disturbing the shared test broker. A
 * stop is the script's (SIGTERM); the data is kept for the next start.
 */
final class OwnBroker implements AutoCloseable {

  private final Path script;
  private final Path home;
  private final int port;
  private final int controllerPort;

  private OwnBroker(Path script, Path home, int port, int controllerPort) {
    this.script = script;
    this.home = home;
    this.port = port;
    this.controllerPort = controllerPort;
  }

  /** Starts a broker with its data under {@code home}. */
  static OwnBroker start(Path home) throws IOException, InterruptedException {
    Path script = Repository.file("deploy/local/stack");
    OwnBroker broker = new OwnBroker(script, home, freePort(), freePort());
    broker.start();
    return broker;
  }

  String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  void start() throws IOException, InterruptedException {
    run("start");
  }

  void stop() throws IOException, InterruptedException {
    run("stop");
  }

  @Override
  public void close() throws IOException {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run(String command) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(List.of(script.toString(), command, "kafka"));
    Map<String, String> env = builder.environment();
    // The servers' jars are shared with the developer's and the test stack's (resolved once).
    String dist = env.get("FLOWSIGHT_DIST");
    if (dist == null) {
      String flowsightHome = env.get("FLOWSIGHT_HOME");
      dist =
          flowsightHome != null
              ? Path.of(flowsightHome, "dist").toString()
              : script.getParent().getParent().getParent().resolve(".flowsight/dist").toString();
    }
    env.put("FLOWSIGHT_DIST", dist);
    env.put("FLOWSIGHT_HOME", home.toString());
    env.put("FLOWSIGHT_KAFKA_PORT", String.valueOf(port));
    env.put("FLOWSIGHT_KAFKA_CONTROLLER_PORT", String.valueOf(controllerPort));
    Files.createDirectories(home);
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("stack.out").toFile()));
    Process process = builder.start();
    if (!process.waitFor(5, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException("stack " + command + " kafka did not finish in 5 minutes");
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(
          "stack "
              + command
              + " kafka exited "
              + process.exitValue()
              + ": "
              + Files.readString(home.resolve("stack.out")));
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
