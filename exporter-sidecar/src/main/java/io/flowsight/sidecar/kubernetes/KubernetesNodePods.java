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

/**
 * {@link NodePods} from the Kubernetes API: {@link KubernetesLocalIdentityResolver} watching this
 * node's pods (field selector {@code spec.nodeName}) and the node (RBAC: list and watch on pods and
 * nodes).
 */
public final class KubernetesNodePods implements NodePods {

  private final KubernetesLocalIdentityResolver resolver;
  private final KubernetesClient ownClient;

  private KubernetesNodePods(KubernetesLocalIdentityResolver resolver, KubernetesClient ownClient) {
    this.resolver = resolver;
    this.ownClient = ownClient;
  }

  /**
   * Connects as the identity source does (the pod's service account in a cluster, else {@code
   * KUBECONFIG} or {@code ~/.kube/config}) and waits until the node's pods are listed.
   *
   * @throws RuntimeException when the API cannot be reached or refuses, within {@code timeout}
   */
  public static NodePods start(String cluster, String nodeName, Duration timeout) {
    KubernetesClient client =
        new KubernetesSourceConfig(
                cluster, null, null, nodeName, false, true, Duration.ZERO, timeout)
            .newClient();
    try {
      return new KubernetesNodePods(
          KubernetesLocalIdentityResolver.start(
              client, cluster, nodeName, timeout, Clock.systemUTC()),
          client);
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /**
   * With a client of the caller's (tests: fabric8's mock API server, which lacks the {@code
   * spec.nodeName} field selector: {@code nodeFieldSelector} false filters here instead).
   */
  public static NodePods start(
      KubernetesClient client,
      String cluster,
      String nodeName,
      Duration timeout,
      boolean nodeFieldSelector) {
    return new KubernetesNodePods(
        KubernetesLocalIdentityResolver.start(
            client, cluster, nodeName, timeout, Clock.systemUTC(), nodeFieldSelector),
        null);
  }

  @Override
  public Optional<Identity> localIdentity(byte[] ip) {
    return resolver.identityOf(IpAddresses.toInetAddress(ip), Instant.now());
  }

  @Override
  public Optional<Identity> pod(String uid) {
    return resolver.podIdentity(uid);
  }

  @Override
  public void close() {
    resolver.close();
    if (ownClient != null) {
      ownClient.close();
    }
  }
}
