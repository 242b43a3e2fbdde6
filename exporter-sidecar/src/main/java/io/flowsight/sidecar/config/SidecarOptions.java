package io.flowsight.sidecar.config;

import io.flowsight.enrichment.Cidr;
import io.flowsight.schemas.Identity;
import io.flowsight.settings.ConfigException;
import io.flowsight.settings.KafkaSecurityOptions;
import io.flowsight.settings.OpsSecurityOptions;
import io.flowsight.settings.RegistrySecurityOptions;
import io.flowsight.settings.Settings;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.flow.ExcludedTraffic;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The sidecar's command-line options. Every option can also come from an environment variable
 * ({@code FLOWSIGHT_SIDECAR_} and the option's name in upper case, dashes and dots as underscores:
 * {@code --interim-interval} is {@code FLOWSIGHT_SIDECAR_INTERIM_INTERVAL}) or from the properties
 * file given with {@code --config} (key = the option's name without dashes: {@code
 * interim-interval=30s}). Flags win over the environment, which wins over the file, which wins over
 * the defaults. {@link #toConfig()} validates and names the bad setting.
 */
public final class SidecarOptions {

  public static final String ENV_PREFIX = "FLOWSIGHT_SIDECAR_";

  /**
   * Variables with the prefix that are no options: the scripts' own, and the secrets read from the
   * environment (never from a flag).
   */
  static final Set<String> SCRIPT_VARIABLES =
      Stream.concat(
              Stream.of("FLOWSIGHT_SIDECAR_METRICS_PORT", "FLOWSIGHT_SIDECAR_METRICS_URL"),
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
          warning -> System.err.println("flowsight sidecar: warning: " + warning));

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Properties file with settings (keys: option names without the dashes).")
  Path configFile;

  @Option(
      names = "--sink",
      paramLabel = "kafka|stdout",
      defaultValue = "kafka",
      description =
          "Where records go: kafka, or stdout (one JSON object per line). Default: ${DEFAULT-VALUE}.")
  String sink;

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
      names = "--topic",
      defaultValue = "flows-raw-v1",
      description = "Topic of the flow records. Default: ${DEFAULT-VALUE}.")
  String topic;

  @Option(
      names = "--observer-id",
      description = "Id of this host in every record. Default: the hostname.")
  String observerId;

  @Option(
      names = "--interim-interval",
      defaultValue = "60s",
      description =
          "How often open connections report (INTERIM records): 30s, 5m... Default: ${DEFAULT-VALUE}.")
  String interimInterval;

  @Option(
      names = "--poll-interval",
      defaultValue = "50ms",
      description = "How often the kernel ring buffer is drained. Default: ${DEFAULT-VALUE}.")
  String pollInterval;

  @Option(
      names = "--ring-buffer-size",
      defaultValue = BpfObject.Options.DEFAULT_RING_BUFFER_SIZE,
      description =
          "Kernel ring buffer size, a power of two: 256KiB, 4MiB... Default: ${DEFAULT-VALUE}.")
  String ringBufferSize;

  @Option(
      names = "--max-connections",
      defaultValue = BpfObject.Options.DEFAULT_MAX_CONNECTIONS,
      description =
          "Connections tracked at once (kernel map and flow table). Default: ${DEFAULT-VALUE}.")
  String maxConnections;

  @Option(
      names = "--output-buffer",
      defaultValue = "40000",
      description =
          "Records held while Kafka or the schema registry is slow or down (about 460 bytes of heap each); more are dropped and counted. Default: ${DEFAULT-VALUE}.")
  String outputBuffer;

  @Option(
      names = "--metrics-address",
      defaultValue = "127.0.0.1:9464",
      description =
          "host:port of the Prometheus metrics (/metrics) and health (/health) endpoint; port 0 turns it off. Default: ${DEFAULT-VALUE}.")
  String metricsAddress;

  @Option(
      names = "--exclude",
      paramLabel = "CIDR",
      split = ",",
      description =
          "Connections with both ends in these blocks are not reported, e.g. 127.0.0.1/32,::1/128"
              + " (a host's own services over loopback); repeatable, or comma-separated."
              + " Default: none.")
  List<String> exclude = new ArrayList<>();

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      defaultValue = "/var/lib/flowsight/sidecar",
      description =
          "Where a clean shutdown leaves the open connections' reported counters, read (and"
              + " deleted) by the next start so that a restart neither loses nor repeats a byte."
              + " Default: ${DEFAULT-VALUE}.")
  String stateDir;

  @Option(
      names = "--identity-file",
      paramLabel = "FILE",
      description = "YAML file mapping this host's local IPs to workload identities.")
  Path identityFile;

  @Option(names = "--identity.app", description = "This host's application (VM).")
  String identityApp;

  @Option(names = "--identity.cluster", description = "Its cluster or stack.")
  String identityCluster;

  @Option(names = "--identity.namespace", description = "Its namespace or environment.")
  String identityNamespace;

  @Option(names = "--identity.workload-kind", description = "Its workload kind.")
  String identityWorkloadKind;

  @Option(names = "--identity.workload-name", description = "Its workload name.")
  String identityWorkloadName;

  @Option(names = "--identity.instance-id", description = "Its instance id.")
  String identityInstanceId;

  @Option(names = "--identity.zone", description = "Its availability zone.")
  String identityZone;

  @Option(names = "--identity.region", description = "Its region.")
  String identityRegion;

  @Option(names = "--identity.account", description = "Its cloud account.")
  String identityAccount;

  @Option(
      names = "--identity.label",
      paramLabel = "KEY=VALUE",
      description = "A free label of this host's identity; repeatable.")
  Map<String, String> identityLabels = new LinkedHashMap<>();

  @Option(
      names = "--cgroup-root",
      paramLabel = "DIR|auto|off",
      defaultValue = "auto",
      description =
          "The host's cgroup2 mount, walked to name each connection's container and pod from its"
              + " socket's cgroup (in a container: the host's /sys/fs/cgroup mounted read-only,"
              + " e.g. /host/sys/fs/cgroup). auto: the first cgroup2 mount of this process (none on"
              + " a cgroup v1 host: no container ids nor pods); off: none. Default: ${DEFAULT-VALUE}.")
  String cgroupRoot;

  @Option(
      names = "--kubernetes-node",
      paramLabel = "NAME",
      description =
          "This node's name (in the DaemonSet: spec.nodeName from the downward API): watch its"
              + " pods and the node on the Kubernetes API (in-cluster service account, else"
              + " KUBECONFIG) to name each record's local IP (the pod's, else the node's) and"
              + " pod. Needs --kubernetes-cluster. Default: none (no API calls).")
  String kubernetesNode;

  @Option(
      names = "--kubernetes-cluster",
      paramLabel = "NAME",
      description =
          "The cluster's name in those identities: the same as the Kubernetes identity source's"
              + " --cluster.")
  String kubernetesCluster;

  /** Authentication and encryption of the producer. */
  @Mixin KafkaSecurityOptions kafkaSecurity = new KafkaSecurityOptions();

  /** Authentication and trust of the registry client. */
  @Mixin RegistrySecurityOptions registrySecurity = new RegistrySecurityOptions();

  @Mixin OpsSecurityOptions opsSecurity = new OpsSecurityOptions();

  /** The environment parsed from: secrets may come from it. */
  private Map<String, String> env = Map.of();

  /**
   * Parses {@code args} with defaults from the environment and the {@code --config} file (see
   * {@link Settings}).
   *
   * @throws CommandLine.ParameterException for an unknown flag or a missing value
   * @throws ConfigException for an unreadable config file
   */
  public static SidecarOptions parse(String[] args, Map<String, String> env) {
    SidecarOptions options = SETTINGS.parse(new SidecarOptions(), args, env);
    options.env = Map.copyOf(env);
    return options;
  }

  /** Each option's effective value and where it came from, a line each ({@code --print-config}). */
  public static String describe(String[] args, Map<String, String> env) {
    return SETTINGS.describe(new SidecarOptions(), args, env);
  }

  /**
   * An error about a setting found bad after validation (e.g. a directory that cannot be created),
   * in the same words as {@link #toConfig()}'s: the option, its environment variable and file key,
   * the value and the fix.
   */
  public static ConfigException bad(String option, String value, String fix) {
    return SETTINGS.bad(option, value, fix);
  }

  /** Validates every setting and returns the configuration. */
  public SidecarConfig toConfig() {
    SidecarConfig.Sink sinkValue =
        switch (sink.trim().toLowerCase(Locale.ROOT)) {
          case "kafka" -> SidecarConfig.Sink.KAFKA;
          case "stdout" -> SidecarConfig.Sink.STDOUT;
          default -> throw SETTINGS.bad("--sink", sink, "use kafka or stdout");
        };
    Duration interim = SETTINGS.duration("--interim-interval", interimInterval);
    if (interim.compareTo(Duration.ofSeconds(1)) < 0) {
      throw SETTINGS.bad("--interim-interval", interimInterval, "use at least 1s");
    }
    Duration poll = SETTINGS.duration("--poll-interval", pollInterval);
    if (poll.toMillis() < 1 || poll.compareTo(Duration.ofSeconds(1)) > 0) {
      throw SETTINGS.bad(
          "--poll-interval", pollInterval, "use 1ms to 1s (the ring buffer fills in between)");
    }
    long ring = SETTINGS.bytes("--ring-buffer-size", ringBufferSize);
    if (ring < 4096 || ring > (1L << 30) || Long.bitCount(ring) != 1) {
      throw SETTINGS.bad(
          "--ring-buffer-size", ringBufferSize, "use a power of two from 4KiB to 1GiB, e.g. 4MiB");
    }
    int connections = SETTINGS.integer("--max-connections", maxConnections, 1024, 16_777_216);
    int buffer = SETTINGS.integer("--output-buffer", outputBuffer, 1, 10_000_000);
    String[] hostPort = metricsAddress.trim().split(":(?=[0-9]+$)");
    if (hostPort.length != 2) {
      throw SETTINGS.bad(
          "--metrics-address", metricsAddress, "use host:port, e.g. 127.0.0.1:9464 (port 0: off)");
    }
    int metricsPortValue = SETTINGS.integer("--metrics-address", hostPort[1], 0, 65535);
    SETTINGS.requireNonBlank("--bootstrap-servers", bootstrapServers);
    SETTINGS.requireNonBlank("--registry-url", registryUrl);
    SETTINGS.requireNonBlank("--topic", topic);
    if (identityFile != null && !Files.isReadable(identityFile)) {
      throw SETTINGS.bad(
          "--identity-file", identityFile.toString(), "the file does not exist or is not readable");
    }
    List<Cidr> excluded = new ArrayList<>();
    for (String block : exclude) {
      if (block.isBlank()) {
        continue;
      }
      try {
        excluded.add(Cidr.parse(block.trim()));
      } catch (IllegalArgumentException e) {
        throw SETTINGS.bad(
            "--exclude", block, e.getMessage() + "; use address/length, e.g. 127.0.0.1/32");
      }
    }
    SETTINGS.requireNonBlank("--state-dir", stateDir);
    Path stateDirValue;
    try {
      stateDirValue = Path.of(stateDir.trim());
    } catch (InvalidPathException e) {
      throw SETTINGS.bad("--state-dir", stateDir, "use a directory path, e.g. /var/lib/flowsight");
    }
    if (Files.exists(stateDirValue) && !Files.isDirectory(stateDirValue)) {
      throw SETTINGS.bad(
          "--state-dir", stateDir, "it is a file, not a directory: name a directory");
    }
    Path cgroupRootValue = null;
    boolean cgroupLookups = true;
    String cgroupRootText = cgroupRoot == null ? "auto" : cgroupRoot.trim();
    if (cgroupRootText.equalsIgnoreCase("off")) {
      cgroupLookups = false;
    } else if (!cgroupRootText.equalsIgnoreCase("auto")) {
      try {
        cgroupRootValue = Path.of(cgroupRootText);
      } catch (InvalidPathException e) {
        throw SETTINGS.bad("--cgroup-root", cgroupRoot, "use a directory path, auto or off");
      }
    }
    String node = kubernetesNode == null || kubernetesNode.isBlank() ? null : kubernetesNode.trim();
    String cluster =
        kubernetesCluster == null || kubernetesCluster.isBlank() ? null : kubernetesCluster.trim();
    if (node != null && cluster == null) {
      throw SETTINGS.bad(
          "--kubernetes-cluster",
          "",
          "name the cluster (the identity source's --cluster, e.g. prod-east): --kubernetes-node"
              + " needs it");
    }
    return new SidecarConfig(
        observerId != null && !observerId.isBlank() ? observerId.trim() : hostname(),
        sinkValue,
        bootstrapServers.trim(),
        registryUrl.trim(),
        topic.trim(),
        interim,
        poll,
        (int) ring,
        connections,
        buffer,
        hostPort[0].isEmpty() ? "127.0.0.1" : hostPort[0],
        metricsPortValue,
        identity(),
        identityFile,
        ExcludedTraffic.of(excluded),
        stateDirValue,
        kafkaSecurity.clientProperties(SETTINGS, env),
        registrySecurity.clientProperties(SETTINGS, env, registryUrl),
        cgroupRootValue,
        cgroupLookups,
        node,
        cluster,
        opsSecurity.security(SETTINGS, env));
  }

  /**
   * The cgroup2 mount at {@code --cgroup-root DIR} on the running host (checked at start: the
   * manifests name a host path that exists only where the sidecar runs): DIR itself, or on a host
   * with systemd's hybrid layout its {@code unified} directory; empty on a host with cgroup v1
   * only.
   *
   * @throws ConfigException naming the option and the fix when DIR is no directory
   */
  public static Optional<Path> cgroup2MountAt(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw SETTINGS.bad(
          "--cgroup-root",
          dir.toString(),
          "no such directory: name the host's cgroup2 mount (e.g. /sys/fs/cgroup, in a container"
              + " the host's mounted at /host/sys/fs/cgroup), or auto, or off");
    }
    // Every directory of a cgroup2 hierarchy has cgroup.controllers, none of a cgroup v1 one.
    for (Path candidate : List.of(dir, dir.resolve("unified"))) {
      if (Files.exists(candidate.resolve("cgroup.controllers"))) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private Identity identity() {
    if (identityApp == null || identityApp.isBlank()) {
      boolean anyOther =
          identityCluster != null
              || identityNamespace != null
              || identityZone != null
              || identityRegion != null
              || identityAccount != null
              || identityInstanceId != null
              || !identityLabels.isEmpty();
      if (anyOther) {
        throw SETTINGS.bad(
            "--identity.app", "", "set the application name: the other identity fields need it");
      }
      return null;
    }
    return Identity.newBuilder()
        .setApp(identityApp.trim())
        .setCluster(identityCluster)
        .setNamespace(identityNamespace)
        .setWorkloadKind(identityWorkloadKind)
        .setWorkloadName(identityWorkloadName)
        .setInstanceId(identityInstanceId)
        .setNode(null)
        .setZone(identityZone)
        .setRegion(identityRegion)
        .setAccount(identityAccount)
        .setLabels(new LinkedHashMap<>(identityLabels))
        .build();
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      String env = System.getenv("HOSTNAME");
      return env != null ? env : "unknown-host";
    }
  }
}
