package io.flowsight.sidecar;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.local.LocalIdentityResolver;
import io.flowsight.enrichment.local.StaticLocalIdentityResolver;
import io.flowsight.schemas.Identity;
import io.flowsight.settings.ConfigException;
import io.flowsight.settings.Settings;
import io.flowsight.sidecar.bpf.BpfException;
import io.flowsight.sidecar.cgroup.CgroupDirectory;
import io.flowsight.sidecar.cgroup.CgroupMounts;
import io.flowsight.sidecar.cgroup.CgroupOwners;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.sidecar.flow.SocketOwners;
import io.flowsight.sidecar.kubernetes.KubernetesNodePods;
import io.flowsight.sidecar.kubernetes.NodePods;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.sidecar.sink.FlowSink;
import io.flowsight.sidecar.sink.KafkaSink;
import io.flowsight.sidecar.sink.StdoutSink;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** {@code ./flowsight sidecar [options]}: runs the exporter sidecar until SIGTERM or SIGINT. */
public final class SidecarMain {

  /** Exit code for a bad configuration. */
  static final int EXIT_CONFIG = 2;

  /** Exit code for a kernel that refuses the program (privilege, BTF). */
  static final int EXIT_KERNEL = 3;

  private static final Logger log = LoggerFactory.getLogger(SidecarMain.class);

