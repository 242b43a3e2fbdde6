package io.flowsight.sidecar.config;

import io.flowsight.ops.OpsSecurity;
import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.flow.ExcludedTraffic;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The sidecar's settings, validated. Built by {@link SidecarOptions} from flags, environment
 * variables ({@code FLOWSIGHT_SIDECAR_*}), a properties file and defaults, in that order of
 * precedence.
 *
 * @param observerId stable id of this host in every record (instance id, else hostname)
 * @param sink where records go: Kafka, or one JSON object per line on stdout
 * @param bootstrapServers Kafka bootstrap servers
 * @param registryUrl the schema registry's Confluent-compatible API
 * @param topic the raw flows topic
 * @param interimInterval how often an open connection reports its deltas (INTERIM records)
 * @param pollInterval how often the ring buffer is drained (no wakeup per event)
 * @param ringBufferBytes size of the kernel ring buffer, a power of two of at least 4096 bytes
 * @param maxConnections connections tracked at once, in the kernel map and the flow table
 * @param outputBuffer records held while Kafka is slow or unreachable; beyond it, records are
 *     dropped and counted
 * @param metricsHost address the metrics and health endpoint binds to
 * @param metricsPort its port; 0 turns it off
 * @param localIdentity the workload this host runs (VM), attached to every record's local IP
 * @param identityFile optional YAML file mapping local IPs to identities (several workloads on one
 *     host); overrides localIdentity for the IPs it lists
 * @param excluded connections not reported: both ends inside these blocks (none by default)
 * @param stateDir where a clean shutdown leaves the open connections' reported counters for the
 *     next run (so that a restart neither loses nor repeats a byte)
 * @param kafkaClientProperties the producer's security ({@code --kafka-security-protocol} and the
 *     rest): empty for plaintext
 * @param registryClientProperties the registry client's authentication and trust ({@code
 *     --registry-username} and the rest), in the registry serde's keys: empty by default
 * @param cgroupRoot where the cgroup2 hierarchy is mounted, walked to name each socket's container
 *     and pod ({@code --cgroup-root}); null: the first cgroup2 mount of /proc/self/mountinfo, if
 *     any (unless {@code cgroupLookups} is false)
 * @param cgroupLookups false when {@code --cgroup-root off}: no container ids, no pods
 * @param kubernetesNode this node's name ({@code --kubernetes-node}): watch its pods on the
 *     Kubernetes API for the local identities and the records' pods; null: do not
 * @param kubernetesCluster the cluster's name in those identities ({@code --kubernetes-cluster})
 * @param opsSecurity TLS and basic authentication of the metrics and health endpoint ({@code
 *     --metrics-tls-keystore}, {@code --metrics-username}): none by default
 */
public record SidecarConfig(
    String observerId,
    Sink sink,
    String bootstrapServers,
    String registryUrl,
    String topic,
    Duration interimInterval,
    Duration pollInterval,
    int ringBufferBytes,
    int maxConnections,
    int outputBuffer,
    String metricsHost,
    int metricsPort,
    Identity localIdentity,
    Path identityFile,
    ExcludedTraffic excluded,
    Path stateDir,
    Map<String, String> kafkaClientProperties,
    Map<String, String> registryClientProperties,
    Path cgroupRoot,
    boolean cgroupLookups,
    String kubernetesNode,
    String kubernetesCluster,
    OpsSecurity opsSecurity) {

  public SidecarConfig {
    kafkaClientProperties = Map.copyOf(kafkaClientProperties);
    registryClientProperties = Map.copyOf(registryClientProperties);
  }

  /** Never the secrets of the client properties. */
  @Override
  public String toString() {
    return "SidecarConfig[observerId="
        + observerId
        + ", sink="
        + sink
        + ", bootstrapServers="
        + bootstrapServers
        + ", registryUrl="
        + registryUrl
        + ", topic="
        + topic
        + ", kafkaClientProperties="
        + io.flowsight.settings.KafkaSecurityOptions.redacted(kafkaClientProperties)
        + ", registryClientProperties="
        + io.flowsight.settings.KafkaSecurityOptions.redacted(registryClientProperties)
        + "]";
  }

  /** Where the sidecar writes its records. */
  public enum Sink {
    KAFKA,
    STDOUT
  }
}
