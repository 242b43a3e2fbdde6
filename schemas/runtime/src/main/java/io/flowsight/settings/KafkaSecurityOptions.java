package io.flowsight.settings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import picocli.CommandLine.Option;

/**
 * How a service's Kafka clients authenticate and encrypt: the same options for every Flowsight
 * service (a picocli mixin: {@code @Mixin KafkaSecurityOptions kafkaSecurity}), turned by {@link
 * #clientProperties} into the Kafka client properties that every client of the service gets (the
 * sidecar's producer, the identity source's producer and consumer, the collector's stream threads
 * and its admin client).
 *
 * <p>Secrets never come from a flag, which any user of the host could read in {@code ps}: each one
 * comes from a file ({@code --kafka-sasl-password-file}) or from the service's environment ({@code
 * <prefix>KAFKA_SASL_PASSWORD}), and {@code --print-config} shows only where it came from.
 * Plaintext, without authentication, is the default.
 */
public final class KafkaSecurityOptions {

  /** The Kafka security protocols ({@code security.protocol}). */
  public enum Protocol {
    PLAINTEXT,
    SSL,
    SASL_PLAINTEXT,
    SASL_SSL;

    boolean sasl() {
      return this == SASL_PLAINTEXT || this == SASL_SSL;
    }

    boolean tls() {
      return this == SSL || this == SASL_SSL;
    }
  }

  /** The secrets, each read from the environment variable {@code <prefix><suffix>}. */
  public static final String SASL_PASSWORD = "KAFKA_SASL_PASSWORD";

  public static final String TRUSTSTORE_PASSWORD = "KAFKA_SSL_TRUSTSTORE_PASSWORD";
  public static final String KEYSTORE_PASSWORD = "KAFKA_SSL_KEYSTORE_PASSWORD";

  /** What {@code --print-config} and {@link #clientProperties}' description show for a secret. */
  public static final String SECRET = "<secret>";

  @Option(
      names = "--kafka-security-protocol",
      paramLabel = "PROTOCOL",
      defaultValue = "PLAINTEXT",
      description =
          "How the Kafka clients connect: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
              + " Default: ${DEFAULT-VALUE}.")
  String protocol;

  @Option(
      names = "--kafka-sasl-mechanism",
      paramLabel = "MECHANISM",
      defaultValue = "SCRAM-SHA-512",
      description =
          "SASL mechanism (with SASL_*): SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN."
              + " Default: ${DEFAULT-VALUE}.")
  String saslMechanism;

  @Option(
      names = "--kafka-sasl-username",
      paramLabel = "NAME",
      description = "SASL user name (with SASL_*).")
  String saslUsername;

  @Option(
      names = "--kafka-sasl-password-file",
      paramLabel = "FILE",
      description =
          "File holding the SASL password (one line), or set the environment variable"
              + " <PREFIX>KAFKA_SASL_PASSWORD. Never a flag: flags show in ps.")
  Path saslPasswordFile;

  @Option(
      names = "--kafka-ssl-truststore",
      paramLabel = "FILE",
      description =
          "CA certificates to trust the brokers with (with SSL/SASL_SSL): PEM (.pem, .crt),"
              + " PKCS12 (.p12, .pfx) or JKS (.jks). Default: the JVM's trusted CAs.")
  Path truststore;

  @Option(
      names = "--kafka-ssl-truststore-password-file",
      paramLabel = "FILE",
      description =
          "File holding the PKCS12/JKS truststore's password, or set <PREFIX>"
              + TRUSTSTORE_PASSWORD
              + ".")
  Path truststorePasswordFile;

  @Option(
      names = "--kafka-ssl-keystore",
      paramLabel = "FILE",
      description =
          "This client's key and certificate, for brokers that require client certificates"
              + " (mutual TLS): PKCS12 (.p12, .pfx) or JKS (.jks).")
  Path keystore;

  @Option(
      names = "--kafka-ssl-keystore-password-file",
      paramLabel = "FILE",
      description =
          "File holding the keystore's password, or set <PREFIX>" + KEYSTORE_PASSWORD + ".")
  Path keystorePasswordFile;

