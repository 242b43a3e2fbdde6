package io.flowsight.sidecar.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.source.kubernetes.KubernetesLocalIdentityResolver;
import io.flowsight.enrichment.source.kubernetes.KubernetesSourceConfig;
import io.flowsight.schemas.Identity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link NodePods} from the Kubernetes API: {@link KubernetesLocalIdentityResolver} watching this
 * node's pods (field selector {@code spec.nodeName}) and the node (RBAC: list and watch on pods and
 * nodes).
 *
 * <p>The capture does not wait for the API: {@link #startInBackground} lists the pods on a thread
 * of its own and tries again until the API answers (an API server down while the node boots, a
 * missing RBAC binding fixed later), logging each failure with what to check. Until then every
 * lookup is empty: records carry the configured local identity and no pod, counted as {@code
 * unknown_pod}.
 */
public final class KubernetesNodePods implements NodePods {

  private static final Logger log = LoggerFactory.getLogger(KubernetesNodePods.class);

  /** How long one attempt may take to list the pods, and the longest pause between attempts. */
  static final Duration ATTEMPT_TIMEOUT = Duration.ofMinutes(1);

  static final Duration FIRST_RETRY_PAUSE = Duration.ofSeconds(2);

  static final Duration MAX_RETRY_PAUSE = Duration.ofMinutes(1);

  private volatile KubernetesLocalIdentityResolver resolver;
  private final KubernetesClient client;
  private final boolean ownClient;
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile Thread starter;

  private KubernetesNodePods(KubernetesClient client, boolean ownClient) {
    this.client = client;
    this.ownClient = ownClient;
  }

  /**
   * Connects as the identity source does (the pod's service account in a cluster, else {@code
   * KUBECONFIG} or {@code ~/.kube/config}) and lists the node's pods in the background, until the
   * API answers.
   */
  public static KubernetesNodePods startInBackground(String cluster, String nodeName) {
    KubernetesClient client =
        new KubernetesSourceConfig(
                cluster, null, null, nodeName, false, true, Duration.ZERO, ATTEMPT_TIMEOUT)
            .newClient();
    return startInBackground(client, true, cluster, nodeName, true);
  }

  /**
   * As {@link #startInBackground(String, String)} with a given client (closed with this object when
   * {@code ownClient}).
   */
  static KubernetesNodePods startInBackground(
      KubernetesClient client,
      boolean ownClient,
      String cluster,
      String nodeName,
      boolean nodeFieldSelector) {
    KubernetesNodePods pods = new KubernetesNodePods(client, ownClient);
    Thread starter =
        new Thread(
            () -> pods.startUntilListed(cluster, nodeName, nodeFieldSelector),
            "flowsight-kubernetes-start");
    starter.setDaemon(true);
    pods.starter = starter;
    starter.start();
    return pods;
  }

  /**
   * With a client of the caller's, waiting until the node's pods are listed (tests: fabric8's mock
   * API server, which lacks the {@code spec.nodeName} field selector: {@code nodeFieldSelector}
   * false filters here instead).
   *
   * @throws RuntimeException when the API does not list them within {@code timeout}
   */
  public static NodePods start(
      KubernetesClient client,
      String cluster,
      String nodeName,
      Duration timeout,
      boolean nodeFieldSelector) {
    KubernetesNodePods pods = new KubernetesNodePods(client, false);
    pods.resolver =
        KubernetesLocalIdentityResolver.start(
            client, cluster, nodeName, timeout, Clock.systemUTC(), nodeFieldSelector);
    return pods;
  }

  /** Whether the node's pods are listed (lookups answer). */
  public boolean listed() {
    return resolver != null;
  }

  private void startUntilListed(String cluster, String nodeName, boolean nodeFieldSelector) {
    Duration pause = FIRST_RETRY_PAUSE;
    for (int attempt = 1; closed.getCount() > 0; attempt++) {
      try {
        KubernetesLocalIdentityResolver started =
            KubernetesLocalIdentityResolver.start(
                client, cluster, nodeName, ATTEMPT_TIMEOUT, Clock.systemUTC(), nodeFieldSelector);
        synchronized (this) {
          if (closed.getCount() == 0) {
            started.close();
            return;
          }
          resolver = started;
        }
        log.info(
            "the Kubernetes API lists node {}'s pods: records name their pods from now on",
            nodeName);
        return;
      } catch (RuntimeException e) {
        log.warn(
            "--kubernetes-node {}: cannot list the node's pods on the Kubernetes API (attempt {},"
                + " again in {} s): {}. Check that the API server is reachable and that the"
                + " service account may list and watch pods and nodes"
                + " (deploy/kubernetes/sidecar-rbac.yaml); until then records carry no pod.",
            nodeName,
            attempt,
            pause.toSeconds(),
            e.getMessage());
      }
      try {
        if (closed.await(pause.toMillis(), TimeUnit.MILLISECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      pause =
          pause.multipliedBy(2).compareTo(MAX_RETRY_PAUSE) > 0
              ? MAX_RETRY_PAUSE
              : pause.multipliedBy(2);
    }
  }

  @Override
  public Optional<Identity> localIdentity(byte[] ip) {
    KubernetesLocalIdentityResolver r = resolver;
    return r == null
        ? Optional.empty()
        : r.identityOf(IpAddresses.toInetAddress(ip), Instant.now());
  }

  @Override
  public Optional<Identity> pod(String uid) {
    KubernetesLocalIdentityResolver r = resolver;
    return r == null ? Optional.empty() : r.podIdentity(uid);
  }

  @Override
  public void close() {
    synchronized (this) {
      closed.countDown();
      if (resolver != null) {
        resolver.close();
      }
    }
    Thread t = starter;
    if (t != null) {
      t.interrupt();
    }
    if (ownClient) {
      client.close();
    }
  }
}
