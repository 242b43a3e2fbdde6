package io.flowsight.enrichment;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.flowsight.enrichment.identityfile.StaticFileException;
import io.flowsight.enrichment.identityfile.StaticIdentities;
import io.flowsight.enrichment.source.IdentityChanges;
import io.flowsight.enrichment.source.IdentityReconciler;
import io.flowsight.enrichment.source.KafkaIdentityPublisher;
import io.flowsight.enrichment.source.PublishedStateReader;
import io.flowsight.enrichment.source.PublisherConfig;
import io.flowsight.enrichment.source.kubernetes.KubernetesIdentitySource;
import io.flowsight.enrichment.source.kubernetes.KubernetesSourceConfig;
import io.flowsight.enrichment.source.statics.StaticIdentitySource;
import io.flowsight.settings.ConfigException;
import io.flowsight.settings.KafkaSecurityOptions;
import io.flowsight.settings.RegistrySecurityOptions;
import io.flowsight.settings.Settings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Runs an identity source: {@code kubernetes} (a cluster's pods, services and nodes) or {@code
 * static} (a YAML file), publishing IpIdentityChange events to the identity topic until stopped
 * (SIGTERM, Ctrl-C: the producer is flushed and closed, and the JVM exits with the signal's status,
 * 143 for SIGTERM). Exit status otherwise: 0 done ({@code static --once}), 1 failed while running
 * (broker, registry, API server), 2 bad command line, configuration or identity file (the message
 * names the option, or the file and line).
 */
@Command(
    name = "./flowsight identity",
    mixinStandardHelpOptions = true,
    description = {
      "Publishes IP identity changes (IpIdentityChange) to the identity topic.",
      "Every option can also be set as an environment variable FLOWSIGHT_IDENTITY_<NAME>"
          + " (--read-back-timeout: FLOWSIGHT_IDENTITY_READ_BACK_TIMEOUT) or as a key in the"
          + " --config properties file (read-back-timeout=2m). --print-config prints each"
          + " effective value and where it came from."
    },
    subcommands = {
      IdentitySourceMain.KubernetesCommand.class,
      IdentitySourceMain.StaticCommand.class
    })
public final class IdentitySourceMain implements Runnable {

  static final int FAILED = 1;
  static final int BAD_USAGE = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    // Before any logger exists: the module's own console logging, unless one is configured.
    if (System.getProperty("log4j2.configurationFile") == null
        && System.getProperty("log4j.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "flowsight-identity-log4j2.xml");
    }
    System.exit(run(args));
  }

  /**
   * Runs the command line in this JVM and returns its exit status (main's, without exiting): 0
   * done, 1 failed, 2 bad usage or configuration.
   */
  public static int run(String... args) {
    return run(args, System.getenv());
  }

  /** {@link #run(String...)} with {@code env} as the environment. */
  static int run(String[] args, Map<String, String> env) {
    return run(commandLine(), args, env);
  }

  /** Runs {@code cli} (from {@link #commandLine()}, its output streams set by the caller). */
  static int run(CommandLine cli, String[] args, Map<String, String> env) {
    try {
      if (Settings.printConfigRequested(args)) {
        cli.getOut().print(SETTINGS.describe(cli, Settings.withoutPrintConfig(args), env));
        cli.getOut().flush();
        return 0;
      }
      SETTINGS.provideDefaults(cli, args, env);
      giveEnvironment(cli, env);
    } catch (ConfigException | CommandLine.ParameterException e) {
      cli.getErr().println("flowsight identity: " + e.getMessage());
      cli.getErr().flush();
      return BAD_USAGE;
    }
    return cli.execute(args);
  }

  /** Every option is also {@code FLOWSIGHT_IDENTITY_<NAME>} or a key of the --config file. */
  public static final String ENV_PREFIX = "FLOWSIGHT_IDENTITY_";

