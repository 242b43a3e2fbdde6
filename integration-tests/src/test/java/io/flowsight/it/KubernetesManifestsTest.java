package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.flowsight.collector.config.CollectorConfig;
import io.flowsight.collector.config.CollectorOptions;
import io.flowsight.enrichment.IdentitySourceMain;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests ({@code deploy/kubernetes/}): complete, typed, strict, and saying what
 * the docs say: the sidecar's exact privileges, mounts, probes and memory; the collector's state
 * volume and probes; the identity source's single replica. Each ConfigMap is read by its service's
 * own option parser. The identity source's RBAC against the requests it makes, and its events:
 * {@code KubernetesIdentitySourceManifestIT}.
 */
class KubernetesManifestsTest {

  private static final long MIB = 1024 * 1024;

  /** What a queued record takes on the heap: QueuedRecordFootprint measured 456 bytes. */
  private static final long QUEUED_RECORD_BYTES = 460;

  /**
   * The sidecar JVM's memory outside its heap and metaspace, from native memory tracking at 5,000
   * connections/s (deploy/bench/README.md): code cache 13 MB, CDS archive 12 MB, symbols 8 MB,
   * compiler arenas 24 MB at peak, libjvm text 15 MB, thread stacks, GC and other malloc ~20 MB.
   */
  private static final long SIDECAR_JVM_NATIVE_BYTES = 92 * MIB;

  /** The Kafka producer's buffer.memory (8 MB) and its 4,096 records in flight. */
  private static final long PRODUCER_BYTES = 8 * MIB + 4096 * QUEUED_RECORD_BYTES;

