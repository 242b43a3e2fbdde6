package io.flowsight.enrichment.source.kubernetes;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.Service;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.source.IdentityReconciler.Claim;
import io.flowsight.schemas.Identity;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which IPs a Kubernetes object holds, as whom, and since when. Pure functions of the objects, used
 * by the cluster-wide identity source and by the sidecar's node-local resolver alike, so both name
 * a pod the same way.
 *
 * <h2>Identities</h2>
 *
 * <ul>
 *   <li><b>Pod</b>: app = label {@code app.kubernetes.io/name}, else {@code app}, else the owning
 *       workload's name; workloadKind/Name from the controller ownerReference, a ReplicaSet named
 *       {@code <deployment>-<pod-template-hash>} becoming its Deployment; no owner: kind Pod, the
 *       pod's name; instanceId = pod name; node = spec.nodeName; zone/region from the node's {@code
 *       topology.kubernetes.io/zone|region} labels when the node is known.
 *   <li><b>Service</b>: app from the same labels, else the service name; workloadKind Service,
 *       workloadName and instanceId the service name.
 *   <li><b>Node</b>: app {@value #NODE_APP}; workloadKind Node; workloadName, instanceId and node
 *       the node name; zone/region from its labels.
 * </ul>
 *
 * <h2>IPs</h2>
 *
 * A pod's status.podIPs (or status.podIP), several and IPv6 included, while it runs: none for a
 * host-network pod (its IP is the node's) nor once it Succeeded or Failed (its sandbox, and so its
 * IP, is released while the object may linger). A service's spec.clusterIPs (not "None") and
 * status.loadBalancer.ingress[].ip. A node's InternalIP and ExternalIP addresses.
 *
 * <h2>Since when (the ASSIGN's eventTime)</h2>
 *
 * Never earlier than the IP can have been held, so that a reused IP is not given to its new owner
 * too soon: a pod's IP since the earliest true condition among PodReadyToStartContainers,
 * ContainersReady and Ready (each implies a running sandbox with its network), else when first
 * seen; a cluster IP and a node's addresses since the object's creation; a load balancer IP since
 * first seen.
 */
public final class KubernetesIdentities {

  private static final Logger log = LoggerFactory.getLogger(KubernetesIdentities.class);

  public static final String NODE_APP = "kubernetes-node";
  public static final String ZONE_LABEL = "topology.kubernetes.io/zone";
  public static final String REGION_LABEL = "topology.kubernetes.io/region";
  static final String LEGACY_ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone";
  static final String LEGACY_REGION_LABEL = "failure-domain.beta.kubernetes.io/region";
  static final String POD_TEMPLATE_HASH = "pod-template-hash";

  private static final Set<String> SANDBOX_READY_CONDITIONS =
      Set.of("PodReadyToStartContainers", "ContainersReady", "Ready");

  private KubernetesIdentities() {}

  /** A node's zone and region, as its labels say (either may be null). */
  public record NodeTopology(String zone, String region) {
    public static final NodeTopology UNKNOWN = new NodeTopology(null, null);

    public static NodeTopology of(Node node) {
      Map<String, String> labels = labels(node);
      return new NodeTopology(
          labels.getOrDefault(ZONE_LABEL, labels.get(LEGACY_ZONE_LABEL)),
          labels.getOrDefault(REGION_LABEL, labels.get(LEGACY_REGION_LABEL)));
    }
  }

  // ---- pods -----------------------------------------------------------------------------------

  /** The pod's identity; {@code topology} is its node's (UNKNOWN when not known). */
  public static Identity podIdentity(Pod pod, String cluster, NodeTopology topology) {
    String[] workload = workloadOf(pod);
    return Identity.newBuilder()
        .setApp(appOf(pod, workload[1]))
        .setCluster(cluster)
        .setNamespace(pod.getMetadata().getNamespace())
        .setWorkloadKind(workload[0])
        .setWorkloadName(workload[1])
        .setInstanceId(pod.getMetadata().getName())
        .setNode(pod.getSpec() == null ? null : pod.getSpec().getNodeName())
        .setZone(topology.zone())
        .setRegion(topology.region())
        .setLabels(Map.of())
        .build();
  }

  /** The IPs the pod holds now, each with its identity and since when (see the class doc). */
  public static Map<String, Claim> podClaims(
      Pod pod, String cluster, Function<String, NodeTopology> topologies, Instant observedAt) {
    List<String> ips = podIps(pod);
    if (ips.isEmpty()) {
      return Map.of();
    }
    String nodeName = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    NodeTopology topology = nodeName == null ? NodeTopology.UNKNOWN : topologies.apply(nodeName);
    Identity identity =
        podIdentity(pod, cluster, topology == null ? NodeTopology.UNKNOWN : topology);
    Instant since = podIpSince(pod).orElse(observedAt);
    Map<String, Claim> claims = new LinkedHashMap<>();
    for (String ip : ips) {
      claims.put(ip, new Claim(identity, since));
    }
    return claims;
  }

  /** The pod's IPs (canonical text) while it holds them; empty for host-network or ended pods. */
  public static List<String> podIps(Pod pod) {
    if (pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork())) {
      return List.of();
    }
    if (pod.getStatus() == null) {
      return List.of();
    }
    String phase = pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return List.of();
    }
    List<String> raw = new ArrayList<>();
    if (pod.getStatus().getPodIPs() != null) {
      for (PodIP ip : pod.getStatus().getPodIPs()) {
        raw.add(ip.getIp());
      }
    }
    if (raw.isEmpty() && pod.getStatus().getPodIP() != null) {
      raw.add(pod.getStatus().getPodIP());
    }
    return canonical(raw, pod);
  }

  /** Since when the pod surely has its IP: the earliest true sandbox-implying condition. */
  static Optional<Instant> podIpSince(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    Instant earliest = null;
    for (PodCondition c : pod.getStatus().getConditions()) {
      if (SANDBOX_READY_CONDITIONS.contains(c.getType()) && "True".equals(c.getStatus())) {
        Instant t = time(c.getLastTransitionTime());
        if (t != null && (earliest == null || t.isBefore(earliest))) {
          earliest = t;
        }
      }
    }
    return Optional.ofNullable(earliest);
  }

  /** {kind, name} of the pod's workload. */
  static String[] workloadOf(Pod pod) {
    List<OwnerReference> owners = pod.getMetadata().getOwnerReferences();
    OwnerReference owner = null;
    if (owners != null) {
      for (OwnerReference o : owners) {
        if (Boolean.TRUE.equals(o.getController())) {
          owner = o;
          break;
        }
      }
      if (owner == null && !owners.isEmpty()) {
        owner = owners.get(0);
      }
    }
    if (owner == null) {
      return new String[] {"Pod", pod.getMetadata().getName()};
    }
    if ("ReplicaSet".equals(owner.getKind())) {
      String hash = labels(pod).get(POD_TEMPLATE_HASH);
      String suffix = "-" + hash;
      if (hash != null && owner.getName().endsWith(suffix)) {
        return new String[] {
          "Deployment", owner.getName().substring(0, owner.getName().length() - suffix.length())
        };
      }
    }
    return new String[] {owner.getKind(), owner.getName()};
  }

  private static String appOf(HasMetadata object, String fallback) {
    Map<String, String> labels = labels(object);
    String app = labels.get("app.kubernetes.io/name");
    if (app == null || app.isBlank()) {
      app = labels.get("app");
    }
    return app == null || app.isBlank() ? fallback : app;
  }

  // ---- services -------------------------------------------------------------------------------

  public static Identity serviceIdentity(Service service, String cluster) {
    String name = service.getMetadata().getName();
    return Identity.newBuilder()
        .setApp(appOf(service, name))
        .setCluster(cluster)
        .setNamespace(service.getMetadata().getNamespace())
        .setWorkloadKind("Service")
        .setWorkloadName(name)
        .setInstanceId(name)
        .setLabels(Map.of())
        .build();
  }

  /** The service's cluster IPs (since its creation) and load balancer IPs (since first seen). */
  public static Map<String, Claim> serviceClaims(
      Service service, String cluster, Instant observedAt) {
    Identity identity = serviceIdentity(service, cluster);
    Map<String, Claim> claims = new LinkedHashMap<>();
    List<String> clusterIps = new ArrayList<>();
    if (service.getSpec() != null) {
      if (service.getSpec().getClusterIPs() != null
          && !service.getSpec().getClusterIPs().isEmpty()) {
        clusterIps.addAll(service.getSpec().getClusterIPs());
      } else if (service.getSpec().getClusterIP() != null) {
        clusterIps.add(service.getSpec().getClusterIP());
      }
    }
    clusterIps.removeIf(ip -> ip == null || ip.isBlank() || "None".equals(ip));
    Instant created = created(service).orElse(observedAt);
    for (String ip : canonical(clusterIps, service)) {
      claims.put(ip, new Claim(identity, created));
    }
    List<String> lbIps = new ArrayList<>();
    if (service.getStatus() != null
        && service.getStatus().getLoadBalancer() != null
        && service.getStatus().getLoadBalancer().getIngress() != null) {
      for (LoadBalancerIngress ingress : service.getStatus().getLoadBalancer().getIngress()) {
        if (ingress.getIp() != null && !ingress.getIp().isBlank()) {
          lbIps.add(ingress.getIp());
        }
      }
    }
    for (String ip : canonical(lbIps, service)) {
      claims.putIfAbsent(ip, new Claim(identity, observedAt));
    }
    return claims;
  }

  // ---- nodes ----------------------------------------------------------------------------------

  public static Identity nodeIdentity(Node node, String cluster) {
    String name = node.getMetadata().getName();
    NodeTopology topology = NodeTopology.of(node);
    return Identity.newBuilder()
        .setApp(NODE_APP)
        .setCluster(cluster)
        .setWorkloadKind("Node")
        .setWorkloadName(name)
        .setInstanceId(name)
        .setNode(name)
        .setZone(topology.zone())
        .setRegion(topology.region())
        .setLabels(Map.of())
        .build();
  }

  /** The node's InternalIP and ExternalIP addresses, since its creation. */
  public static Map<String, Claim> nodeClaims(Node node, String cluster, Instant observedAt) {
    List<String> ips = new ArrayList<>();
    if (node.getStatus() != null && node.getStatus().getAddresses() != null) {
      for (NodeAddress a : node.getStatus().getAddresses()) {
        if ("InternalIP".equals(a.getType()) || "ExternalIP".equals(a.getType())) {
          ips.add(a.getAddress());
        }
      }
    }
    Identity identity = nodeIdentity(node, cluster);
    Instant created = created(node).orElse(observedAt);
    Map<String, Claim> claims = new LinkedHashMap<>();
    for (String ip : canonical(ips, node)) {
      claims.put(ip, new Claim(identity, created));
    }
    return claims;
  }

  // ---- helpers --------------------------------------------------------------------------------

  static Map<String, String> labels(HasMetadata object) {
    Map<String, String> labels = object.getMetadata().getLabels();
    return labels == null ? Map.of() : labels;
  }

  static Optional<Instant> created(HasMetadata object) {
    return Optional.ofNullable(time(object.getMetadata().getCreationTimestamp()));
  }

  /** An RFC 3339 time of the API, or null. */
  static Instant time(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** Canonical text of the valid IPs, in order, without duplicates; bad ones are logged. */
  private static List<String> canonical(List<String> ips, HasMetadata owner) {
    List<String> out = new ArrayList<>();
    for (String ip : ips) {
      Optional<byte[]> address = IpAddresses.tryParse(ip == null ? "" : ip.trim());
      if (address.isEmpty()) {
        log.warn(
            "{} {}/{}: ignoring '{}', not an IP address",
            owner.getKind(),
            owner.getMetadata().getNamespace(),
            owner.getMetadata().getName(),
            ip);
        continue;
      }
      String text = IpAddresses.toText(address.get());
      if (!out.contains(text)) {
        out.add(text);
      }
    }
    return out;
  }
}