  private static final Settings SETTINGS =
      new Settings(
          ENV_PREFIX,
          // The secrets, read from the environment (never from a flag).
          Stream.concat(
                  KafkaSecurityOptions.secretVariables(ENV_PREFIX).stream(),
                  RegistrySecurityOptions.secretVariables(ENV_PREFIX).stream())
              .collect(Collectors.toUnmodifiableSet()),
          // The variables of earlier versions, still read (with a warning).
          Map.of(
              "FLOWSIGHT_KAFKA_BOOTSTRAP", "--bootstrap-servers",
              "FLOWSIGHT_REGISTRY_URL", "--registry-url",
              "FLOWSIGHT_CLUSTER", "--cluster"),
          warning -> System.err.println("flowsight identity: warning: " + warning));

  /** The command line, exit codes mapped (for main and tests). */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new IdentitySourceMain());
    cli.registerConverter(Duration.class, IdentitySourceMain::duration);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          if (e instanceof IllegalArgumentException || e instanceof StaticFileException) {
            err.println(
                "flowsight identity " + commandLine.getCommandName() + ": " + e.getMessage());
            return BAD_USAGE;
          }
          // Credentials the broker refuses are a setting to fix, not a failure to retry.
          var refused = KafkaSecurityOptions.refusal(e, SETTINGS);
          if (refused.isPresent()) {
            err.println(
                "flowsight identity " + commandLine.getCommandName() + ": " + refused.get());
            return BAD_USAGE;
          }
          err.println(
              "flowsight identity "
                  + commandLine.getCommandName()
                  + " failed: "
                  + (e.getMessage() == null ? e.toString() : e.getMessage()));
          return FAILED;
        });
    return cli;
  }

  /**
   * What {@code kubernetes} would run with, from its arguments (after {@code kubernetes}) and
   * {@code env}, read as {@link #run} reads them (flags, then {@code FLOWSIGHT_IDENTITY_*}, then
   * the {@code --config} file), without running it: for deployment checks, such as the Kubernetes
   * manifests' own ConfigMap.
   *
   * @throws ConfigException for a setting that is no option, or an unreadable config file
   * @throws IllegalArgumentException for a bad value, naming the option
   */
  public static KubernetesSettings kubernetesSettings(String[] args, Map<String, String> env) {
    String[] all = new String[args.length + 1];
    all[0] = "kubernetes";
    System.arraycopy(args, 0, all, 1, args.length);
    CommandLine cli = commandLine();
    SETTINGS.provideDefaults(cli, all, env);
    giveEnvironment(cli, env);
    CommandLine.ParseResult parsed = cli.parseArgs(all);
    KubernetesCommand command = parsed.subcommand().commandSpec().commandLine().getCommand();
    return new KubernetesSettings(command.config(), command.publish.config());
  }

  /** Each source's publishing options reads its secrets from {@code env}. */
  private static void giveEnvironment(CommandLine cli, Map<String, String> env) {
    for (CommandLine sub : cli.getSubcommands().values()) {
      Object command = sub.getCommand();
      if (command instanceof KubernetesCommand k) {
        k.publish.env = Map.copyOf(env);
      } else if (command instanceof StaticCommand s) {
        s.publish.env = Map.copyOf(env);
      }
    }
  }

  /** The Kubernetes source's settings and where it publishes. */
  public record KubernetesSettings(KubernetesSourceConfig source, PublisherConfig publisher) {}

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "name a source: kubernetes or static");
  }

  /** Options every source has: where to publish. */
  static final class PublishOptions {
    @Option(
        names = "--config",
        paramLabel = "FILE",
        description = "Properties file with settings (keys: option names without the dashes).")
    Path configFile;

    @Option(
        names = "--bootstrap-servers",
        description = "Kafka bootstrap servers (env FLOWSIGHT_IDENTITY_BOOTSTRAP_SERVERS).")
    String bootstrapServers;

    @Option(
        names = "--registry-url",
        description =
            "Schema registry, Confluent-compatible API, e.g."
                + " http://127.0.0.1:8081/apis/ccompat/v7 (env FLOWSIGHT_IDENTITY_REGISTRY_URL).")
    String registryUrl;

    @Option(
        names = "--topic",
        defaultValue = IdentityChanges.DEFAULT_TOPIC,
        description = "Identity topic (env FLOWSIGHT_IDENTITY_TOPIC; default ${DEFAULT-VALUE}).")
    String topic;

    @Option(
        names = "--read-back-timeout",
        defaultValue = PublisherConfig.DEFAULT_READ_BACK_TIMEOUT_TEXT,
        description =
            "How long reading back what this source published before may take at start-up, e.g."
                + " PT2M or 2m (env FLOWSIGHT_IDENTITY_READ_BACK_TIMEOUT; default"
                + " ${DEFAULT-VALUE}).")
    Duration readBackTimeout;

    /** Authentication and encryption of the producer and of the read-back consumer. */
    @Mixin KafkaSecurityOptions kafkaSecurity = new KafkaSecurityOptions();

    /** Authentication and trust of the registry client. */
    @Mixin RegistrySecurityOptions registrySecurity = new RegistrySecurityOptions();

    /** The service's environment, where secrets may come from. */
    Map<String, String> env = Map.of();

    PublisherConfig config() {
      try {
        return new PublisherConfig(
            bootstrapServers,
            registryUrl,
            topic,
            Map.copyOf(kafkaSecurity.clientProperties(SETTINGS, env)),
            readBackTimeout,
            registrySecurity.clientProperties(SETTINGS, env, registryUrl));
      } catch (ConfigException e) {
        // Reported as every bad setting of a source is: exit status 2, the message naming it.
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }
  }

  @Command(
      name = "kubernetes",
      mixinStandardHelpOptions = true,
      description =
          "Publishes the IPs of a cluster's pods, services and nodes, and their changes, until"
              + " stopped.")
  static final class KubernetesCommand implements Callable<Integer> {
    @Mixin PublishOptions publish;

    @Option(
        names = "--cluster",
        description = "The cluster's name (env FLOWSIGHT_IDENTITY_CLUSTER); required.")
    String cluster;

    @Option(
        names = "--kubeconfig",
        description = "kubeconfig file (default: in-cluster, else ~/.kube/config).")
    Path kubeconfig;

    @Option(names = "--context", description = "kubeconfig context (default: the current one).")
    String context;

    @Option(names = "--node-name", description = "Only this node's pods (default: all).")
    String nodeName;

    @Option(
        names = "--services",
        negatable = true,
        defaultValue = "true",
        fallbackValue = "true",
        description = "Publish services' cluster and load balancer IPs (default: true).")
    boolean services;

    @Option(
        names = "--nodes",
        negatable = true,
        defaultValue = "true",
        fallbackValue = "true",
        description = "Publish nodes' addresses (default: true).")
    boolean nodes;

    @Option(
        names = "--resync",
        defaultValue = KubernetesSourceConfig.DEFAULT_RESYNC_TEXT,
        description = "Informer resync period, e.g. PT10M or 10m; 0 for none.")
    Duration resync;

    @Option(
        names = "--start-timeout",
        defaultValue = KubernetesSourceConfig.DEFAULT_START_TIMEOUT_TEXT,
        description = "How long listing the cluster may take.")
    Duration startTimeout;

    KubernetesSourceConfig config() {
      return new KubernetesSourceConfig(
          cluster, kubeconfig, context, nodeName, services, nodes, resync, startTimeout);
    }

    @Override
    public Integer call() throws Exception {
      PublisherConfig publisher = publish.config();
      KubernetesSourceConfig config = config();
      Logger log = LoggerFactory.getLogger(IdentitySourceMain.class);
      try (KubernetesClient client = config.newClient();
          KubernetesIdentitySource source =
              new KubernetesIdentitySource(client, config, publisher, Clock.systemUTC())) {
        source.start();
        log.info(
            "kubernetes source for cluster {} publishing to {} ({} events at start; read back"
                + " {} records; undecodable, skipped: {})",
            cluster,
            publisher.topic(),
            source.eventsPublished(),
            source.readBack().records(),
            source.readBack().describeSkipped());
        runUntilStopped(
            Duration.ofSeconds(1),
            () -> {
              source
                  .failure()
                  .ifPresent(
                      e -> {
                        throw e;
                      });
              return false;
            });
        return 0;
      }
    }
  }

  @Command(
      name = "static",
      mixinStandardHelpOptions = true,
      description =
          "Publishes a YAML file of IPs and CIDR blocks with their identities, and every later"
              + " change of the file, until stopped.")
  static final class StaticCommand implements Callable<Integer> {
    @Mixin PublishOptions publish;

    @Option(
        names = "--file",
        description = "The identity file (env FLOWSIGHT_IDENTITY_FILE); required.")
    Path file;

    @Option(
        names = "--poll-interval",
        defaultValue = "PT2S",
        description = "How often the file is checked for changes.")
    Duration pollInterval;

    @Option(names = "--once", description = "Publish the file's changes once, then exit.")
    boolean once;

    @Override
    public Integer call() throws Exception {
      if (file == null) {
        throw new IllegalArgumentException(
            "--file is missing (or set FLOWSIGHT_IDENTITY_FILE): the YAML file of identities");
      }
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException("--file: " + file + " does not exist or is not a file");
      }
      if (pollInterval.isNegative() || pollInterval.isZero()) {
        throw new IllegalArgumentException("--poll-interval must be positive, e.g. PT2S or 2s");
      }
      PublisherConfig publisher = publish.config();
      // A bad file is a configuration error: say so (file and line) before touching Kafka.
      StaticIdentities.read(file);
      Logger log = LoggerFactory.getLogger(IdentitySourceMain.class);
      String instance = StaticIdentitySource.instanceOf(file);
      PublishedStateReader.PublishedState readBack =
          PublishedStateReader.read(publisher, StaticIdentitySource.SOURCE, instance);
      try (KafkaIdentityPublisher sink =
          new KafkaIdentityPublisher(publisher, "flowsight-identity-static")) {
        IdentityReconciler reconciler =
            new IdentityReconciler(
                StaticIdentitySource.SOURCE, instance, sink, readBack.published());
        StaticIdentitySource source = new StaticIdentitySource(file, reconciler);
        source.start();
        log.info(
            "static source {} published {} events to {} (read back {} records; undecodable,"
                + " skipped: {})",
            file,
            reconciler.eventsPublished(),
            publisher.topic(),
            readBack.records(),
            readBack.describeSkipped());
        if (once) {
          return 0;
        }
        runUntilStopped(
            pollInterval,
            () -> {
              source.poll();
              return false;
            });
        return 0;
      }
    }
  }

  /**
   * Calls {@code tick} every {@code period} until the JVM is asked to stop (the shutdown hook waits
   * for the loop to leave, so the caller's resources close cleanly) or {@code tick} throws.
   */
  private static void runUntilStopped(Duration period, BooleanSupplier tick)
      throws InterruptedException {
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              stop.countDown();
              try {
                stopped.await(15, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "identity-source-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      while (!stop.await(period.toMillis(), TimeUnit.MILLISECONDS)) {
        if (tick.getAsBoolean()) {
          break;
        }
      }
    } finally {
      stopped.countDown();
    }
  }

  /** A duration as every service reads it ({@link Settings#parseDuration}), for picocli. */
  static Duration duration(String text) {
    try {
      return Settings.parseDuration(text);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(
          "'" + text + "' is not a duration (e.g. PT10M, 10m, 30s, 500ms): " + e.getMessage());
    }
  }
}