  @Test
  void shouldListEveryManifestOfTheFolderInTheKustomization() throws IOException {
    List<String> listed = KubernetesManifests.resources();
    try (Stream<Path> files = Files.list(KubernetesManifests.DIR)) {
      Set<String> present =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".yaml") || n.endsWith(".yml"))
              .filter(n -> !n.equals("kustomization.yaml"))
              .collect(Collectors.toSet());
      assertThat(Set.copyOf(listed)).isEqualTo(present);
    }
    assertThat(listed).doesNotHaveDuplicates();
  }

  @Test
  void shouldReadEveryObjectIntoTheTypedModelWithoutAnUnknownField() throws IOException {
    List<HasMetadata> objects = KubernetesManifests.objects();
    assertThat(objects)
        .extracting(HasMetadata::getKind)
        .allMatch(KubernetesManifests.KINDS::contains);
    assertThat(objects)
        .extracting(o -> o.getKind() + "/" + o.getMetadata().getName())
        .containsExactlyInAnyOrder(
            "Namespace/flowsight",
            "ConfigMap/flowsight-sidecar",
            "ServiceAccount/flowsight-sidecar",
            "ClusterRole/flowsight-sidecar",
            "ClusterRoleBinding/flowsight-sidecar",
            "DaemonSet/flowsight-sidecar",
            "ConfigMap/flowsight-collector",
            "Service/flowsight-collector",
            "StatefulSet/flowsight-collector",
            "PodDisruptionBudget/flowsight-collector",
            "ConfigMap/flowsight-identity-source",
            "ServiceAccount/flowsight-identity-source",
            "ClusterRole/flowsight-identity-source",
            "ClusterRoleBinding/flowsight-identity-source",
            "Deployment/flowsight-identity-source");
    // Labels the Prometheus scrape configuration selects on.
    assertThat(objects)
        .allSatisfy(
            o ->
                assertThat(o.getMetadata().getLabels())
                    .as(o.getKind() + "/" + o.getMetadata().getName())
                    .containsEntry("app.kubernetes.io/part-of", "flowsight"));
    // The namespace comes from the kustomization, for every namespaced object.
    assertThat(objects).allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).isNull());
  }

  @Test
  void shouldFailOnAFieldTheApiDoesNotKnow() {
    // The strictness itself: a typo'd field, read the way the manifests are.
    String typo = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  clusterIp: None\n";
    KubernetesSerialization serialization = new KubernetesSerialization();
    Service service = serialization.unmarshal(typo, Service.class);
    assertThat(service.getSpec().getAdditionalProperties()).containsKey("clusterIp");
    assertThatThrownBy(() -> KubernetesManifests.strict(service, "typo.yaml"))
        .hasMessageContaining("Service.spec.clusterIp");
  }

  @Test
  void shouldTagEveryImageWithTheProjectVersion() throws IOException {
    String version = KubernetesManifests.projectVersion();
    for (PodSpec pod :
        List.of(sidecarPod(), collector().getSpec().getTemplate().getSpec(), identityPod())) {
      Stream.concat(pod.getInitContainers().stream(), pod.getContainers().stream())
          .forEach(c -> assertThat(c.getImage()).endsWith(":" + version));
    }
    assertThat(sidecar().getImage()).isEqualTo("flowsight/sidecar:" + version);
    assertThat(collectorContainer().getImage()).isEqualTo("flowsight/collector:" + version);
    assertThat(identityPod().getContainers().get(0).getImage())
        .isEqualTo("flowsight/identity-source:" + version);
  }

  // ---- sidecar --------------------------------------------------------------------------------

  @Test
  void shouldRunTheSidecarUnprivilegedWithExactlyTheCaptureCapabilities() throws IOException {
    PodSpec pod = sidecarPod();
    SecurityContext security = sidecar().getSecurityContext();
    // uid 0 of the container, holding the three capabilities and no others (the runtime grants
    // added capabilities to uid 0 only; the image carries no file capabilities).
    assertThat(security.getRunAsUser()).isZero();
    assertThat(security.getRunAsNonRoot()).isFalse();
    assertThat(security.getPrivileged()).isFalse();
    assertThat(security.getAllowPrivilegeEscalation()).isFalse();
    assertThat(security.getReadOnlyRootFilesystem()).isTrue();
    assertThat(security.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(security.getCapabilities().getAdd())
        .containsExactlyInAnyOrder("BPF", "PERFMON", "DAC_READ_SEARCH");
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getHostNetwork()).isTrue();
    assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
    assertThat(pod.getHostPID()).isFalse();
    assertThat(pod.getHostIPC()).isFalse();
    assertThat(pod.getTolerations())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.getOperator()).isEqualTo("Exists");
              assertThat(t.getKey()).isNull();
              assertThat(t.getEffect()).isNull();
            });
    // Root already: no container to hand the state directory over.
    assertThat(pod.getInitContainers()).isEmpty();
    DaemonSet ds = KubernetesManifests.get(DaemonSet.class, "flowsight-sidecar");
    assertThat(ds.getSpec().getUpdateStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(ds.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable().getIntVal())
        .isEqualTo(1);
  }

  @Test
  void shouldMountTracefsAndBtfReadOnlyAndTheStateDirectoryOfTheNode() throws IOException {
    PodSpec pod = sidecarPod();
    Map<String, Volume> volumes =
        pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
    Map<String, VolumeMount> mounts =
        sidecar().getVolumeMounts().stream()
            .collect(Collectors.toMap(VolumeMount::getMountPath, m -> m));
    assertThat(mounts.keySet())
        .containsExactlyInAnyOrder(
            "/sys/kernel/tracing",
            "/sys/kernel/btf",
            "/host/sys/fs/cgroup",
            "/var/lib/flowsight/sidecar",
            "/tmp");
    for (String path : List.of("/sys/kernel/tracing", "/sys/kernel/btf")) {
      VolumeMount mount = mounts.get(path);
      assertThat(mount.getReadOnly()).as(path).isTrue();
      assertThat(volumes.get(mount.getName()).getHostPath().getPath()).isEqualTo(path);
    }
    // The host's cgroup hierarchy, read only, where --cgroup-root looks (the container's own
    // /sys/fs/cgroup is its cgroup namespace, its own cgroup only).
    VolumeMount cgroup = mounts.get("/host/sys/fs/cgroup");
    assertThat(cgroup.getReadOnly()).isTrue();
    assertThat(volumes.get(cgroup.getName()).getHostPath().getPath()).isEqualTo("/sys/fs/cgroup");
    assertThat(volumes.get(cgroup.getName()).getHostPath().getType()).isEqualTo("Directory");
    assertThat(sidecarConfig().cgroupRoot()).isEqualTo(Path.of("/host/sys/fs/cgroup"));
    assertThat(sidecarConfig().cgroupLookups()).isTrue();
    // No bpffs: nothing is pinned.
    assertThat(volumes.values())
        .noneMatch(
            v -> v.getHostPath() != null && v.getHostPath().getPath().startsWith("/sys/fs/bpf"));
    Volume state = volumes.get(mounts.get("/var/lib/flowsight/sidecar").getName());
    assertThat(state.getHostPath().getPath()).isEqualTo("/var/lib/flowsight/sidecar");
    assertThat(state.getHostPath().getType()).isEqualTo("DirectoryOrCreate");
    assertThat(mounts.get("/var/lib/flowsight/sidecar").getReadOnly()).isNotEqualTo(true);
    assertThat(volumes.get(mounts.get("/tmp").getName()).getEmptyDir()).isNotNull();
    // The sidecar saves its state where the volume is.
    assertThat(sidecarConfig().stateDir()).isEqualTo(Path.of("/var/lib/flowsight/sidecar"));
  }

  @Test
  void shouldReadTheSidecarSettingsWithTheNodeNameAsObserverAndProbeItsMetricsPort()
      throws IOException {
    SidecarConfig config = sidecarConfig();
    assertThat(config.observerId()).isEqualTo("node-7");
    assertThat(config.metricsHost()).isEqualTo("10.0.0.7");
    assertThat(config.sink()).isEqualTo(SidecarConfig.Sink.KAFKA);
    assertThat(config.topic()).isEqualTo("flows-raw-v1");
    assertThat(sidecar().getEnv())
        .filteredOn(e -> e.getName().equals("FLOWSIGHT_SIDECAR_OBSERVER_ID"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getValueFrom().getFieldRef().getFieldPath())
                    .isEqualTo("spec.nodeName"));
    Container sidecar = sidecar();
    assertThat(sidecar.getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo("metrics");
              assertThat(p.getContainerPort()).isEqualTo(config.metricsPort());
            });
    assertHealthProbes(sidecar, config.metricsPort());
  }

  @Test
  void shouldLetTheSidecarListAndWatchItsNodesPodsAndTheNodeOnly() throws IOException {
    PodSpec pod = sidecarPod();
    assertThat(pod.getServiceAccountName()).isEqualTo("flowsight-sidecar");
    assertThat(pod.getAutomountServiceAccountToken()).isTrue();
    ClusterRole role = KubernetesManifests.get(ClusterRole.class, "flowsight-sidecar");
    // Exactly what its informers call: list and watch, on pods and nodes of the core group.
    assertThat(role.getRules())
        .singleElement()
        .satisfies(
            rule -> {
              assertThat(rule.getApiGroups()).containsExactly("");
              assertThat(rule.getResources()).containsExactlyInAnyOrder("pods", "nodes");
              assertThat(rule.getVerbs()).containsExactlyInAnyOrder("list", "watch");
              assertThat(rule.getResourceNames()).isNullOrEmpty();
              assertThat(rule.getNonResourceURLs()).isNullOrEmpty();
            });
    ClusterRoleBinding binding =
        KubernetesManifests.get(ClusterRoleBinding.class, "flowsight-sidecar");
    assertThat(binding.getRoleRef().getKind()).isEqualTo("ClusterRole");
    assertThat(binding.getRoleRef().getName()).isEqualTo("flowsight-sidecar");
    assertThat(binding.getSubjects())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.getKind()).isEqualTo("ServiceAccount");
              assertThat(s.getName()).isEqualTo(pod.getServiceAccountName());
              assertThat(s.getNamespace()).isEqualTo("flowsight");
            });
    // Its node from the downward API, and the cluster's name as the identity source has it.
    SidecarConfig config = sidecarConfig();
    assertThat(config.kubernetesNode()).isEqualTo("node-7");
    assertThat(sidecar().getEnv())
        .filteredOn(e -> e.getName().equals("FLOWSIGHT_SIDECAR_KUBERNETES_NODE"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getValueFrom().getFieldRef().getFieldPath())
                    .isEqualTo("spec.nodeName"));
    assertThat(config.kubernetesCluster())
        .isEqualTo(
            KubernetesManifests.configMapEnv("flowsight-identity-source")
                .get("FLOWSIGHT_IDENTITY_CLUSTER"));
  }

  @Test
  void shouldLimitTheSidecarsMemoryToWhatAFullOutputBufferTakes() throws IOException {
    SidecarConfig config = sidecarConfig();
    String jvm = Files.readString(Repository.file("deploy/sidecar.jvm.options"));
    long heap = jvmSize(jvm, "-Xmx");
    long metaspace = jvmSize(jvm, "-XX:MaxMetaspaceSize=");
    // The queue full and the producer's own buffers fit in half the heap: the flow table and the
    // records being built take the rest.
    long queued = config.outputBuffer() * QUEUED_RECORD_BYTES + PRODUCER_BYTES;
    assertThat(queued).as("full output buffer, bytes").isLessThanOrEqualTo(heap / 2);
    // The ring buffer is mapped twice (consumer and producer pages).
    long worstCase = heap + metaspace + 2L * config.ringBufferBytes() + SIDECAR_JVM_NATIVE_BYTES;
    long limit = bytes(sidecar().getResources().getLimits().get("memory"));
    assertThat(limit).as("memory limit").isGreaterThanOrEqualTo(worstCase);
    assertThat(limit).isEqualTo(256 * MIB);
    assertThat(bytes(sidecar().getResources().getRequests().get("memory")))
        .isLessThanOrEqualTo(limit);
    // No CPU limit: a throttled consumer overflows the kernel's ring buffer.
    assertThat(sidecar().getResources().getLimits()).doesNotContainKey("cpu");
  }

  // ---- collector ------------------------------------------------------------------------------

  @Test
  void shouldKeepTheCollectorsStateOnAVolumeOfItsOwnAndProbeItsHealth() throws IOException {
    StatefulSet sts = collector();
    CollectorConfig config = collectorConfig();
    assertThat(sts.getSpec().getServiceName()).isEqualTo("flowsight-collector");
    assertThat(sts.getSpec().getReplicas()).isBetween(1, config.partitions());
    PersistentVolumeClaim claim = sts.getSpec().getVolumeClaimTemplates().get(0);
    assertThat(sts.getSpec().getVolumeClaimTemplates()).hasSize(1);
    assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(claim.getSpec().getResources().getRequests()).containsKey("storage");
    VolumeMount state =
        collectorContainer().getVolumeMounts().stream()
            .filter(m -> m.getName().equals(claim.getMetadata().getName()))
            .findFirst()
            .orElseThrow();
    assertThat(Path.of(state.getMountPath())).isEqualTo(config.stateDir());
    assertThat(config.applicationId()).isEqualTo("flowsight-collector");
    assertThat(config.metricsHost()).isEqualTo("0.0.0.0");
    assertHealthProbes(collectorContainer(), config.metricsPort());

    PodSpec pod = sts.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(65532L);
    SecurityContext security = collectorContainer().getSecurityContext();
    assertThat(security.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(security.getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(security.getReadOnlyRootFilesystem()).isTrue();
    assertThat(security.getAllowPrivilegeEscalation()).isFalse();

    Service service = KubernetesManifests.get(Service.class, "flowsight-collector");
    assertThat(service.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(service.getSpec().getSelector())
        .isEqualTo(sts.getSpec().getSelector().getMatchLabels());
    assertThat(service.getSpec().getPorts())
        .singleElement()
        .satisfies(p -> assertThat(p.getPort()).isEqualTo(config.metricsPort()));
    PodDisruptionBudget pdb =
        KubernetesManifests.get(PodDisruptionBudget.class, "flowsight-collector");
    assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
    assertThat(pdb.getSpec().getSelector()).isEqualTo(sts.getSpec().getSelector());
  }

  @Test
  void shouldTakeKafkaCredentialsFromAnOptionalSecretOnly() throws IOException {
    assertThat(KubernetesManifests.configMapEnv("flowsight-collector"))
        .doesNotContainKey("FLOWSIGHT_COLLECTOR_KAFKA_PROPERTY");
    assertThat(collectorContainer().getEnv())
        .filteredOn(e -> e.getName().equals("FLOWSIGHT_COLLECTOR_KAFKA_PROPERTY"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getValueFrom().getSecretKeyRef().getName())
                  .isEqualTo("flowsight-kafka-credentials");
              assertThat(e.getValueFrom().getSecretKeyRef().getOptional()).isTrue();
            });
    // What the Secret would hold is read as the collector reads it.
    Map<String, String> env =
        KubernetesManifests.env(
            collectorContainer().getEnv().stream().filter(e -> e.getValue() != null).toList(),
            KubernetesManifests.configMapEnv("flowsight-collector"),
            Map.of());
    env.put(
        "FLOWSIGHT_COLLECTOR_KAFKA_PROPERTY",
        "security.protocol=SASL_SSL,sasl.mechanism=SCRAM-SHA-512");
    assertThat(CollectorOptions.parse(new String[0], env).toConfig().kafkaProperties())
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512");
  }

  // ---- identity source ------------------------------------------------------------------------

  @Test
  void shouldRunOneIdentitySourceWithItsServiceAccountAndTheManifestsSettings() throws IOException {
    Deployment deployment = KubernetesManifests.get(Deployment.class, "flowsight-identity-source");
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    PodSpec pod = identityPod();
    assertThat(pod.getServiceAccountName()).isEqualTo("flowsight-identity-source");
    Container container = pod.getContainers().get(0);
    assertThat(container.getArgs()).containsExactly("kubernetes");
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();

    IdentitySourceMain.KubernetesSettings settings =
        IdentitySourceMain.kubernetesSettings(
            new String[0], KubernetesManifests.configMapEnv("flowsight-identity-source"));
    assertThat(settings.source().cluster()).isEqualTo("prod");
    assertThat(settings.source().kubeconfig()).as("in-cluster service account").isNull();
    assertThat(settings.source().nodeName()).isNull();
    assertThat(settings.source().services()).isTrue();
    assertThat(settings.source().nodes()).isTrue();
    assertThat(settings.source().resync()).isEqualTo(Duration.ofMinutes(10));
    assertThat(settings.publisher().topic()).isEqualTo("ip-identity-v1");

    ClusterRoleBinding binding =
        KubernetesManifests.get(ClusterRoleBinding.class, "flowsight-identity-source");
    assertThat(binding.getRoleRef().getName()).isEqualTo("flowsight-identity-source");
    assertThat(binding.getSubjects())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.getKind()).isEqualTo("ServiceAccount");
              assertThat(s.getName()).isEqualTo(pod.getServiceAccountName());
              assertThat(s.getNamespace()).isEqualTo("flowsight");
            });
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static void assertHealthProbes(Container container, int metricsPort) {
    for (Probe probe :
        List.of(
            container.getStartupProbe(),
            container.getLivenessProbe(),
            container.getReadinessProbe())) {
      assertThat(probe.getHttpGet().getPath()).isEqualTo("/health");
      Object port =
          probe.getHttpGet().getPort().getIntVal() != null
              ? probe.getHttpGet().getPort().getIntVal()
              : container.getPorts().stream()
                  .filter(p -> p.getName().equals(probe.getHttpGet().getPort().getStrVal()))
                  .findFirst()
                  .orElseThrow(() -> new AssertionError("no port " + probe.getHttpGet().getPort()))
                  .getContainerPort();
      assertThat(port).isEqualTo(metricsPort);
    }
  }

  private static DaemonSet sidecarSet() throws IOException {
    return KubernetesManifests.get(DaemonSet.class, "flowsight-sidecar");
  }

  private static PodSpec sidecarPod() throws IOException {
    return sidecarSet().getSpec().getTemplate().getSpec();
  }

  private static Container sidecar() throws IOException {
    return sidecarPod().getContainers().stream()
        .filter(c -> c.getName().equals("sidecar"))
        .findFirst()
        .orElseThrow();
  }

  /** The sidecar's settings on node node-7 (IP 10.0.0.7), read by its own parser. */
  /** The sidecar's settings as the manifests give them on node-7 (10.0.0.7). */
  static SidecarConfig sidecarConfigForTests() throws IOException {
    return sidecarConfig();
  }

  private static SidecarConfig sidecarConfig() throws IOException {
    Container sidecar = sidecar();
    assertThat(sidecar.getEnvFrom())
        .singleElement()
        .satisfies(e -> assertThat(e.getConfigMapRef().getName()).isEqualTo("flowsight-sidecar"));
    Map<String, String> env =
        KubernetesManifests.env(
            sidecar.getEnv(),
            KubernetesManifests.configMapEnv("flowsight-sidecar"),
            Map.of("spec.nodeName", "node-7", "status.hostIP", "10.0.0.7"));
    // A variable with the prefix that is no option would only be a warning: fail on it here.
    picocli.CommandLine.Model.CommandSpec options =
        new picocli.CommandLine(new SidecarOptions()).getCommandSpec();
    env.keySet().stream()
        .filter(k -> k.startsWith(SidecarOptions.ENV_PREFIX))
        .forEach(
            k ->
                assertThat(options.findOption("--" + optionOf(k, SidecarOptions.ENV_PREFIX)))
                    .as(k)
                    .isNotNull());
    return SidecarOptions.parse(new String[0], env).toConfig();
  }

  private static StatefulSet collector() throws IOException {
    return KubernetesManifests.get(StatefulSet.class, "flowsight-collector");
  }

  private static Container collectorContainer() throws IOException {
    return collector().getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  private static CollectorConfig collectorConfig() throws IOException {
    Map<String, String> env =
        KubernetesManifests.env(
            collectorContainer().getEnv().stream().filter(e -> e.getValue() != null).toList(),
            KubernetesManifests.configMapEnv("flowsight-collector"),
            Map.of());
    return CollectorOptions.parse(new String[0], env).toConfig();
  }

  private static PodSpec identityPod() throws IOException {
    return KubernetesManifests.get(Deployment.class, "flowsight-identity-source")
        .getSpec()
        .getTemplate()
        .getSpec();
  }

  /** FLOWSIGHT_SIDECAR_OUTPUT_BUFFER: output-buffer. */
  private static String optionOf(String variable, String prefix) {
    return variable.substring(prefix.length()).toLowerCase().replace('_', '-');
  }

  private static long jvmSize(String options, String flag) {
    Matcher m = Pattern.compile(Pattern.quote(flag) + "(\\d+)([kKmMgG])").matcher(options);
    assertThat(m.find()).as(flag + " in " + options).isTrue();
    long n = Long.parseLong(m.group(1));
    return switch (Character.toLowerCase(m.group(2).charAt(0))) {
      case 'k' -> n * 1024;
      case 'm' -> n * MIB;
      default -> n * 1024 * MIB;
    };
  }

  private static long bytes(Quantity quantity) {
    BigDecimal amount = Quantity.getAmountInBytes(quantity);
    return amount.longValueExact();
  }
}