  /** The variables a service with {@code envPrefix} reads secrets from: not options. */
  public static Set<String> secretVariables(String envPrefix) {
    return Set.of(
        envPrefix + SASL_PASSWORD, envPrefix + TRUSTSTORE_PASSWORD, envPrefix + KEYSTORE_PASSWORD);
  }

  /**
   * The Kafka client properties of these options, checked: {@code security.protocol}, with SASL
   * {@code sasl.mechanism} and {@code sasl.jaas.config}, with TLS the trust and key stores. Empty
   * for PLAINTEXT, the default, so that plaintext clients are configured exactly as before.
   *
   * @param settings the service's settings, for its variables and for errors naming the option
   * @param env the service's environment, where secrets may come from
   * @throws ConfigException naming the option and the fix
   */
  public Map<String, String> clientProperties(Settings settings, Map<String, String> env) {
    Protocol p = protocol(settings);
    Map<String, String> out = new LinkedHashMap<>();
    String sasl = nonBlank(saslUsername);
    if (!p.sasl() && (sasl != null || saslPasswordFile != null)) {
      throw settings.bad(
          "--kafka-security-protocol",
          protocol,
          "a SASL user is set: use SASL_SSL (or SASL_PLAINTEXT), or drop --kafka-sasl-username"
              + " and --kafka-sasl-password-file");
    }
    if (!p.tls() && (truststore != null || keystore != null)) {
      throw settings.bad(
          "--kafka-security-protocol",
          protocol,
          "a truststore or keystore is set: use SSL or SASL_SSL, or drop --kafka-ssl-truststore"
              + " and --kafka-ssl-keystore");
    }
    if (p == Protocol.PLAINTEXT) {
      return out;
    }
    out.put("security.protocol", p.name());
    if (p.sasl()) {
      String mechanism = saslMechanism.trim().toUpperCase(Locale.ROOT);
      String module =
          switch (mechanism) {
            case "SCRAM-SHA-256", "SCRAM-SHA-512" ->
                "org.apache.kafka.common.security.scram.ScramLoginModule";
            case "PLAIN" -> "org.apache.kafka.common.security.plain.PlainLoginModule";
            default ->
                throw settings.bad(
                    "--kafka-sasl-mechanism",
                    saslMechanism,
                    "use SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN");
          };
      if (sasl == null) {
        throw settings.bad(
            "--kafka-sasl-username",
            "",
            "with "
                + p
                + " set the SASL user name (and its password in a file or the environment)");
      }
      String password =
          secret(
              settings,
              env,
              "--kafka-sasl-password-file",
              saslPasswordFile,
              SASL_PASSWORD,
              "with " + p + " the SASL password is needed");
      out.put("sasl.mechanism", mechanism);
      out.put(
          "sasl.jaas.config",
          module
              + " required username=\""
              + jaasQuoted(sasl)
              + "\" password=\""
              + jaasQuoted(password)
              + "\";");
    }
    if (p.tls()) {
      if (truststore != null) {
        String type = storeType(settings, "--kafka-ssl-truststore", truststore, true);
        readable(settings, "--kafka-ssl-truststore", truststore);
        out.put("ssl.truststore.location", truststore.toString());
        out.put("ssl.truststore.type", type);
        if (!type.equals("PEM")) {
          String password =
              optionalSecret(
                  settings,
                  env,
                  "--kafka-ssl-truststore-password-file",
                  truststorePasswordFile,
                  TRUSTSTORE_PASSWORD);
          if (password != null) {
            out.put("ssl.truststore.password", password);
          }
        }
      }
      if (keystore != null) {
        String type = storeType(settings, "--kafka-ssl-keystore", keystore, false);
        readable(settings, "--kafka-ssl-keystore", keystore);
        String password =
            secret(
                settings,
                env,
                "--kafka-ssl-keystore-password-file",
                keystorePasswordFile,
                KEYSTORE_PASSWORD,
                "a keystore needs its password");
        out.put("ssl.keystore.location", keystore.toString());
        out.put("ssl.keystore.type", type);
        out.put("ssl.keystore.password", password);
      }
    }
    return out;
  }

