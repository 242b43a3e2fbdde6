package io.flowsight.enrichment.source.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.local.LocalIdentityResolver;
import io.flowsight.enrichment.ownership.Attribution;
import io.flowsight.enrichment.ownership.HistoryPolicy;
import io.flowsight.enrichment.ownership.OwnershipDirectory;
import io.flowsight.enrichment.source.IdentityReconciler;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.Identity;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The local identity on a Kubernetes node: watches only this node's pods (field selector {@code
 * spec.nodeName=<node>}) and the node itself, and keeps for each local IP the same kind of {@link
 * io.flowsight.enrichment.ownership.OwnershipHistory} the collector keeps, fed by the same
 * ASSIGN/UNASSIGN events the cluster source would publish (but in memory, nothing is published). So
 * a flow captured just before its pod was deleted, or on an IP just reused by a new pod, is named
 * by who held the IP at the flow's time, not by who holds it now.
 *
 * <p>Host-network pods share the node's IP: their flows are named by the node's identity ({@code
 * kubernetes-node}). Needs RBAC list and watch on pods and nodes (its informers never get).
 */
public final class KubernetesLocalIdentityResolver implements LocalIdentityResolver {

  /**
   * Histories older than this are dropped (a flow is resolved within seconds of its capture). No
   * boundary margin: the pod events and the flows are timed on this node's clock.
   */
  private static final HistoryPolicy POLICY =
      HistoryPolicy.DEFAULT.withRetention(Duration.ofHours(1)).withBoundaryMargin(Duration.ZERO);

  private static final Duration EXPIRE_EVERY = Duration.ofMinutes(1);

  private final OwnershipDirectory directory = new OwnershipDirectory(POLICY);
  private final KubernetesIdentityWatcher watcher;
  private final Clock clock;
  private volatile Instant lastExpiry;

  private KubernetesLocalIdentityResolver(
      KubernetesClient client,
      String cluster,
      String nodeName,
      boolean nodeFieldSelector,
      Clock clock) {
    this.clock = clock;
    this.lastExpiry = clock.instant();
    IdentityReconciler reconciler =
        new IdentityReconciler("kubernetes", cluster, directory::apply, Map.of());
    this.watcher =
        new KubernetesIdentityWatcher(
            client,
            new KubernetesIdentityWatcher.Options(
                cluster, nodeName, false, true, Duration.ZERO, nodeFieldSelector),
            reconciler,
            clock);
  }

  /**
   * Starts watching the node's pods and waits until they are listed.
   *
   * @param cluster the cluster's name (the identities' cluster field)
   * @param nodeName this node's name (in a pod: the downward API's spec.nodeName)
   */
  public static KubernetesLocalIdentityResolver start(
      KubernetesClient client, String cluster, String nodeName, Duration timeout, Clock clock) {
    return start(client, cluster, nodeName, timeout, clock, true);
  }

  /**
   * As {@link #start(KubernetesClient, String, String, Duration, Clock)}; {@code nodeFieldSelector}
   * false lists all pods and filters here (for API servers without the {@code spec.nodeName} field
   * selector, such as fabric8's mock server).
   */
  public static KubernetesLocalIdentityResolver start(
      KubernetesClient client,
      String cluster,
      String nodeName,
      Duration timeout,
      Clock clock,
      boolean nodeFieldSelector) {
    KubernetesLocalIdentityResolver resolver =
        new KubernetesLocalIdentityResolver(client, cluster, nodeName, nodeFieldSelector, clock);
    resolver.watcher.start(timeout);
    return resolver;
  }

  @Override
  public Optional<Identity> identityOf(InetAddress localIp, Instant at) {
    Instant now = clock.instant();
    if (Duration.between(lastExpiry, now).compareTo(EXPIRE_EVERY) > 0) {
      lastExpiry = now;
      directory.expire(now);
    }
    Attribution a = directory.lookup(IpAddresses.of(localIp), at);
    return a.status() == AttributionStatus.OWNER ? Optional.of(a.identity()) : Optional.empty();
  }

  @Override
  public void close() {
    watcher.close();
  }
}
