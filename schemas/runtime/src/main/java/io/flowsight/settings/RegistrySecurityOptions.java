package io.flowsight.settings;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * How a service's schema registry client authenticates and whom it trusts: the same options for
 * every Flowsight service (a picocli mixin), turned by {@link #clientProperties} into the keys
 * Confluent's registry clients use ({@code basic.auth.user.info}, {@code bearer.auth.token}, {@code
 * schema.registry.ssl.truststore.*}), which the registry serde reads.
 *
 * <p>As for Kafka, secrets never come from a flag: the password and the token come from a file or
 * from the service's environment ({@code <prefix>REGISTRY_PASSWORD}, {@code
 * <prefix>REGISTRY_TOKEN}).
 */
public final class RegistrySecurityOptions {

  public static final String PASSWORD = "REGISTRY_PASSWORD";
  public static final String TOKEN = "REGISTRY_TOKEN";
  public static final String TRUSTSTORE_PASSWORD = "REGISTRY_TRUSTSTORE_PASSWORD";

  @Option(
      names = "--registry-username",
      paramLabel = "NAME",
      description = "User for the registry's HTTP basic authentication.")
  String username;

  @Option(
      names = "--registry-password-file",
      paramLabel = "FILE",
      description =
          "File holding the registry user's password (one line), or set <PREFIX>"
              + PASSWORD
              + ". Never a flag: flags show in ps.")
  Path passwordFile;

  @Option(
      names = "--registry-token-file",
      paramLabel = "FILE",
      description =
          "File holding a bearer token for the registry (instead of a user), or set <PREFIX>"
              + TOKEN
              + ".")
  Path tokenFile;

  @Option(
      names = "--registry-truststore",
      paramLabel = "FILE",
      description =
          "CA certificates to trust an https registry with: PEM (.pem, .crt), PKCS12 (.p12,"
              + " .pfx) or JKS (.jks). Default: the JVM's trusted CAs.")
  Path truststore;

  @Option(
      names = "--registry-truststore-password-file",
      paramLabel = "FILE",
      description =
          "File holding the PKCS12/JKS truststore's password, or set <PREFIX>"
              + TRUSTSTORE_PASSWORD
              + ".")
  Path truststorePasswordFile;

  /** The variables a service with {@code envPrefix} reads secrets from: not options. */
  public static Set<String> secretVariables(String envPrefix) {
    return Set.of(envPrefix + PASSWORD, envPrefix + TOKEN, envPrefix + TRUSTSTORE_PASSWORD);
  }

  /**
   * The registry client's keys of these options, checked; empty by default.
   *
   * @param registryUrl the registry's URL, to refuse a truststore for plain http
   * @throws ConfigException naming the option and the fix
   */
  public Map<String, String> clientProperties(
      Settings settings, Map<String, String> env, String registryUrl) {
    Map<String, String> out = new LinkedHashMap<>();
    String user = KafkaSecurityOptions.nonBlank(username);
    String token =
        KafkaSecurityOptions.optionalSecret(
            settings, env, "--registry-token-file", tokenFile, TOKEN);
    if (user != null) {
      if (token != null) {
        throw settings.bad("--registry-username", user, "set either a user or a token, not both");
      }
      String password =
          KafkaSecurityOptions.secret(
              settings,
              env,
              "--registry-password-file",
              passwordFile,
              PASSWORD,
              "the registry user needs its password");
      out.put("basic.auth.credentials.source", "USER_INFO");
      out.put("basic.auth.user.info", user + ":" + password);
    } else if (passwordFile != null || env.containsKey(settings.envName("--registry-password"))) {
      throw settings.bad(
          "--registry-username", "", "a registry password is set: set the user it belongs to");
    } else if (token != null) {
      out.put("bearer.auth.credentials.source", "STATIC_TOKEN");
      out.put("bearer.auth.token", token);
    }
    if (truststore != null) {
      if (registryUrl != null && !registryUrl.trim().startsWith("https://")) {
        throw settings.bad(
            "--registry-truststore",
            truststore.toString(),
            "it is for an https registry: use an https:// --registry-url, or drop it");
      }
      String type =
          KafkaSecurityOptions.storeType(settings, "--registry-truststore", truststore, true);
      KafkaSecurityOptions.readable(settings, "--registry-truststore", truststore);
      out.put("schema.registry.ssl.truststore.location", truststore.toString());
      out.put("schema.registry.ssl.truststore.type", type);
      if (!type.equals("PEM")) {
        String password =
            KafkaSecurityOptions.optionalSecret(
                settings,
                env,
                "--registry-truststore-password-file",
                truststorePasswordFile,
                TRUSTSTORE_PASSWORD);
        if (password != null) {
          out.put("schema.registry.ssl.truststore.password", password);
        }
      }
    }
    return out;
  }
}
