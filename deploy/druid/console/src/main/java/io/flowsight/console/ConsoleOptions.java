package io.flowsight.console;

import io.flowsight.druid.DruidClient;
import io.flowsight.ops.OpsSecurity;
import io.flowsight.settings.OpsSecurityOptions;
import io.flowsight.settings.Settings;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The console's options. Each can also come from the environment ({@code FLOWSIGHT_CONSOLE_} and
 * its name: {@code --address} is {@code FLOWSIGHT_CONSOLE_ADDRESS}) or the {@code --config} file,
 * as for every Flowsight service ({@link Settings}); the Druid URL also from {@code
 * FLOWSIGHT_DRUID_URL}, as the client reads it. TLS and basic authentication take the options the
 * services' metrics endpoints take, without {@code metrics-}, checked by the same code ({@link
 * OpsSecurityOptions#security(Settings, Map, OpsSecurityOptions.Names, Path, Path, String, Path,
 * boolean)}).
 */
@Command(
    name = "console",
    mixinStandardHelpOptions = true,
    description = {
      "The analysts' web console: the dependency graph, the named queries' tables and each"
          + " application pair's traffic with its forecast, from Druid.",
      "Served on 127.0.0.1 unless --address says otherwise; on another address only over TLS"
          + " and with a user (or with --insecure)."
    })
public final class ConsoleOptions {

  public static final String ENV_PREFIX = "FLOWSIGHT_CONSOLE_";
  public static final String DEFAULT_ADDRESS = "127.0.0.1:18480";
  static final OpsSecurityOptions.Names NAMES = new OpsSecurityOptions.Names("--", "", "console");

  /** Variables with the prefix that are no options: the secrets and the scripts' own. */
  static final Set<String> NOT_OPTIONS =
      Set.of(
          ENV_PREFIX + NAMES.password(),
          ENV_PREFIX + NAMES.keystorePassword(),
          ENV_PREFIX + "PORT");

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Properties file with settings (keys: option names without the dashes).")
  Path configFile;

  @Option(
      names = "--address",
      paramLabel = "HOST:PORT",
      defaultValue = DEFAULT_ADDRESS,
      description = "Where the console listens. Default: ${DEFAULT-VALUE}.")
  String address;

  @Option(
      names = "--druid-url",
      paramLabel = "URL",
      description =
          "The Druid router. Default: FLOWSIGHT_DRUID_URL, else"
              + " http://127.0.0.1:$FLOWSIGHT_DRUID_ROUTER_PORT (18888).")
  String druidUrl;

  @Option(
      names = "--datasource",
      paramLabel = "NAME",
      defaultValue = "flows",
      description = "The flows datasource. Default: ${DEFAULT-VALUE}.")
  String dataSource;

  @Option(
      names = "--forecast-datasource",
      paramLabel = "NAME",
      defaultValue = "flows_forecast",
      description = "The forecasts' datasource. Default: ${DEFAULT-VALUE}.")
  String forecastDataSource;

  @Option(
      names = "--tls-keystore",
      paramLabel = "FILE",
      description =
          "Serve over https with this key and certificate chain: PKCS12 (.p12, .pfx) or JKS"
              + " (.jks). Default: plain http.")
  Path keystore;

  @Option(
      names = "--tls-keystore-password-file",
      paramLabel = "FILE",
      description =
          "File holding the keystore's password (one line), or set FLOWSIGHT_CONSOLE_"
              + "TLS_KEYSTORE_PASSWORD.")
  Path keystorePasswordFile;

  @Option(
      names = "--username",
      paramLabel = "NAME",
      description = "Ask for HTTP basic authentication as this user (all but /health).")
  String username;

  @Option(
      names = "--password-file",
      paramLabel = "FILE",
      description =
          "File holding that user's password (one line), or set FLOWSIGHT_CONSOLE_PASSWORD.")
  Path passwordFile;

  @Option(
      names = "--insecure",
      description =
          "Serve on an address other hosts reach without TLS or without a user (not advised).")
  boolean insecure;

  @Option(names = Settings.PRINT_CONFIG, description = "Print the effective settings and exit.")
  boolean printConfig;

  /** The settings, checked. */
  public record Config(
      String host,
      int port,
      String druidUrl,
      String dataSource,
      String forecastDataSource,
      OpsSecurity security) {}

  static Settings settings(Consumer<String> warnings) {
    return new Settings(ENV_PREFIX, NOT_OPTIONS, Map.of(), warnings);
  }

  /**
   * The options as a checked configuration.
   *
   * @throws io.flowsight.settings.ConfigException naming the option and the fix
   */
  public Config toConfig(Settings settings, Map<String, String> env) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      throw settings.bad("--address", address, "use HOST:PORT, e.g. " + DEFAULT_ADDRESS);
    }
    String host = address.substring(0, colon).replaceAll("^\\[|]$", "");
    int port = settings.integer("--address", address.substring(colon + 1), 0, 65535);
    for (String[] name :
        new String[][] {
          {"--datasource", dataSource}, {"--forecast-datasource", forecastDataSource}
        }) {
      if (name[1] == null || !name[1].matches("[A-Za-z0-9_.-]+")) {
        throw settings.bad(name[0], String.valueOf(name[1]), "use letters, digits, _ . and - only");
      }
    }
    OpsSecurity security =
        OpsSecurityOptions.security(
            settings, env, NAMES, keystore, keystorePasswordFile, username, passwordFile, false);
    boolean loopback;
    try {
      loopback = InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw settings.bad("--address", address, "unknown host " + host);
    }
    if (!loopback && (security.tls() == null || !security.authenticated())) {
      if (!insecure) {
        throw settings.bad(
            "--address",
            address,
            "other hosts reach "
                + host
                + ", and the console shows the whole fleet's traffic: serve it over TLS with a"
                + " user (--tls-keystore with --tls-keystore-password-file, --username with"
                + " --password-file or "
                + ENV_PREFIX
                + NAMES.password()
                + "), or give --insecure to serve it "
                + (security.tls() == null ? "without TLS" : "without a user")
                + " anyway");
      }
      settings.warn(
          "--insecure: serving on "
              + address
              + (security.tls() == null ? " without TLS" : "")
              + (security.authenticated() ? "" : " without a user"));
    }
    String druid = druidUrl != null && !druidUrl.isBlank() ? druidUrl : DruidClient.defaultUrl(env);
    return new Config(host, port, druid, dataSource, forecastDataSource, security);
  }
}
