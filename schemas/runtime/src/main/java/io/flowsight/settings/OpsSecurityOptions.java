package io.flowsight.settings;

import io.flowsight.ops.OpsSecurity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Option;

/**
 * TLS and HTTP basic authentication for a service's {@code /metrics} and {@code /health}: the same
 * options for every Flowsight service that serves them (a picocli mixin), turned by {@link
 * #security} into an {@link OpsSecurity}. Off by default. As everywhere, secrets come from a file
 * or from the environment ({@code <prefix>METRICS_PASSWORD}, {@code
 * <prefix>METRICS_TLS_KEYSTORE_PASSWORD}), never from a flag.
 */
public final class OpsSecurityOptions {

  public static final String PASSWORD = "METRICS_PASSWORD";
  public static final String KEYSTORE_PASSWORD = "METRICS_TLS_KEYSTORE_PASSWORD";

  @Option(
      names = "--metrics-tls-keystore",
      paramLabel = "FILE",
      description =
          "Serve /metrics and /health over https with this key and certificate chain: PKCS12"
              + " (.p12, .pfx) or JKS (.jks). Default: plain http.")
  Path keystore;

  @Option(
      names = "--metrics-tls-keystore-password-file",
      paramLabel = "FILE",
      description =
          "File holding the keystore's password (one line), or set <PREFIX>"
              + KEYSTORE_PASSWORD
              + ".")
  Path keystorePasswordFile;

  @Option(
      names = "--metrics-username",
      paramLabel = "NAME",
      description =
          "Ask for HTTP basic authentication as this user on /metrics (and /health with"
              + " --metrics-auth-health). Default: none.")
  String username;

  @Option(
      names = "--metrics-password-file",
      paramLabel = "FILE",
      description =
          "File holding that user's password (one line), or set <PREFIX>" + PASSWORD + ".")
  Path passwordFile;

  @Option(
      names = "--metrics-auth-health",
      paramLabel = "BOOLEAN",
      arity = "1",
      description =
          "Ask for the credentials on /health too (default false: probes carry no secrets, and"
              + " /health shows no traffic).")
  boolean authHealth;

  /** The variables a service with {@code envPrefix} reads secrets from: not options. */
  public static Set<String> secretVariables(String envPrefix) {
    return Set.of(envPrefix + PASSWORD, envPrefix + KEYSTORE_PASSWORD);
  }

  /**
   * The option names and secret variables of one HTTP endpoint's TLS and basic authentication:
   * {@link #METRICS} for the services' {@code /metrics}; a program whose whole purpose is an HTTP
   * endpoint (the console) takes the same options without the {@code metrics-} part.
   *
   * @param prefix what every option name starts with ({@code --metrics-}, or {@code --})
   * @param secretPrefix what the secret variables' suffixes start with after the service's prefix
   *     ({@code METRICS_}, or nothing)
   * @param what the endpoint, for messages ({@code the metrics user})
   */
  public record Names(String prefix, String secretPrefix, String what) {
    public static final Names METRICS = new Names("--metrics-", "METRICS_", "metrics");

    public String keystore() {
      return prefix + "tls-keystore";
    }

    public String keystorePasswordFile() {
      return prefix + "tls-keystore-password-file";
    }

    public String username() {
      return prefix + "username";
    }

    public String passwordFile() {
      return prefix + "password-file";
    }

    public String authHealth() {
      return prefix + "auth-health";
    }

    /** The variable suffix of the user's password ({@code METRICS_PASSWORD}). */
    public String password() {
      return secretPrefix + "PASSWORD";
    }

    /** The variable suffix of the keystore's password. */
    public String keystorePassword() {
      return secretPrefix + "TLS_KEYSTORE_PASSWORD";
    }
  }

  /**
   * The endpoint's security, checked: the keystore is read here, so a wrong password or file stops
   * the service at start with the option to fix, not at the first scrape.
   *
   * @throws ConfigException naming the option and the fix
   */
  public OpsSecurity security(Settings settings, Map<String, String> env) {
    return security(
        settings,
        env,
        Names.METRICS,
        keystore,
        keystorePasswordFile,
        username,
        passwordFile,
        authHealth);
  }

  /**
   * An endpoint's security from the values of its options, checked as {@link #security(Settings,
   * Map)} checks the metrics endpoint's; the messages name the options of {@code names}.
   *
   * @throws ConfigException naming the option and the fix
   */
  public static OpsSecurity security(
      Settings settings,
      Map<String, String> env,
      Names names,
      Path keystore,
      Path keystorePasswordFile,
      String username,
      Path passwordFile,
      boolean authHealth) {
    String user = KafkaSecurityOptions.nonBlank(username);
    String password = null;
    if (user != null) {
      if (user.contains(":")) {
        throw settings.bad(names.username(), user, "a basic-auth user name has no ':'");
      }
      password =
          KafkaSecurityOptions.secret(
              settings,
              env,
              names.passwordFile(),
              passwordFile,
              names.password(),
              "the " + names.what() + " user needs its password");
    } else if (passwordFile != null || env.containsKey(settings.envName("--" + names.password()))) {
      throw settings.bad(
          names.username(),
          "",
          "a " + names.what() + " password is set: set the user it belongs to");
    } else if (authHealth) {
      throw settings.bad(
          names.authHealth(), "true", "there are no credentials to ask: set " + names.username());
    }
    SSLContext tls = null;
    if (keystore != null) {
      tls = tls(settings, env, names, keystore, keystorePasswordFile);
    } else if (keystorePasswordFile != null) {
      throw settings.bad(
          names.keystorePasswordFile(),
          keystorePasswordFile.toString(),
          "it is the password of " + names.keystore() + ": set that too, or drop it");
    }
    if (tls == null && user != null) {
      settings.warn(
          names.username()
              + " without "
              + names.keystore()
              + ": the password crosses the network in clear text");
    }
    return user == null && tls == null
        ? OpsSecurity.NONE
        : new OpsSecurity(tls, user, password, authHealth);
  }

  private static SSLContext tls(
      Settings settings,
      Map<String, String> env,
      Names names,
      Path keystore,
      Path keystorePasswordFile) {
    String type = KafkaSecurityOptions.storeType(settings, names.keystore(), keystore, false);
    KafkaSecurityOptions.readable(settings, names.keystore(), keystore);
    String password =
        KafkaSecurityOptions.secret(
            settings,
            env,
            names.keystorePasswordFile(),
            keystorePasswordFile,
            names.keystorePassword(),
            "the keystore needs its password");
    try (InputStream in = Files.newInputStream(keystore)) {
      KeyStore store = KeyStore.getInstance(type);
      store.load(in, password.toCharArray());
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, password.toCharArray());
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw settings.bad(
          names.keystore(),
          keystore.toString(),
          "cannot load it as "
              + type
              + " ("
              + e.getMessage()
              + "): check the file and its password ("
              + names.keystorePasswordFile()
              + ")");
    }
  }
}
