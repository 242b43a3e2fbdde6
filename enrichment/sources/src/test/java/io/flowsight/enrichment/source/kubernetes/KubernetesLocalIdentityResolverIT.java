package io.flowsight.enrichment.source.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.local.LocalIdentityResolver;
import io.flowsight.schemas.Identity;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sidecar's resolver against fabric8's mock API server (CRUD mode); no broker needed. The mock
 * does not implement the spec.nodeName field selector, so the resolver filters by node itself.
 */
class KubernetesLocalIdentityResolverIT {

  private KubernetesMockServer server;
  private NamespacedKubernetesClient client;

  @BeforeEach
  void startApiServer() {
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesMixedDispatcher(new HashMap<>()),
            false);
    server.init();
    client = server.createClient();
  }

  @AfterEach
  void stopApiServer() {
    client.close();
    server.destroy();
  }

  private static InetAddress ip(String text) {
    return IpAddresses.toInetAddress(IpAddresses.parse(text));
  }

  private Pod runningPod(String name, String app, String node, String ip, Instant ready) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("shop")
        .addToLabels("app", app)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .addNewPodIP(ip)
        .addNewCondition()
        .withType("PodReadyToStartContainers")
        .withStatus("True")
        .withLastTransitionTime(ready.toString())
        .endCondition()
        .endStatus()
        .build();
  }

  private static Optional<Identity> await(
      LocalIdentityResolver resolver, String ip, Instant at, Optional<String> app)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Optional<Identity> found = resolver.identityOf(ip(ip), at);
    while (!found.map(Identity::getApp).equals(app) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      found = resolver.identityOf(ip(ip), at);
    }
    return found;
  }

  @Test
  void shouldNameLocalPodIpsAsTheyWereAtCaptureTime() throws Exception {
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("node-1")
                .addToLabels(KubernetesIdentities.ZONE_LABEL, "eu-west-1a")
                .endMetadata()
                .withNewStatus()
                .addNewAddress("10.0.0.5", "InternalIP")
                .endStatus()
                .build())
        .create();
    Instant checkoutReady = Instant.now().minus(Duration.ofMinutes(10));
    client
        .pods()
        .inNamespace("shop")
        .resource(runningPod("checkout-a", "checkout", "node-1", "10.1.2.3", checkoutReady))
        .create();
    client
        .pods()
        .inNamespace("shop")
        .resource(runningPod("search-0", "search", "node-2", "10.1.9.9", checkoutReady))
        .create();

    try (LocalIdentityResolver resolver =
        KubernetesLocalIdentityResolver.start(
            client, "prod", "node-1", Duration.ofSeconds(30), Clock.systemUTC(), false)) {
      Identity checkout = resolver.identityOf(ip("10.1.2.3"), Instant.now()).orElseThrow();
      assertThat(checkout.getApp()).isEqualTo("checkout");
      assertThat(checkout.getInstanceId()).isEqualTo("checkout-a");
      assertThat(checkout.getNode()).isEqualTo("node-1");
      assertThat(checkout.getZone()).isEqualTo("eu-west-1a");
      assertThat(checkout.getCluster()).isEqualTo("prod");
      // Before its sandbox was ready, the IP was not known to be checkout's.
      assertThat(resolver.identityOf(ip("10.1.2.3"), checkoutReady.minusSeconds(60))).isEmpty();
      // Another node's pod is not this sidecar's business.
      assertThat(resolver.identityOf(ip("10.1.9.9"), Instant.now())).isEmpty();
      // The node's own address (host-network pods share it).
      assertThat(resolver.identityOf(ip("10.0.0.5"), Instant.now()).orElseThrow().getApp())
          .isEqualTo(KubernetesIdentities.NODE_APP);

      // The pod is deleted, and its IP reused on this node by another app.
      client.pods().inNamespace("shop").withName("checkout-a").delete();
      assertThat(await(resolver, "10.1.2.3", Instant.now().plusSeconds(1), Optional.empty()))
          .isEmpty();
      Instant paymentsReady = Instant.now().plusMillis(500);
      client
          .pods()
          .inNamespace("shop")
          .resource(runningPod("payments-b", "payments", "node-1", "10.1.2.3", paymentsReady))
          .create();
      assertThat(await(resolver, "10.1.2.3", paymentsReady.plusSeconds(1), Optional.of("payments")))
          .map(Identity::getInstanceId)
          .contains("payments-b");
      // A flow captured while checkout still held the IP is still checkout's.
      assertThat(resolver.identityOf(ip("10.1.2.3"), checkoutReady.plusSeconds(60)))
          .map(Identity::getApp)
          .contains("checkout");
    }
  }

  /** A clock the test moves forward. */
  private static final class MovableClock extends Clock {
    private volatile Instant now = Instant.now();

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  private static Optional<Identity> awaitPod(
      KubernetesLocalIdentityResolver resolver, String uid, Optional<String> instanceId)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Optional<Identity> found = resolver.podIdentity(uid);
    while (!found.map(Identity::getInstanceId).equals(instanceId) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      found = resolver.podIdentity(uid);
    }
    return found;
  }

  @Test
  void shouldNameThisNodesPodsByUidHostNetworkAndStaticPodsIncludedAndDeletedOnesAWhile()
      throws Exception {
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("node-1")
                .addToLabels(KubernetesIdentities.ZONE_LABEL, "eu-west-1a")
                .endMetadata()
                .withNewStatus()
                .addNewAddress("10.0.0.5", "InternalIP")
                .endStatus()
                .build())
        .create();
    Instant ready = Instant.now().minus(Duration.ofMinutes(10));
    Pod checkout = runningPod("checkout-a", "checkout", "node-1", "10.1.2.3", ready);
    checkout.getMetadata().setUid("3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b");
    Pod proxy = runningPod("kube-proxy-x", "kube-proxy", "node-1", "10.0.0.5", ready);
    proxy.getMetadata().setUid("0a1b2c3d-0000-4000-8000-000000000001");
    proxy.getSpec().setHostNetwork(true);
    Pod apiserver =
        runningPod("kube-apiserver-node-1", "kube-apiserver", "node-1", "10.0.0.5", ready);
    apiserver.getMetadata().setUid("0a1b2c3d-0000-4000-8000-000000000002");
    apiserver
        .getMetadata()
        .setAnnotations(
            java.util.Map.of(
                KubernetesLocalIdentityResolver.MIRROR_ANNOTATION,
                "8f2c0d6e3c1b4d0e9a7b6c5d4e3f2a1b"));
    apiserver.getSpec().setHostNetwork(true);
    Pod elsewhere = runningPod("search-0", "search", "node-2", "10.1.9.9", ready);
    // The API server gives each pod its uid.
    String checkoutUid =
        client.pods().inNamespace("shop").resource(checkout).create().getMetadata().getUid();
    String proxyUid =
        client.pods().inNamespace("shop").resource(proxy).create().getMetadata().getUid();
    String apiserverUid =
        client.pods().inNamespace("shop").resource(apiserver).create().getMetadata().getUid();
    String elsewhereUid =
        client.pods().inNamespace("shop").resource(elsewhere).create().getMetadata().getUid();
    MovableClock clock = new MovableClock();

    try (KubernetesLocalIdentityResolver resolver =
        KubernetesLocalIdentityResolver.start(
            client, "prod", "node-1", Duration.ofSeconds(30), clock, false)) {
      Identity byUid = resolver.podIdentity(checkoutUid).orElseThrow();
      assertThat(byUid.getInstanceId()).isEqualTo("checkout-a");
      assertThat(byUid.getApp()).isEqualTo("checkout");
      assertThat(byUid.getNamespace()).isEqualTo("shop");
      assertThat(byUid.getNode()).isEqualTo("node-1");
      assertThat(byUid.getZone()).isEqualTo("eu-west-1a");
      // The very identity its IP gets.
      assertThat(resolver.identityOf(ip("10.1.2.3"), clock.instant())).contains(byUid);
      // A host-network pod: named by uid, while its IP is the node's.
      assertThat(resolver.podIdentity(proxyUid.toUpperCase(java.util.Locale.ROOT)))
          .map(Identity::getInstanceId)
          .contains("kube-proxy-x");
      assertThat(resolver.identityOf(ip("10.0.0.5"), clock.instant()).orElseThrow().getApp())
          .isEqualTo(KubernetesIdentities.NODE_APP);
      // A static pod, by the kubelet's uid (its cgroup's) and by its mirror's.
      assertThat(resolver.podIdentity("8f2c0d6e3c1b4d0e9a7b6c5d4e3f2a1b"))
          .map(Identity::getInstanceId)
          .contains("kube-apiserver-node-1");
      assertThat(resolver.podIdentity(apiserverUid))
          .map(Identity::getInstanceId)
          .contains("kube-apiserver-node-1");
      // Another node's pod, and a pod never seen.
      assertThat(resolver.podIdentity(elsewhereUid)).isEmpty();
      assertThat(resolver.podIdentity("ffffffff-0000-4000-8000-000000000009")).isEmpty();

      // Deleted: still named for five minutes, then forgotten.
      client.pods().inNamespace("shop").withName("checkout-a").delete();
      assertThat(await(resolver, "10.1.2.3", clock.instant().plusSeconds(1), Optional.empty()))
          .isEmpty();
      clock.advance(Duration.ofMinutes(4));
      assertThat(resolver.podIdentity(checkoutUid)).contains(byUid);
      clock.advance(Duration.ofMinutes(2));
      assertThat(awaitPod(resolver, checkoutUid, Optional.empty())).isEmpty();
      assertThat(resolver.podIdentity(proxyUid)).isPresent();
    }
  }
}