  /**
   * What to fix when {@code failure} (or one of its causes) is the broker refusing this client's
   * credentials or the TLS handshake failing: the message names the settings; empty for any other
   * failure.
   */
  public static Optional<String> refusal(Throwable failure, Settings settings) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SaslAuthenticationException) {
        return Optional.of(
            "the broker refused the SASL credentials ("
                + t.getMessage()
                + "): check --kafka-sasl-username, --kafka-sasl-mechanism and the password in"
                + " --kafka-sasl-password-file or "
                + variableOf(settings, SASL_PASSWORD));
      }
      if (t instanceof SslAuthenticationException) {
        return Optional.of(
            "the TLS handshake with the broker failed ("
                + t.getMessage()
                + "): check --kafka-ssl-truststore (the CA that signed the broker's certificate)"
                + " and that the broker's certificate names the host of --bootstrap-servers");
      }
    }
    return Optional.empty();
  }

  /** {@code properties} with every secret's value replaced by {@link #SECRET}, for logs. */
  public static Map<String, String> redacted(Map<String, ?> properties) {
    Map<String, String> out = new LinkedHashMap<>();
    properties.forEach(
        (k, v) ->
            out.put(
                k,
                k.endsWith(".password")
                        || k.equals("sasl.jaas.config")
                        || k.equals("basic.auth.user.info")
                        || k.equals("bearer.auth.token")
                    ? SECRET
                    : String.valueOf(v)));
    return out;
  }

  private Protocol protocol() {
    try {
      return Protocol.valueOf(protocol.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The protocol, checked: {@link #clientProperties} calls it first. */
  private Protocol protocol(Settings settings) {
    Protocol p = protocol();
    if (p == null) {
      throw settings.bad(
          "--kafka-security-protocol", protocol, "use PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL");
    }
    return p;
  }

  static String secret(
      Settings settings,
      Map<String, String> env,
      String fileOption,
      Path file,
      String variableSuffix,
      String why) {
    String value = optionalSecret(settings, env, fileOption, file, variableSuffix);
    if (value == null) {
      String variable = variableOf(settings, variableSuffix);
      throw settings.bad(
          fileOption,
          "",
          why
              + ": give a file holding it with "
              + fileOption
              + ", or set the environment variable "
              + variable);
    }
    return value;
  }

  static String optionalSecret(
      Settings settings,
      Map<String, String> env,
      String fileOption,
      Path file,
      String variableSuffix) {
    String variable = variableOf(settings, variableSuffix);
    String fromEnv = env.get(variable);
    if (file != null && fromEnv != null) {
      throw settings.bad(
          fileOption, file.toString(), "set either the file or " + variable + ", not both");
    }
    if (fromEnv != null) {
      if (fromEnv.isEmpty()) {
        throw settings.bad(fileOption, "", variable + " is set but empty");
      }
      return fromEnv;
    }
    if (file == null) {
      return null;
    }
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw settings.bad(
          fileOption,
          file.toString(),
          "cannot read it ("
              + e.getClass().getSimpleName()
              + "): give a file the service's user can read");
    }
    // One line: the trailing line break an editor adds is no part of the secret.
    String value = text.replaceAll("[\r\n]+$", "");
    if (value.isEmpty() || value.contains("\n")) {
      throw settings.bad(fileOption, file.toString(), "the file must hold the secret on one line");
    }
    return value;
  }

  private static String variableOf(Settings settings, String suffix) {
    // envName("--kafka-sasl-password") is <prefix>KAFKA_SASL_PASSWORD.
    return settings.envName("--" + suffix.toLowerCase(Locale.ROOT).replace('_', '-'));
  }

  static String storeType(Settings settings, String option, Path path, boolean pemAllowed) {
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".p12") || name.endsWith(".pfx")) {
      return "PKCS12";
    }
    if (name.endsWith(".jks")) {
      return "JKS";
    }
    if (pemAllowed && (name.endsWith(".pem") || name.endsWith(".crt"))) {
      return "PEM";
    }
    throw settings.bad(
        option,
        path.toString(),
        "name the file by its format: .p12 or .pfx (PKCS12), .jks (JKS)"
            + (pemAllowed ? ", .pem or .crt (PEM certificates)" : ""));
  }

  static void readable(Settings settings, String option, Path path) {
    if (!Files.isReadable(path)) {
      throw settings.bad(option, path.toString(), "no such readable file");
    }
  }

  static String nonBlank(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }

  /** A value inside the JAAS configuration's double quotes: backslash and quote escaped. */
  private static String jaasQuoted(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
