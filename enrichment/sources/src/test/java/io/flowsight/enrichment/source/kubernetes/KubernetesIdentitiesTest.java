package io.flowsight.enrichment.source.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.flowsight.enrichment.source.IdentityReconciler.Claim;
import io.flowsight.enrichment.source.kubernetes.KubernetesIdentities.NodeTopology;
import io.flowsight.schemas.Identity;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KubernetesIdentitiesTest {

  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  private static final NodeTopology ZONE_A = new NodeTopology("eu-west-1a", "eu-west-1");

  private static PodBuilder pod() {
    return new PodBuilder()
        .withNewMetadata()
        .withName("checkout-7d9f8b6c5-x2x7q")
        .withNamespace("shop")
        .withUid("uid-1")
        .addToLabels("pod-template-hash", "7d9f8b6c5")
        .addToLabels("app", "checkout")
        .addNewOwnerReference()
        .withKind("ReplicaSet")
        .withName("checkout-7d9f8b6c5")
        .withController(true)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-1")
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .addNewPodIP("10.1.2.3")
        .addNewPodIP("fd00:0:0:0:0:0:0:1")
        .addNewCondition()
        .withType("PodScheduled")
        .withStatus("True")
        .withLastTransitionTime("2026-01-01T09:59:58Z")
        .endCondition()
        .addNewCondition()
        .withType("PodReadyToStartContainers")
        .withStatus("True")
        .withLastTransitionTime("2026-01-01T10:00:01Z")
        .endCondition()
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .withLastTransitionTime("2026-01-01T10:00:05Z")
        .endCondition()
        .endStatus();
  }

  @Test
  void shouldNameAPodByItsDeploymentAndClaimAllItsIpsSinceItsSandboxWasReady() {
    Map<String, Claim> claims =
        KubernetesIdentities.podClaims(pod().build(), "prod", n -> ZONE_A, NOW);

    Identity expected =
        Identity.newBuilder()
            .setApp("checkout")
            .setCluster("prod")
            .setNamespace("shop")
            .setWorkloadKind("Deployment")
            .setWorkloadName("checkout")
            .setInstanceId("checkout-7d9f8b6c5-x2x7q")
            .setNode("node-1")
            .setZone("eu-west-1a")
            .setRegion("eu-west-1")
            .setLabels(Map.of())
            .build();
    Claim claim = new Claim(expected, Instant.parse("2026-01-01T10:00:01Z"));
    assertThat(claims).containsExactly(Map.entry("10.1.2.3", claim), Map.entry("fd00::1", claim));
  }

  @Test
  void shouldPreferTheRecommendedNameLabelAndFallBackToTheWorkloadName() {
    Pod named =
        pod()
            .editMetadata()
            .addToLabels("app.kubernetes.io/name", "checkout-web")
            .endMetadata()
            .build();
    assertThat(KubernetesIdentities.podIdentity(named, "prod", ZONE_A).getApp())
        .isEqualTo("checkout-web");

    Pod unlabelled =
        new PodBuilder(pod().build())
            .editMetadata()
            .withLabels(Map.of())
            .withOwnerReferences()
            .addNewOwnerReference()
            .withKind("StatefulSet")
            .withName("search")
            .withController(true)
            .endOwnerReference()
            .endMetadata()
            .build();
    Identity identity = KubernetesIdentities.podIdentity(unlabelled, "prod", NodeTopology.UNKNOWN);
    assertThat(identity.getApp()).isEqualTo("search");
    assertThat(identity.getWorkloadKind()).isEqualTo("StatefulSet");
    assertThat(identity.getZone()).isNull();

    Pod bare =
        new PodBuilder(unlabelled).editMetadata().withOwnerReferences().endMetadata().build();
    assertThat(KubernetesIdentities.podIdentity(bare, "prod", ZONE_A).getWorkloadKind())
        .isEqualTo("Pod");
    assertThat(KubernetesIdentities.podIdentity(bare, "prod", ZONE_A).getApp())
        .isEqualTo("checkout-7d9f8b6c5-x2x7q");
  }

  @Test
  void shouldClaimNothingForHostNetworkOrFinishedPods() {
    assertThat(
            KubernetesIdentities.podClaims(
                pod().editSpec().withHostNetwork(true).endSpec().build(), "prod", n -> ZONE_A, NOW))
        .isEmpty();
    assertThat(
            KubernetesIdentities.podClaims(
                pod().editStatus().withPhase("Succeeded").endStatus().build(),
                "prod",
                n -> ZONE_A,
                NOW))
        .isEmpty();
    Pod pending =
        pod().editStatus().withConditions().withPodIPs().withPodIP("10.1.2.9").endStatus().build();
    assertThat(KubernetesIdentities.podClaims(pending, "prod", n -> ZONE_A, NOW))
        .containsOnlyKeys("10.1.2.9")
        .allSatisfy((ip, claim) -> assertThat(claim.since()).isEqualTo(NOW));
  }

  @Test
  void shouldClaimAServicesClusterIpsSinceCreationAndLoadBalancerIpsSinceSeen() {
    Service service =
        new ServiceBuilder()
            .withNewMetadata()
            .withName("gateway")
            .withNamespace("edge")
            .withUid("svc-1")
            .withCreationTimestamp("2026-01-01T08:00:00Z")
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .withClusterIPs("10.96.0.10", "fd00:96::a")
            .endSpec()
            .withNewStatus()
            .withNewLoadBalancer()
            .addNewIngress()
            .withIp("192.0.2.10")
            .endIngress()
            .addNewIngress()
            .withHostname("lb.example.com")
            .endIngress()
            .endLoadBalancer()
            .endStatus()
            .build();

    Identity identity =
        Identity.newBuilder()
            .setApp("gateway")
            .setCluster("prod")
            .setNamespace("edge")
            .setWorkloadKind("Service")
            .setWorkloadName("gateway")
            .setInstanceId("gateway")
            .setLabels(Map.of())
            .build();
    Instant created = Instant.parse("2026-01-01T08:00:00Z");
    assertThat(KubernetesIdentities.serviceClaims(service, "prod", NOW))
        .containsExactly(
            Map.entry("10.96.0.10", new Claim(identity, created)),
            Map.entry("fd00:96::a", new Claim(identity, created)),
            Map.entry("192.0.2.10", new Claim(identity, NOW)));

    Service headless =
        new ServiceBuilder(service)
            .editSpec()
            .withClusterIPs("None")
            .withType("ClusterIP")
            .endSpec()
            .withNewStatus()
            .endStatus()
            .build();
    assertThat(KubernetesIdentities.serviceClaims(headless, "prod", NOW)).isEmpty();
  }

  @Test
  void shouldClaimANodesInternalAndExternalAddresses() {
    Node node =
        new NodeBuilder()
            .withNewMetadata()
            .withName("node-1")
            .withUid("n-1")
            .withCreationTimestamp("2025-12-01T00:00:00Z")
            .addToLabels(KubernetesIdentities.ZONE_LABEL, "eu-west-1a")
            .addToLabels(KubernetesIdentities.REGION_LABEL, "eu-west-1")
            .endMetadata()
            .withNewStatus()
            .addNewAddress("10.0.0.5", "InternalIP")
            .addNewAddress("203.0.113.5", "ExternalIP")
            .addNewAddress("node-1", "Hostname")
            .endStatus()
            .build();

    Map<String, Claim> claims = KubernetesIdentities.nodeClaims(node, "prod", NOW);

    assertThat(claims).containsOnlyKeys("10.0.0.5", "203.0.113.5");
    Claim claim = claims.get("10.0.0.5");
    assertThat(claim.since()).isEqualTo(Instant.parse("2025-12-01T00:00:00Z"));
    assertThat(claim.identity().getApp()).isEqualTo(KubernetesIdentities.NODE_APP);
    assertThat(claim.identity().getInstanceId()).isEqualTo("node-1");
    assertThat(claim.identity().getZone()).isEqualTo("eu-west-1a");
    assertThat(NodeTopology.of(node)).isEqualTo(ZONE_A);
  }
}