  private SidecarMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.getenv(), System.out, System.err));
  }

  /**
   * The identity every record carries for its local IP: the identity file's entry for the address
   * (several workloads on one host), else the host's configured identity, else none.
   */
  public static Function<byte[], Identity> localIdentity(SidecarConfig config) {
    Identity host = config.localIdentity();
    if (config.identityFile() == null) {
      return ip -> host;
    }
    LocalIdentityResolver byAddress = StaticLocalIdentityResolver.fromFile(config.identityFile());
    return ip -> byAddress.identityOf(IpAddresses.toInetAddress(ip), Instant.now()).orElse(host);
  }

  /**
   * On a Kubernetes node: the pod (or the node) that holds the local IP as the API says, else
   * {@code configured} (the identity file's, the configured one).
   */
  public static Function<byte[], Identity> localIdentity(
      NodePods pods, Function<byte[], Identity> configured) {
    return ip -> {
      Optional<Identity> fromApi = pods.localIdentity(ip);
      return fromApi.isPresent() ? fromApi.get() : configured.apply(ip);
    };
  }

  /**
   * The container and pod of each record's socket, from the cgroup2 mount ({@code --cgroup-root},
   * else the first one of {@code mountinfo}) and the pods of {@code pods} (null: container ids
   * only). {@link SocketOwners#NONE} when there is no cgroup2 mount (a host with cgroup v1 only),
   * with a log line saying so: the sidecar captures all the same.
   */
  public static SocketOwners socketOwners(
      SidecarConfig config, Path mountinfo, NodePods pods, SidecarMetrics metrics) {
    if (!config.cgroupLookups()) {
      log.info("--cgroup-root off: records carry no container id and no pod");
      return SocketOwners.NONE;
    }
    Path root = config.cgroupRoot();
    if (root != null) {
      Optional<Path> mount = SidecarOptions.cgroup2MountAt(root);
      if (mount.isEmpty()) {
        log.warn(
            "--cgroup-root {} is no cgroup2 mount, nor is its unified directory (a host with"
                + " cgroup v1 only): records carry no container id{}",
            root,
            pods != null ? " and no pod (their local identity still comes from the API)" : "");
        return SocketOwners.NONE;
      }
      root = mount.get();
    } else {
      Optional<Path> found = CgroupMounts.firstCgroup2(mountinfo);
      if (found.isEmpty()) {
        log.warn(
            "no cgroup2 mount in {} (a host with cgroup v1 only, or a container without the"
                + " host's cgroup2 mount): records carry no container id{}; set --cgroup-root to"
                + " the host's cgroup2 mount where there is one",
            mountinfo,
            pods != null ? " and no pod (their local identity still comes from the API)" : "");
        return SocketOwners.NONE;
      }
      root = found.get();
    }
    CgroupDirectory cgroups = new CgroupDirectory(root);
    log.info(
        "naming each connection's container{} by its socket's cgroup in {} ({} cgroups now)",
        pods != null ? " and pod" : "",
        root,
        cgroups.size());
    return new CgroupOwners(
        cgroups,
        pods != null ? pods::pod : uid -> Optional.empty(),
        result -> metrics.podLookup(result.label()));
  }

  private static void closeQuietly(NodePods pods) {
    if (pods != null) {
      pods.close();
    }
  }

  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    for (String arg : args) {
      if (arg.equals("-h") || arg.equals("--help")) {
        CommandLine command = Settings.command(new SidecarOptions());
        command.getCommandSpec().name("./flowsight sidecar");
        command.getCommandSpec().usageMessage().abbreviateSynopsis(true);
        command
            .getCommandSpec()
            .usageMessage()
            .description(
                "Captures every TCP connection of this host with eBPF and ships one record per"
                    + " connection to Kafka (or stdout).",
                "Needs root, or CAP_BPF + CAP_PERFMON + CAP_DAC_READ_SEARCH (tracefs is root-only), and"
                    + " a kernel with BTF.",
                "Every option can also be set as an environment variable FLOWSIGHT_SIDECAR_<NAME>"
                    + " (--interim-interval: FLOWSIGHT_SIDECAR_INTERIM_INTERVAL) or as a key in the"
                    + " --config properties file (interim-interval=30s). --print-config prints each"
                    + " effective value and where it came from.");
        command.usage(out);
        return 0;
      }
    }
    if (Settings.printConfigRequested(args)) {
      try {
        out.print(SidecarOptions.describe(Settings.withoutPrintConfig(args), env));
        return 0;
      } catch (CommandLine.ParameterException | ConfigException e) {
        err.println("flowsight sidecar: " + e.getMessage());
        return EXIT_CONFIG;
      }
    }
    SidecarConfig config;
    try {
      config = SidecarOptions.parse(args, env).toConfig();
    } catch (CommandLine.ParameterException | ConfigException e) {
      err.println("flowsight sidecar: " + e.getMessage());
      err.println("Run ./flowsight sidecar --help for the options.");
      return EXIT_CONFIG;
    }
    try {
      Files.createDirectories(config.stateDir());
      if (!Files.isWritable(config.stateDir())) {
        throw new IOException("not writable");
      }
    } catch (IOException e) {
      err.println(
          "flowsight sidecar: "
              + SidecarOptions.bad(
                      "--state-dir",
                      config.stateDir().toString(),
                      "cannot create or write it ("
                          + e.getMessage()
                          + "): name a directory this user may write")
                  .getMessage());
      return EXIT_CONFIG;
    }
    if (config.cgroupRoot() != null) {
      try {
        SidecarOptions.cgroup2MountAt(config.cgroupRoot());
      } catch (ConfigException e) {
        err.println("flowsight sidecar: " + e.getMessage());
        return EXIT_CONFIG;
      }
    }
    SidecarMetrics metrics = new SidecarMetrics();
    FlowSink sink =
        switch (config.sink()) {
          case KAFKA ->
              new KafkaSink(
                  config.bootstrapServers(),
                  config.registryUrl(),
                  config.topic(),
                  config.outputBuffer(),
                  metrics,
                  config.kafkaClientProperties(),
                  config.registryClientProperties());
          case STDOUT -> new StdoutSink(out);
        };
    Function<byte[], Identity> localIdentity;
    try {
      localIdentity = localIdentity(config);
    } catch (RuntimeException e) {
      sink.close();
      err.println(
          "flowsight sidecar: --identity-file " + config.identityFile() + ": " + e.getMessage());
      return EXIT_CONFIG;
    }
    NodePods pods = null;
    if (config.kubernetesNode() != null) {
      // Listed in the background: the capture does not wait for the API (see KubernetesNodePods).
      try {
        pods =
            KubernetesNodePods.startInBackground(
                config.kubernetesCluster(), config.kubernetesNode());
      } catch (RuntimeException e) {
        sink.close();
        err.println(
            "flowsight sidecar: --kubernetes-node "
                + config.kubernetesNode()
                + ": cannot make a Kubernetes client ("
                + e.getMessage()
                + "): run in a pod with its service account token mounted, or set KUBECONFIG");
        return EXIT_CONFIG;
      }
      localIdentity = localIdentity(pods, localIdentity);
    }
    SocketOwners owners = socketOwners(config, CgroupMounts.SELF, pods, metrics);
    NodePods watched = pods;
    Sidecar sidecar;
    try {
      sidecar = Sidecar.start(config, metrics, sink, localIdentity, owners);
    } catch (BpfException e) {
      sink.close();
      closeQuietly(watched);
      err.println("flowsight sidecar: " + e.getMessage());
      return EXIT_KERNEL;
    } catch (IOException e) {
      sink.close();
      closeQuietly(watched);
      err.println(
          "flowsight sidecar: cannot open the metrics endpoint on "
              + config.metricsHost()
              + ":"
              + config.metricsPort()
              + " ("
              + e.getMessage()
              + "): set --metrics-address to a free port, or port 0 to turn it off");
      return EXIT_CONFIG;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  sidecar.close();
                  closeQuietly(watched);
                  stopped.countDown();
                },
                "flowsight-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
