package io.flowsight.collector.config;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.Topics;
import io.flowsight.enrichment.ownership.HistoryPolicy;
import io.flowsight.settings.ConfigException;
import io.flowsight.settings.KafkaSecurityOptions;
import io.flowsight.settings.OpsSecurityOptions;
import io.flowsight.settings.RegistrySecurityOptions;
import io.flowsight.settings.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The collector's command-line options. Every option can also come from an environment variable
 * ({@code FLOWSIGHT_COLLECTOR_} and the option's name in upper case, dashes as underscores: {@code
 * --hold-back} is {@code FLOWSIGHT_COLLECTOR_HOLD_BACK}) or from the properties file given with
 * {@code --config} (key = the option's name without dashes: {@code hold-back=3m}). Flags win over
 * the environment, which wins over the file, which wins over the defaults. {@link #toConfig()}
 * validates and names the bad setting.
 */
public final class CollectorOptions {

  public static final String ENV_PREFIX = "FLOWSIGHT_COLLECTOR_";

  /**
   * Variables with the prefix that are no options: the scripts' own, and the secrets read from the
   * environment (never from a flag).
   */
  static final Set<String> SCRIPT_VARIABLES =
      Stream.concat(
              Stream.of("FLOWSIGHT_COLLECTOR_METRICS_PORT", "FLOWSIGHT_COLLECTOR_METRICS_URL"),
              Stream.of(
                      KafkaSecurityOptions.secretVariables(ENV_PREFIX),
                      RegistrySecurityOptions.secretVariables(ENV_PREFIX),
                      OpsSecurityOptions.secretVariables(ENV_PREFIX))
                  .flatMap(Set::stream))
          .collect(Collectors.toUnmodifiableSet());

  private static final Settings SETTINGS =
      new Settings(
          ENV_PREFIX,
          SCRIPT_VARIABLES,
          Map.of(),
          warning -> System.err.println("flowsight collector: warning: " + warning));

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Properties file with settings (keys: option names without the dashes).")
  Path configFile;

  @Option(
      names = "--bootstrap-servers",
      defaultValue = "127.0.0.1:9092",
      description = "Kafka bootstrap servers. Default: ${DEFAULT-VALUE}.")
  String bootstrapServers;

  @Option(
      names = "--registry-url",
      defaultValue = "http://127.0.0.1:8081/apis/ccompat/v7",
      description = "Schema registry (Confluent-compatible API). Default: ${DEFAULT-VALUE}.")
  String registryUrl;

  @Option(
      names = "--flows-topic",
      defaultValue = Topics.DEFAULT_FLOWS,
      description = "Raw flow records (Avro), keyed by local IP. Default: ${DEFAULT-VALUE}.")
  String flowsTopic;

  @Option(
      names = "--identity-topic",
      defaultValue = Topics.DEFAULT_IDENTITIES,
      description =
          "IP identity changes (Avro), keyed by IP; same partition count as the flows topic."
              + " Default: ${DEFAULT-VALUE}.")
  String identityTopic;

  @Option(
      names = "--output-topic",
      defaultValue = Topics.DEFAULT_AGGREGATED,
      description = "Aggregates (JSON) for Druid. Default: ${DEFAULT-VALUE}.")
  String outputTopic;

  @Option(
      names = "--dlq-topic",
      defaultValue = Topics.DEFAULT_DEAD_LETTERS,
      description =
          "Dead letters: undecodable, invalid and too-late records. Default: ${DEFAULT-VALUE}.")
  String deadLetterTopic;

  @Option(
      names = "--application-id",
      defaultValue = "flowsight-collector",
      description =
          "Kafka Streams application id: instances with the same id share the partitions."
              + " Default: ${DEFAULT-VALUE}.")
  String applicationId;

  @Option(
      names = "--window",
      defaultValue = CollectorSettings.Defaults.WINDOW,
      description = "Aggregation window (tumbling, by flow end time). Default: ${DEFAULT-VALUE}.")
  String window;

  @Option(
      names = "--grace",
      defaultValue = CollectorSettings.Defaults.GRACE,
      description =
          "How long after its end a window waits for records on their way before it is emitted;"
              + " a record arriving later goes out in an additional row. Default: ${DEFAULT-VALUE}.")
  String grace;

  @Option(
      names = "--late-horizon",
      defaultValue = CollectorSettings.Defaults.LATE_HORIZON,
      description =
          "How old a flow record (its end, by the collector's clock) may be and still count;"
              + " older ones are dead letters (too-late). The dedupe state is kept this long, and"
              + " Druid's lateMessageRejectionPeriod must be longer. Default: ${DEFAULT-VALUE}.")
  String lateHorizon;

  @Option(
      names = "--hold-back",
      defaultValue = CollectorSettings.Defaults.HOLD_BACK,
      description =
          "How long a flow waits for the owner of an unknown IP before it goes out unattributed."
              + " Default: ${DEFAULT-VALUE}.")
  String holdBack;

  @Option(
      names = "--settle",
      defaultValue = CollectorSettings.Defaults.SETTLE,
      description =
          "How long after a connection's start its ends are decided from the ownership histories:"
              + " identity events and heartbeats arriving up to this late still count. Must cover"
              + " how late the identity sources deliver (flowsight_collector_evidence_delay_seconds)."
              + " Windows are emitted this much later too. At most --hold-back (a shorter"
              + " hold-back caps it). Default: ${DEFAULT-VALUE}.")
  String settle;

  @Option(
      names = "--boundary-margin",
      defaultValue = HistoryPolicy.DEFAULT_BOUNDARY_MARGIN,
      description =
          "A connection starting this close to a change of owner (by another host's clock) is"
              + " attributed to neither: CONFLICT. Cover the hosts' clock differences."
              + " Default: ${DEFAULT-VALUE}.")
  String boundaryMargin;

  @Option(
      names = "--max-ports",
      defaultValue = CollectorSettings.Defaults.MAX_PORTS,
      description = "Ephemeral ports listed per aggregate. Default: ${DEFAULT-VALUE}.")
  String maxPorts;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description = "Directory of the state stores. Default: <java.io.tmpdir>/flowsight-collector.")
  Path stateDir;

  @Option(
      names = "--metrics-address",
      defaultValue = "127.0.0.1:9465",
      description =
          "host:port of the Prometheus metrics (/metrics) and health (/health) endpoint; port 0"
              + " turns it off. Default: ${DEFAULT-VALUE}.")
  String metricsAddress;

  @Option(
      names = "--threads",
      defaultValue = "2",
      description = "Stream threads. Default: ${DEFAULT-VALUE}.")
  String threads;

  @Option(
      names = "--partitions",
      defaultValue = "6",
      description =
          "Partitions of the input topics when the collector creates them (they exist: their"
              + " count is used). Default: ${DEFAULT-VALUE}.")
  String partitions;

  @Option(
      names = "--replication-factor",
      defaultValue = "-1",
      description =
          "Replication of the topics the collector creates; -1: the broker's default."
              + " Default: ${DEFAULT-VALUE}.")
  String replicationFactor;

  @Option(
      names = "--commit-interval",
      defaultValue = "1s",
      description =
          "How often processing commits (one transaction each): latency per repartition hop"
              + " against throughput. Default: ${DEFAULT-VALUE}.")
  String commitInterval;

  @Option(
      names = "--kafka-property",
      paramLabel = "KEY=VALUE",
      split = ",",
      description =
          "A Kafka Streams or client property (e.g. session.timeout.ms=10000); repeatable, or"
              + " comma-separated.")
  Map<String, String> kafkaProperties = new LinkedHashMap<>();

  /** The environment parsed from: secrets may come from it. */
  private Map<String, String> env = Map.of();

  /** Authentication and encryption of every Kafka client of the collector. */
  @Mixin KafkaSecurityOptions kafkaSecurity = new KafkaSecurityOptions();

  /** Authentication and trust of the registry client. */
  @Mixin RegistrySecurityOptions registrySecurity = new RegistrySecurityOptions();

  @Mixin OpsSecurityOptions opsSecurity = new OpsSecurityOptions();

  /**
   * Parses {@code args} with defaults from the environment and the {@code --config} file (see
   * {@link Settings}).
   *
   * @throws CommandLine.ParameterException for an unknown flag or a missing value
   * @throws ConfigException for an unreadable config file
   */
  public static CollectorOptions parse(String[] args, Map<String, String> env) {
    CollectorOptions options = SETTINGS.parse(new CollectorOptions(), args, env);
    options.env = Map.copyOf(env);
    return options;
  }

  /**
   * What to fix when {@code failure} is the broker refusing the collector's credentials or its TLS
   * handshake, naming the settings ({@link KafkaSecurityOptions#refusal}); empty otherwise.
   */
  public static java.util.Optional<String> refusal(Throwable failure) {
    return KafkaSecurityOptions.refusal(failure, SETTINGS);
  }

  /** Each option's effective value and where it came from, a line each ({@code --print-config}). */
  public static String describe(String[] args, Map<String, String> env) {
    return SETTINGS.describe(new CollectorOptions(), args, env);
  }

  /** Validates every setting and returns the configuration. */
  public CollectorConfig toConfig() {
    SETTINGS.requireNonBlank("--bootstrap-servers", bootstrapServers);
    SETTINGS.requireNonBlank("--registry-url", registryUrl);
    if (!registryUrl.trim().matches("https?://.+")) {
      throw SETTINGS.bad(
          "--registry-url",
          registryUrl,
          "use an http(s) URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7");
    }
    for (String[] topic :
        new String[][] {
          {"--flows-topic", flowsTopic},
          {"--identity-topic", identityTopic},
          {"--output-topic", outputTopic},
          {"--dlq-topic", deadLetterTopic},
          {"--application-id", applicationId}
        }) {
      SETTINGS.requireNonBlank(topic[0], topic[1]);
      if (!topic[1].trim().matches("[a-zA-Z0-9._-]+")) {
        throw SETTINGS.bad(topic[0], topic[1], "use letters, digits, '.', '_' and '-' only");
      }
    }
    if (flowsTopic.trim().equals(identityTopic.trim())) {
      throw SETTINGS.bad("--identity-topic", identityTopic, "it must not be the flows topic");
    }
    Duration windowValue = SETTINGS.duration("--window", window);
    if (windowValue.compareTo(Duration.ofSeconds(1)) < 0
        || windowValue.compareTo(Duration.ofDays(1)) > 0) {
      throw SETTINGS.bad("--window", window, "use 1s to 24h");
    }
    Duration graceValue = SETTINGS.duration("--grace", grace);
    Duration lateHorizonValue = SETTINGS.duration("--late-horizon", lateHorizon);
    if (lateHorizonValue.compareTo(Duration.ofMinutes(5)) < 0
        || lateHorizonValue.compareTo(Duration.ofDays(7)) > 0) {
      throw SETTINGS.bad("--late-horizon", lateHorizon, "use 5m to 7d");
    }
    Duration holdBackValue = SETTINGS.duration("--hold-back", holdBack);
    if (holdBackValue.compareTo(Duration.ofHours(1)) > 0) {
      throw SETTINGS.bad("--hold-back", holdBack, "use 0s (no hold-back) to 1h");
    }
    Duration settleValue = SETTINGS.duration("--settle", settle);
    if (settleValue.compareTo(Duration.ofMinutes(10)) > 0) {
      throw SETTINGS.bad("--settle", settle, "use 0s to 10m");
    }
    Duration marginValue = SETTINGS.duration("--boundary-margin", boundaryMargin);
    if (marginValue.compareTo(Duration.ofSeconds(10)) > 0) {
      throw SETTINGS.bad("--boundary-margin", boundaryMargin, "use 0s (exact) to 10s");
    }
    int ports = SETTINGS.integer("--max-ports", maxPorts, 0, 65536);
    String[] hostPort = metricsAddress.trim().split(":(?=[0-9]+$)");
    if (hostPort.length != 2) {
      throw SETTINGS.bad(
          "--metrics-address", metricsAddress, "use host:port, e.g. 127.0.0.1:9465 (port 0: off)");
    }
    int metricsPortValue = SETTINGS.integer("--metrics-address", hostPort[1], 0, 65535);
    int threadCount = SETTINGS.integer("--threads", threads, 1, 64);
    int partitionCount = SETTINGS.integer("--partitions", partitions, 1, 10_000);
    int replication = SETTINGS.integer("--replication-factor", replicationFactor, -1, 32);
    if (replication == 0) {
      throw SETTINGS.bad(
          "--replication-factor", replicationFactor, "use -1 (broker default) or 1 to 32");
    }
    Duration commit = SETTINGS.duration("--commit-interval", commitInterval);
    if (commit.toMillis() < 10 || commit.compareTo(Duration.ofMinutes(1)) > 0) {
      throw SETTINGS.bad("--commit-interval", commitInterval, "use 10ms to 1m");
    }
    for (Map.Entry<String, String> e : kafkaProperties.entrySet()) {
      if (e.getKey().isBlank() || e.getValue() == null) {
        throw SETTINGS.bad("--kafka-property", e.getKey() + "=" + e.getValue(), "use KEY=VALUE");
      }
    }
    // Security first, so that a --kafka-property can still override any of it.
    Map<String, String> clientProperties =
        new LinkedHashMap<>(kafkaSecurity.clientProperties(SETTINGS, env));
    clientProperties.putAll(kafkaProperties);
    Path dir =
        stateDir != null
            ? stateDir
            : Path.of(System.getProperty("java.io.tmpdir"), "flowsight-collector");
    return new CollectorConfig(
        bootstrapServers.trim(),
        registryUrl.trim(),
        flowsTopic.trim(),
        identityTopic.trim(),
        outputTopic.trim(),
        deadLetterTopic.trim(),
        applicationId.trim(),
        windowValue,
        graceValue,
        lateHorizonValue,
        holdBackValue,
        settleValue,
        marginValue,
        ports,
        dir,
        hostPort[0].isEmpty() ? "127.0.0.1" : hostPort[0],
        metricsPortValue,
        threadCount,
        partitionCount,
        (short) replication,
        commit,
        clientProperties,
        registrySecurity.clientProperties(SETTINGS, env, registryUrl),
        opsSecurity.security(SETTINGS, env));
  }
}
