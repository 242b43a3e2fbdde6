package io.flowsight.enrichment.source.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

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
 *
 * <p>It also names pods by uid ({@link #podIdentity}), for the sidecar's pod of a socket (found
 * from the socket's cgroup, whose path names the pod's uid): the same identity as the pod's IP
 * gets, and for host-network pods too. A deleted pod is still named for {@link
 * #KEEP_DELETED_PODS_FOR}: a connection may close, and be reported, a moment after its pod is gone.
 */
public final class KubernetesLocalIdentityResolver implements LocalIdentityResolver {

  /**
   * Histories older than this are dropped (a flow is resolved within seconds of its capture). No
   * boundary margin: the pod events and the flows are timed on this node's clock.
   */
  private static final HistoryPolicy POLICY =
      HistoryPolicy.DEFAULT.withRetention(Duration.ofHours(1)).withBoundaryMargin(Duration.ZERO);

  private static final Duration EXPIRE_EVERY = Duration.ofMinutes(1);

  /** How long a deleted pod is still named by its uid. */
  public static final Duration KEEP_DELETED_PODS_FOR = Duration.ofMinutes(5);

  /** The annotation of a static pod's mirror: the uid the kubelet gave the static pod. */
  static final String MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

  /** A pod of this node: its identity, and when it was deleted (null while it exists). */
  private record PodEntry(Identity identity, Instant deletedAt) {}

  private final OwnershipDirectory directory = new OwnershipDirectory(POLICY);

  /**
   * This node's pods by uid, and static pods also by the kubelet's uid (their mirror's annotation).
   */
  private final Map<String, PodEntry> pods = new ConcurrentHashMap<>();

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
            clock,
            new KubernetesIdentityWatcher.PodListener() {
              @Override
              public void podChanged(Pod pod, Identity identity) {
                for (String uid : uidsOf(pod)) {
                  // The same object while the identity stays the same: writers cache its bytes.
                  pods.compute(
                      uid,
                      (k, before) ->
                          before != null
                                  && before.deletedAt() == null
                                  && before.identity().equals(identity)
                              ? before
                              : new PodEntry(identity, null));
                }
              }

              @Override
              public void podGone(Pod pod) {
                Instant now = clock.instant();
                for (String uid : uidsOf(pod)) {
                  pods.computeIfPresent(
                      uid,
                      (k, before) ->
                          before.deletedAt() != null
                              ? before
                              : new PodEntry(before.identity(), now));
                }
              }
            });
  }

  private static List<String> uidsOf(Pod pod) {
    List<String> uids = new ArrayList<>(2);
    if (pod.getMetadata().getUid() != null) {
      uids.add(pod.getMetadata().getUid().toLowerCase(Locale.ROOT));
    }
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    String mirrorOf = annotations == null ? null : annotations.get(MIRROR_ANNOTATION);
    if (mirrorOf != null && !mirrorOf.isBlank()) {
      uids.add(mirrorOf.trim().toLowerCase(Locale.ROOT));
    }
    return uids;
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
    try {
      resolver.watcher.start(timeout);
    } catch (RuntimeException e) {
      resolver.close(); // the informers would go on retrying, unreachable
      throw e;
    }
    return resolver;
  }

  @Override
  public Optional<Identity> identityOf(InetAddress localIp, Instant at) {
    expireNow();
    Attribution a = directory.lookup(IpAddresses.of(localIp), at);
    return a.status() == AttributionStatus.OWNER ? Optional.of(a.identity()) : Optional.empty();
  }

  /**
   * The identity of this node's pod with this uid (the API's {@code metadata.uid}, or for a static
   * pod the kubelet's uid of it), also for {@link #KEEP_DELETED_PODS_FOR} after its deletion; empty
   * for a pod not (yet) seen.
   */
  public Optional<Identity> podIdentity(String podUid) {
    expireNow();
    PodEntry entry = pods.get(podUid.toLowerCase(Locale.ROOT));
    return entry == null ? Optional.empty() : Optional.of(entry.identity());
  }

  private void expireNow() {
    Instant now = clock.instant();
    if (Duration.between(lastExpiry, now).compareTo(EXPIRE_EVERY) > 0) {
      lastExpiry = now;
      directory.expire(now);
      Instant deletedBefore = now.minus(KEEP_DELETED_PODS_FOR);
      pods.values().removeIf(e -> e.deletedAt() != null && e.deletedAt().isBefore(deletedBefore));
    }
  }

  @Override
  public void close() {
    watcher.close();
  }
}
