package io.flowsight.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The test registry behind TLS and HTTP basic authentication: nginx (Debian's package; {@code
 * ./flowsight test} installs it) as a reverse proxy with {@code auth_basic}, its configuration
 * written by the test, run in the foreground as a process the test starts and stops. Its
 * certificate is signed by a CA made at test time ({@link TestCertificates}); one user, {@link
 * #USER}, with a random password in {@link #passwordFile()}. A second port takes a bearer token
 * instead ({@link #bearerRegistryUrl()}, the token in {@link #tokenFile()}). A test without nginx
 * skips (fails in CI).
 */
public final class SecuredRegistry implements AutoCloseable {

  public static final String USER = "flowsight-registry";

  private final Process nginx;
  private final int port;
  private final int bearerPort;
  private final Path truststore;
  private final Path passwordFile;
  private final String password;
  private final Path tokenFile;

  private SecuredRegistry(
      Process nginx,
      int port,
      int bearerPort,
      Path truststore,
      Path passwordFile,
      String password,
      Path tokenFile) {
    this.nginx = nginx;
    this.port = port;
    this.bearerPort = bearerPort;
    this.truststore = truststore;
    this.passwordFile = passwordFile;
    this.password = password;
    this.tokenFile = tokenFile;
  }

  /** Starts nginx in {@code dir} in front of {@code upstream} ({@code http://host:port}). */
  public static SecuredRegistry start(Path dir, String upstream) throws Exception {
    Path binary = Path.of("/usr/sbin/nginx");
    Requirements.require(Files.isExecutable(binary), "nginx (apt-get install nginx), at " + binary);
    Files.createDirectories(dir);
    TestCertificates certs = TestCertificates.make(dir.resolve("certs"));
    String password = TestCertificates.randomSecret();
    Path passwordFile = Files.writeString(dir.resolve("registry-password"), password + "\n");
    // {SHA}: base64 of the password's SHA-1, a scheme nginx's auth_basic_user_file reads.
    String sha =
        Base64.getEncoder()
            .encodeToString(
                MessageDigest.getInstance("SHA-1")
                    .digest(password.getBytes(StandardCharsets.UTF_8)));
    Path users = Files.writeString(dir.resolve("htpasswd"), USER + ":{SHA}" + sha + "\n");
    String token = TestCertificates.randomSecret();
    Path tokenFile = Files.writeString(dir.resolve("registry-token"), token + "\n");
    Path prefix = Files.createDirectories(dir.resolve("nginx"));
    Files.createDirectories(prefix.resolve("logs"));
    int port = freePort();
    int bearerPort = freePort();
    Path conf =
        Files.writeString(
            prefix.resolve("nginx.conf"),
            String.join(
                "\n",
                "daemon off;",
                // One process: no workers switching to an unprivileged user that could not read
                // the test's files.
                "master_process off;",
                "pid " + prefix.resolve("nginx.pid") + ";",
                "error_log " + prefix.resolve("logs/error.log") + " info;",
                "events { worker_connections 64; }",
                "http {",
                "  access_log " + prefix.resolve("logs/access.log") + ";",
                "  client_body_temp_path " + prefix.resolve("body") + ";",
                "  proxy_temp_path " + prefix.resolve("proxy") + ";",
                "  fastcgi_temp_path " + prefix.resolve("fastcgi") + ";",
                "  uwsgi_temp_path " + prefix.resolve("uwsgi") + ";",
                "  scgi_temp_path " + prefix.resolve("scgi") + ";",
                "  server {",
                "    listen 127.0.0.1:" + port + " ssl;",
                "    ssl_certificate " + certs.serverChainPem() + ";",
                "    ssl_certificate_key " + certs.serverKeyPem() + ";",
                "    location / {",
                "      auth_basic \"flowsight test registry\";",
                "      auth_basic_user_file " + users + ";",
                "      proxy_pass " + upstream + ";",
                "    }",
                "  }",
                "  server {",
                "    listen 127.0.0.1:" + bearerPort + " ssl;",
                "    ssl_certificate " + certs.serverChainPem() + ";",
                "    ssl_certificate_key " + certs.serverKeyPem() + ";",
                "    location / {",
                "      if ($http_authorization != \"Bearer " + token + "\") {",
                "        return 401;",
                "      }",
                "      proxy_pass " + upstream + ";",
                "    }",
                "  }",
                "}",
                ""));
    Process nginx =
        new ProcessBuilder(
                List.of(
                    binary.toString(),
                    "-p",
                    prefix.toString(),
                    "-c",
                    conf.toString(),
                    "-e",
                    prefix.resolve("logs/error.log").toString()))
            .redirectErrorStream(true)
            .redirectOutput(prefix.resolve("logs/nginx.out").toFile())
            .start();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < until) {
      if (!nginx.isAlive()) {
        throw new IllegalStateException(
            "nginx exited: " + Files.readString(prefix.resolve("logs/error.log")));
      }
      try {
        new Socket("127.0.0.1", port).close();
        new Socket("127.0.0.1", bearerPort).close();
        return new SecuredRegistry(
            nginx, port, bearerPort, certs.caPem(), passwordFile, password, tokenFile);
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    nginx.destroyForcibly();
    throw new IllegalStateException("nginx did not listen on " + port + " within 20 s");
  }

  /** The Confluent-compatible API behind TLS and basic authentication. */
  public String registryUrl() {
    return "https://127.0.0.1:" + port + "/apis/ccompat/v7";
  }

  /** The same API behind TLS and a bearer token ({@link #tokenFile()}). */
  public String bearerRegistryUrl() {
    return "https://127.0.0.1:" + bearerPort + "/apis/ccompat/v7";
  }

  /** A file holding the bearer token, one line. */
  public Path tokenFile() {
    return tokenFile;
  }

  /** The CA's certificate (PEM), the clients' truststore. */
  public Path truststore() {
    return truststore;
  }

  /** A file holding {@link #USER}'s password, one line. */
  public Path passwordFile() {
    return passwordFile;
  }

  public String password() {
    return password;
  }

  @Override
  public void close() {
    nginx.destroy();
    try {
      if (!nginx.waitFor(10, TimeUnit.SECONDS)) {
        nginx.destroyForcibly();
      }
    } catch (InterruptedException e) {
      nginx.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
