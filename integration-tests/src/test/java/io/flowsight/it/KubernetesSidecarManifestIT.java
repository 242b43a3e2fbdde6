package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.kubernetes.KubernetesNodePods;
import io.flowsight.sidecar.kubernetes.NodePods;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sidecar's Kubernetes watch as {@code deploy/kubernetes/} deploys it (its node and cluster
 * from the DaemonSet and ConfigMap, read by its own parser), against fabric8's mock API server in
 * CRUD mode: the ClusterRole {@code flowsight-sidecar} grants exactly the (API group, resource,
 * verb) of every request the sidecar made. The mock enforces no RBAC (the check is on the recorded
 * requests) and no {@code spec.nodeName} field selector (the watch filters by node itself here).
 */
class KubernetesSidecarManifestIT {

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

  @Test
  void shouldNameItsNodesPodsWithExactlyTheRequestsItsClusterRoleGrants() throws Exception {
    SidecarConfig config = KubernetesManifestsTest.sidecarConfigForTests();
    String node = config.kubernetesNode();
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(node)
                .endMetadata()
                .withNewStatus()
                .addNewAddress("10.0.0.7", "InternalIP")
                .endStatus()
                .build())
        .create();
    String uid =
        client
            .pods()
            .inNamespace("shop")
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("checkout-a")
                    .withNamespace("shop")
                    .addToLabels("app", "checkout")
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName(node)
                    .endSpec()
                    .withNewStatus()
                    .withPhase("Running")
                    .addNewPodIP("10.1.2.3")
                    .addNewCondition()
                    .withType("PodReadyToStartContainers")
                    .withStatus("True")
                    .withLastTransitionTime(Instant.now().minusSeconds(60).toString())
                    .endCondition()
                    .endStatus()
                    .build())
            .create()
            .getMetadata()
            .getUid();
    drainRequests(); // the test's own

    List<String> sidecarRequests = new ArrayList<>();
    try (NodePods pods =
        KubernetesNodePods.start(
            client, config.kubernetesCluster(), node, Duration.ofSeconds(30), false)) {
      Identity pod = pods.pod(uid).orElseThrow();
      assertThat(pod.getInstanceId()).isEqualTo("checkout-a");
      assertThat(pod.getCluster()).isEqualTo(config.kubernetesCluster());
      assertThat(pods.localIdentity(IpAddresses.parse("10.1.2.3"))).contains(pod);
      assertThat(pods.localIdentity(IpAddresses.parse("10.0.0.7")).map(Identity::getInstanceId))
          .contains(node);
      sidecarRequests.addAll(drainRequests());

      // A change while watching: the watch's own requests only.
      client.pods().inNamespace("shop").withName("checkout-a").delete();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (pods.localIdentity(IpAddresses.parse("10.1.2.3")).isPresent()
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(pods.localIdentity(IpAddresses.parse("10.1.2.3"))).isEqualTo(Optional.empty());
      List<String> after = drainRequests();
      assertThat(after.removeIf(r -> r.startsWith("DELETE /api/v1/namespaces/shop/pods/")))
          .as("the test's delete in %s", after)
          .isTrue();
      sidecarRequests.addAll(after);
    }

    Set<String> used =
        sidecarRequests.stream()
            .map(KubernetesIdentitySourceManifestIT::permission)
            .collect(Collectors.toCollection(TreeSet::new));
    ClusterRole role = KubernetesManifests.get(ClusterRole.class, "flowsight-sidecar");
    Set<String> granted = new TreeSet<>();
    role.getRules()
        .forEach(
            rule -> {
              for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                  for (String verb : rule.getVerbs()) {
                    granted.add(group + "/" + resource + ":" + verb);
                  }
                }
              }
            });
    assertThat(used).isEqualTo(Set.of("/nodes:list", "/nodes:watch", "/pods:list", "/pods:watch"));
    assertThat(granted).as("ClusterRole rules").isEqualTo(used);
    // Only its own node is asked for.
    assertThat(sidecarRequests)
        .filteredOn(r -> r.contains("/nodes"))
        .allSatisfy(r -> assertThat(r).contains("fieldSelector=metadata.name%3D" + node));
  }

  /** Every request the mock took since the last call, as "METHOD path". */
  private List<String> drainRequests() throws InterruptedException {
    List<String> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(200, TimeUnit.MILLISECONDS)) != null) {
      out.add(r.getMethod() + " " + r.getPath());
    }
    return out;
  }
}
