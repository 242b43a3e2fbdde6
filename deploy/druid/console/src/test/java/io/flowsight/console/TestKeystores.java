package io.flowsight.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

/** A PKCS12 keystore made with the JDK's keytool, for the tests of the console's TLS. */
final class TestKeystores {

  private TestKeystores() {}

  /** A key and a self-signed certificate for 127.0.0.1 and localhost in {@code dir/console.p12}. */
  static Path create(Path dir, String password) throws Exception {
    Path store = dir.resolve("console.p12");
    ProcessBuilder keytool =
        new ProcessBuilder(
                "keytool",
                "-genkeypair",
                "-alias",
                "console",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass:env",
                "STORE_PASSWORD")
            .redirectErrorStream(true);
    keytool.environment().put("STORE_PASSWORD", password);
    Process p = keytool.start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(output).isZero();
    return store;
  }
}
