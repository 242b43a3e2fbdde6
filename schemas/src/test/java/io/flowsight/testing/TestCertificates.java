package io.flowsight.testing;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Certificates made at test time with {@code keytool}: a CA, a server certificate signed by it for
 * {@code 127.0.0.1} and {@code localhost} (PKCS12, and as PEM chain and key for servers that read
 * PEM), a client certificate signed by it for mutual TLS, and the CA's certificate as PEM, the
 * clients' truststore (and the servers' truststore for client certificates). The stores' password
 * reaches keytool through its environment, never its command line.
 *
 * @param caPem the CA's certificate, PEM: the clients' truststore
 * @param serverP12 the server's key and certificate chain, PKCS12, password {@code storePassword}
 * @param serverChainPem the server's certificate and the CA's, PEM
 * @param serverKeyPem the server's private key, PKCS#8 PEM
 * @param clientP12 a client's key and certificate chain ({@code CN=flowsight-test-client}), PKCS12,
 *     password {@code storePassword}
 */
public record TestCertificates(
    Path caPem,
    Path serverP12,
    Path serverChainPem,
    Path serverKeyPem,
    Path clientP12,
    String storePassword) {

  /** Makes them in {@code dir}; skips (fails in CI) without keytool. */
  public static TestCertificates make(Path dir) throws Exception {
    return make(dir, randomSecret());
  }

  /** As {@link #make(Path)}, the stores protected by {@code password}. */
  public static TestCertificates make(Path dir, String password) throws Exception {
    Requirements.require(
        new ProcessBuilder("keytool", "-help").start().waitFor() == 0,
        "keytool (a JDK) on the PATH, to make the test certificates");
    Files.createDirectories(dir);
    keytool(
        dir,
        password,
        "-genkeypair",
        "-alias",
        "ca",
        "-dname",
        "CN=flowsight-test-ca",
        "-ext",
        "bc:c",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "2",
        "-storetype",
        "PKCS12",
        "-keystore",
        "ca.p12",
        "-storepass:env",
        "STORE_PASSWORD");
    keytool(
        dir,
        password,
        "-exportcert",
        "-alias",
        "ca",
        "-keystore",
        "ca.p12",
        "-storepass:env",
        "STORE_PASSWORD",
        "-rfc",
        "-file",
        "ca.pem");
    signed(dir, password, "server", "CN=localhost", "ip:127.0.0.1,dns:localhost");
    signed(dir, password, "client", "CN=flowsight-test-client", null);
    Path chain =
        Files.writeString(
            dir.resolve("server-chain.pem"),
            Files.readString(dir.resolve("server.crt")) + Files.readString(dir.resolve("ca.pem")));
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(dir.resolve("server.p12"))) {
      store.load(in, password.toCharArray());
    }
    Key key = store.getKey("server", password.toCharArray());
    Path keyPem =
        Files.writeString(
            dir.resolve("server-key.pem"),
            "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
    return new TestCertificates(
        dir.resolve("ca.pem"),
        dir.resolve("server.p12"),
        chain,
        keyPem,
        dir.resolve("client.p12"),
        password);
  }

  /**
   * A key pair in {@code <alias>.p12} whose certificate the CA signs; the store then holds the CA's
   * certificate and the signed one (its chain). {@code san}: a subjectAltName extension, or null.
   */
  private static void signed(Path dir, String password, String alias, String dname, String san)
      throws Exception {
    String store = alias + ".p12";
    keytool(
        dir,
        password,
        "-genkeypair",
        "-alias",
        alias,
        "-dname",
        dname,
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "2",
        "-storetype",
        "PKCS12",
        "-keystore",
        store,
        "-storepass:env",
        "STORE_PASSWORD");
    keytool(
        dir,
        password,
        "-certreq",
        "-alias",
        alias,
        "-keystore",
        store,
        "-storepass:env",
        "STORE_PASSWORD",
        "-file",
        alias + ".csr");
    List<String> gencert =
        new ArrayList<>(
            List.of(
                "-gencert",
                "-alias",
                "ca",
                "-keystore",
                "ca.p12",
                "-storepass:env",
                "STORE_PASSWORD",
                "-infile",
                alias + ".csr",
                "-outfile",
                alias + ".crt",
                "-rfc",
                "-validity",
                "2"));
    if (san != null) {
      gencert.addAll(List.of("-ext", "SAN=" + san));
    }
    keytool(dir, password, gencert.toArray(String[]::new));
    keytool(
        dir,
        password,
        "-importcert",
        "-noprompt",
        "-alias",
        "ca",
        "-file",
        "ca.pem",
        "-keystore",
        store,
        "-storepass:env",
        "STORE_PASSWORD");
    keytool(
        dir,
        password,
        "-importcert",
        "-noprompt",
        "-alias",
        alias,
        "-file",
        alias + ".crt",
        "-keystore",
        store,
        "-storepass:env",
        "STORE_PASSWORD");
  }

  private static void keytool(Path dir, String storePassword, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("keytool"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    builder.environment().put("STORE_PASSWORD", storePassword);
    builder.redirectErrorStream(true);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes());
    if (process.waitFor() != 0) {
      throw new IllegalStateException("keytool " + args[0] + " failed: " + output);
    }
  }

  static String randomSecret() {
    byte[] bytes = new byte[12];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
