package io.flowsight.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

/**
 * A Kafka broker of a test's own with a SASL_SSL listener (SCRAM-SHA-256 and SCRAM-SHA-512 over
 * TLS) and an SSL listener that demands a client certificate (mutual TLS), beside its plaintext
 * one, started with the project's {@code deploy/local/stack} ({@code
 * FLOWSIGHT_KAFKA_EXTRA_CONFIG}). Its certificates are made at test time with {@code keytool}: a
 * CA, the broker's certificate signed by it for {@code 127.0.0.1} and {@code localhost}, a client
 * certificate signed by it, and the CA's certificate as a PEM truststore for the clients. One SCRAM
 * user, {@link #USER}, with a random password written to {@link #passwordFile()} (the stores'
 * password never reaches a command line: keytool reads it from its environment).
 *
 * <p>Ports: {@code FLOWSIGHT_TEST_SECURED_KAFKA_PORT} (default 29292) for the SASL_SSL listener,
 * the next two for the plaintext listener (setup only) and the controller, the third after it for
 * the mutual-TLS listener. A test without {@code keytool} or the stack script skips (fails in CI).
 */
public final class SecuredBroker implements AutoCloseable {

  public static final String USER = "flowsight-test";

  private final Path script;
  private final Path home;
  private final int securedPort;
  private final int plainPort;
  private final int controllerPort;
  private final int mutualTlsPort;
  private final Path truststore;
  private final Path passwordFile;
  private final String password;
  private final Path clientKeystore;
  private final Path keystorePasswordFile;

  private SecuredBroker(
      Path script,
      Path home,
      int securedPort,
      Path truststore,
      Path passwordFile,
      String password,
      Path clientKeystore,
      Path keystorePasswordFile) {
    this.script = script;
    this.home = home;
    this.securedPort = securedPort;
    this.plainPort = securedPort + 1;
    this.controllerPort = securedPort + 2;
    this.mutualTlsPort = securedPort + 3;
    this.truststore = truststore;
    this.passwordFile = passwordFile;
    this.password = password;
    this.clientKeystore = clientKeystore;
    this.keystorePasswordFile = keystorePasswordFile;
  }

  /** Makes the certificates in {@code dir}, starts the broker and creates {@link #USER}. */
  public static SecuredBroker start(Path dir) throws Exception {
    Path script = findStackScript();
    Requirements.require(script != null, "deploy/local/stack (run from the repository)");
    int port =
        Integer.parseInt(
            System.getenv().getOrDefault("FLOWSIGHT_TEST_SECURED_KAFKA_PORT", "29292"));
    TestCertificates certs = TestCertificates.make(dir.resolve("certs"));
    String password = TestCertificates.randomSecret();
    Path passwordFile = Files.writeString(dir.resolve("kafka-password"), password + "\n");
    Path keystorePasswordFile =
        Files.writeString(dir.resolve("keystore-password"), certs.storePassword() + "\n");
    Path extra =
        Files.writeString(
            dir.resolve("secured-broker.properties"),
            String.join(
                "\n",
                "listeners=SASL_SSL://127.0.0.1:"
                    + port
                    + ",PLAINTEXT://127.0.0.1:"
                    + (port + 1)
                    + ",CONTROLLER://127.0.0.1:"
                    + (port + 2)
                    + ",SSL://127.0.0.1:"
                    + (port + 3),
                "advertised.listeners=SASL_SSL://127.0.0.1:"
                    + port
                    + ",PLAINTEXT://127.0.0.1:"
                    + (port + 1)
                    + ",SSL://127.0.0.1:"
                    + (port + 3),
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,"
                    + "SASL_SSL:SASL_SSL,SSL:SSL",
                "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
                "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config="
                    + "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                    + "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "ssl.keystore.location=" + certs.serverP12(),
                "ssl.keystore.type=PKCS12",
                "ssl.keystore.password=" + certs.storePassword(),
                // Mutual TLS: the SSL listener accepts only clients whose certificate the CA
                // signed.
                "listener.name.ssl.ssl.client.auth=required",
                "listener.name.ssl.ssl.truststore.location=" + certs.caPem(),
                "listener.name.ssl.ssl.truststore.type=PEM",
                ""));
    SecuredBroker broker =
        new SecuredBroker(
            script,
            dir.resolve("home"),
            port,
            certs.caPem(),
            passwordFile,
            password,
            certs.clientP12(),
            keystorePasswordFile);
    int status = broker.stack("start", Map.of("FLOWSIGHT_KAFKA_EXTRA_CONFIG", extra.toString()));
    if (status != 0) {
      broker.close();
      throw new IllegalStateException(
          "the secured broker did not start (deploy/local/stack start kafka exited "
              + status
              + "; see "
              + broker.home.resolve("logs/kafka.log")
              + ")");
    }
    try {
      broker.createUser();
    } catch (Exception e) {
      broker.close();
      throw e;
    }
    return broker;
  }

