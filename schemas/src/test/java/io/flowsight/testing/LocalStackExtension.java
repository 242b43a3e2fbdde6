package io.flowsight.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives integration tests a real Kafka broker and a real schema registry, started once per test
 * run. Use with {@code @ExtendWith(LocalStackExtension.class)} and take a {@link LocalStack}
 * parameter.
 *
 * <p>Where the servers come from, in order:
 *
 * <ol>
 *   <li>{@code FLOWSIGHT_TEST_KAFKA_BOOTSTRAP} and {@code FLOWSIGHT_TEST_REGISTRY_URL}: servers
 *       already running ({@code ./flowsight test} starts a test stack once and sets these);
 *   <li>otherwise the extension starts the project's own stack ({@code deploy/local/stack}) on the
 *       test ports (Kafka 19092, controller 19093, registry 18081, management 19001) with its data
 *       under {@code .flowsight/test}, and stops it when the test JVM ends.
 * </ol>
 *
 * When neither works the tests skip with the reason, and fail in CI (see {@link Requirements}).
 */
public final class LocalStackExtension implements BeforeAllCallback, ParameterResolver {

  static final int TEST_KAFKA_PORT = 19092;
  static final int TEST_CONTROLLER_PORT = 19093;
  static final int TEST_REGISTRY_PORT = 18081;
  static final int TEST_MANAGEMENT_PORT = 19001;

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(LocalStackExtension.class);

  /**
   * What the root context store keeps (and closes at the end of the run): the stack, or why there
   * is none.
   */
  private record Resolution(LocalStack stack, String problem, Path startedHome, Path script)
      implements AutoCloseable {
    @Override
    public void close() {
      if (startedHome != null) {
        run(script, startedHome, "stop");
      }
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    Resolution resolution = resolution(context);
    Requirements.require(resolution.stack != null, resolution.problem);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == LocalStack.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Resolution resolution = resolution(context);
    Requirements.require(resolution.stack != null, resolution.problem);
    return resolution.stack;
  }

  private static Resolution resolution(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent("stack", key -> resolve(), Resolution.class);
  }

  private static Resolution resolve() {
    String bootstrap = System.getenv("FLOWSIGHT_TEST_KAFKA_BOOTSTRAP");
    String registry = System.getenv("FLOWSIGHT_TEST_REGISTRY_URL");
    if (bootstrap != null && registry != null) {
      String problem = healthProblem(bootstrap, registry);
      return new Resolution(
          problem == null ? new LocalStack(bootstrap, registry) : null, problem, null, null);
    }
    bootstrap = "127.0.0.1:" + TEST_KAFKA_PORT;
    registry = "http://127.0.0.1:" + TEST_REGISTRY_PORT + "/apis/ccompat/v7";
    if (healthProblem(bootstrap, registry) == null) {
      return new Resolution(new LocalStack(bootstrap, registry), null, null, null);
    }
    Path script = findStackScript();
    if (script == null) {
      return new Resolution(
          null,
          "no Kafka broker and schema registry: set FLOWSIGHT_TEST_KAFKA_BOOTSTRAP and"
              + " FLOWSIGHT_TEST_REGISTRY_URL, or run the tests from the repository (deploy/local/stack"
              + " not found)",
          null,
          null);
    }
    Path home = script.getParent().getParent().getParent().resolve(".flowsight/test");
    int exit = run(script, home, "start");
    if (exit != 0) {
      return new Resolution(
          null,
          "could not start the test stack (deploy/local/stack start exited "
              + exit
              + "; logs in "
              + home.resolve("logs")
              + ")",
          null,
          null);
    }
    String problem = healthProblem(bootstrap, registry);
    return new Resolution(
        problem == null ? new LocalStack(bootstrap, registry) : null, problem, home, script);
  }

  private static Path findStackScript() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path script = dir.resolve("deploy/local/stack");
      if (Files.isExecutable(script)) {
        return script;
      }
    }
    return null;
  }

  private static int run(Path script, Path home, String command) {
    ProcessBuilder builder = new ProcessBuilder(List.of(script.toString(), command));
    Map<String, String> env = builder.environment();
    env.put("FLOWSIGHT_HOME", home.toString());
    // Share the servers' jars with the developer's own stack instead of resolving them again.
    env.putIfAbsent("FLOWSIGHT_DIST", home.getParent().resolve("dist").toString());
    env.put("FLOWSIGHT_KAFKA_PORT", String.valueOf(TEST_KAFKA_PORT));
    env.put("FLOWSIGHT_KAFKA_CONTROLLER_PORT", String.valueOf(TEST_CONTROLLER_PORT));
    env.put("FLOWSIGHT_REGISTRY_PORT", String.valueOf(TEST_REGISTRY_PORT));
    env.put("FLOWSIGHT_REGISTRY_MANAGEMENT_PORT", String.valueOf(TEST_MANAGEMENT_PORT));
    builder.inheritIO();
    try {
      Process process = builder.start();
      if (!process.waitFor(10, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        return -1;
      }
      return process.exitValue();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** Null when both servers answer, else what is wrong. */
  private static String healthProblem(String bootstrap, String registryUrl) {
    String[] hostPort = bootstrap.split(",")[0].split(":");
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])),
          (int) Duration.ofSeconds(3).toMillis());
    } catch (IOException | RuntimeException e) {
      return "no Kafka broker at " + bootstrap + " (" + e.getMessage() + ")";
    }
    try {
      HttpResponse<Void> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(registryUrl + "/subjects"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.discarding());
      if (response.statusCode() != 200) {
        return "schema registry at " + registryUrl + " answered HTTP " + response.statusCode();
      }
    } catch (IOException e) {
      return "no schema registry at " + registryUrl + " (" + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
    return null;
  }
}