  /** The SASL_SSL listener, {@code 127.0.0.1:port}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + securedPort;
  }

  /** The stack's home of this broker: its data, logs and rendered configuration. */
  public Path home() {
    return home;
  }

  /** The SSL listener that demands a client certificate, {@code 127.0.0.1:port}. */
  public String mutualTlsBootstrapServers() {
    return "127.0.0.1:" + mutualTlsPort;
  }

  /** The client's key and certificate chain (PKCS12) for the mutual-TLS listener. */
  public Path clientKeystore() {
    return clientKeystore;
  }

  /** A file holding {@link #clientKeystore()}'s password, one line. */
  public Path keystorePasswordFile() {
    return keystorePasswordFile;
  }

  /** The CA's certificate (PEM), the clients' truststore. */
  public Path truststore() {
    return truststore;
  }

  /** A file holding {@link #USER}'s password, one line. */
  public Path passwordFile() {
    return passwordFile;
  }

  /** The password itself: for checking that it shows nowhere. */
  public String password() {
    return password;
  }

  /** The client properties of a test's own clients (consumers that check what arrived). */
  public Map<String, Object> clientConfig() {
    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrapServers());
    config.put("security.protocol", "SASL_SSL");
    config.put("sasl.mechanism", "SCRAM-SHA-512");
    config.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + USER
            + "\" password=\""
            + password
            + "\";");
    config.put("ssl.truststore.location", truststore.toString());
    config.put("ssl.truststore.type", "PEM");
    return config;
  }

  /** Stops the broker (its data stays under the test's directory). */
  @Override
  public void close() {
    stack("stop", Map.of());
  }

  private void createUser() throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + plainPort);
    try (Admin admin = Admin.create(props)) {
      // One mechanism per request: the broker refuses two alterations of a user in one.
      for (ScramMechanism mechanism :
          List.of(ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)) {
        admin
            .alterUserScramCredentials(
                List.of(
                    new UserScramCredentialUpsertion(
                        USER, new ScramCredentialInfo(mechanism, 4096), password)))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      // Known to the broker once described.
      admin.describeUserScramCredentials(List.of(USER)).all().get(30, TimeUnit.SECONDS);
    }
  }

  private int stack(String command, Map<String, String> more) {
    ProcessBuilder builder = new ProcessBuilder(List.of(script.toString(), command, "kafka"));
    Map<String, String> env = builder.environment();
    env.put("FLOWSIGHT_HOME", home.toString());
    env.putIfAbsent(
        "FLOWSIGHT_DIST",
        script.getParent().getParent().getParent().resolve(".flowsight/dist").toString());
    env.put("FLOWSIGHT_KAFKA_PORT", String.valueOf(plainPort));
    env.put("FLOWSIGHT_KAFKA_CONTROLLER_PORT", String.valueOf(controllerPort));
    env.putAll(more);
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

  private static Path findStackScript() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path script = dir.resolve("deploy/local/stack");
      if (Files.isExecutable(script)) {
        return script;
      }
    }
    return null;
  }
}
