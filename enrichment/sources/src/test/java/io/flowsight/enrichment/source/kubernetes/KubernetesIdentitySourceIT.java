package io.flowsight.enrichment.source.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.flowsight.enrichment.source.IdentityChanges;
import io.flowsight.enrichment.source.PublisherConfig;
import io.flowsight.enrichment.source.TopicReader;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Kubernetes source against fabric8's mock API server in CRUD mode (a real API server cannot
 * run here) and a real broker and registry: a scripted lifecycle must publish exactly the expected
 * events, read back through the registry serde.
 */
@ExtendWith(LocalStackExtension.class)
class KubernetesIdentitySourceIT {

  private static final String CLUSTER = "it-cluster";
  private static final Instant CHECKOUT_READY = Instant.parse("2026-01-01T10:00:01Z");
  private static final Instant PAYMENTS_READY = Instant.parse("2026-01-01T10:30:02Z");

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

  private KubernetesIdentitySource startSource(LocalStack stack, String topic) {
    KubernetesIdentitySource source =
        new KubernetesIdentitySource(
            client,
            new KubernetesSourceConfig(
                CLUSTER,
                null,
                null,
                null,
                true,
                true,
                Duration.ofSeconds(1),
                Duration.ofSeconds(30)),
            new PublisherConfig(stack.bootstrapServers(), stack.registryUrl(), topic),
            Clock.systemUTC());
    source.start();
    return source;
  }

  @Test
  void shouldPublishExactlyTheLifecycleOfPodsServicesAndNodesAcrossRestarts(LocalStack stack)
      throws Exception {
    String topic = stack.createTopic("ip-identity-v1", 3);
    Node node =
        client
            .nodes()
            .resource(
                new NodeBuilder()
                    .withNewMetadata()
                    .withName("node-1")
                    .addToLabels(KubernetesIdentities.ZONE_LABEL, "eu-west-1a")
                    .addToLabels(KubernetesIdentities.REGION_LABEL, "eu-west-1")
                    .endMetadata()
                    .withNewStatus()
                    .addNewAddress("10.0.0.5", "InternalIP")
                    .addNewAddress("node-1", "Hostname")
                    .endStatus()
                    .build())
            .create();
    Instant nodeCreated = Instant.parse(node.getMetadata().getCreationTimestamp());

    try (TopicReader topicReader = new TopicReader(stack, topic)) {
      // 1. First start: the node's address, since the node was created.
      KubernetesIdentitySource source = startSource(stack, topic);
      assertThat(TopicReader.describe(topicReader.next(1)))
          .containsExactly("ASSIGN 10.0.0.5 kubernetes-node node-1 " + nodeCreated);

      // 2. A pod is created: no IP yet, nothing to publish.
      Pod checkout =
          client.pods().inNamespace("shop").resource(pod("checkout", "7d9f8b6c5", "a")).create();
      // 3. It gets its IPs (status update): ASSIGN both, since its sandbox was ready.
      client
          .pods()
          .inNamespace("shop")
          .resource(running(checkout, CHECKOUT_READY, "10.1.2.3", "fd00::3"))
          .updateStatus();
      List<IpIdentityChange> assigned = topicReader.next(2);
      assertThat(TopicReader.describe(assigned))
          .containsExactly(
              "ASSIGN 10.1.2.3 checkout checkout-7d9f8b6c5-a " + CHECKOUT_READY,
              "ASSIGN fd00::3 checkout checkout-7d9f8b6c5-a " + CHECKOUT_READY);
      IpIdentityChange first = assigned.get(0);
      assertThat(first.getIdentity())
          .isEqualTo(
              Identity.newBuilder()
                  .setApp("checkout")
                  .setCluster(CLUSTER)
                  .setNamespace("shop")
                  .setWorkloadKind("Deployment")
                  .setWorkloadName("checkout")
                  .setInstanceId("checkout-7d9f8b6c5-a")
                  .setNode("node-1")
                  .setZone("eu-west-1a")
                  .setRegion("eu-west-1")
                  .setLabels(Map.of())
                  .build());
      assertThat(first.getSource()).isEqualTo("kubernetes");
      assertThat(first.getSourceInstance()).isEqualTo(CLUSTER);
      assertThat(first.getPrefixLength()).isNull();

      // 4. A LoadBalancer service: its cluster IP since creation, then its load balancer IP.
      Service gateway =
          client
              .services()
              .inNamespace("edge")
              .resource(
                  new ServiceBuilder()
                      .withNewMetadata()
                      .withName("gateway")
                      .addToLabels("app.kubernetes.io/name", "gateway")
                      .endMetadata()
                      .withNewSpec()
                      .withType("LoadBalancer")
                      .withClusterIP("10.96.0.10")
                      .withClusterIPs("10.96.0.10")
                      .endSpec()
                      .build())
              .create();
      Instant serviceCreated = Instant.parse(gateway.getMetadata().getCreationTimestamp());
      assertThat(TopicReader.describe(topicReader.next(1)))
          .containsExactly("ASSIGN 10.96.0.10 gateway gateway " + serviceCreated);
      Instant beforeLb = Instant.now();
      client
          .services()
          .inNamespace("edge")
          .resource(
              new ServiceBuilder(client.services().inNamespace("edge").withName("gateway").get())
                  .withNewStatus()
                  .withNewLoadBalancer()
                  .addNewIngress()
                  .withIp("192.0.2.10")
                  .endIngress()
                  .endLoadBalancer()
                  .endStatus()
                  .build())
          .updateStatus();
      IpIdentityChange lb = topicReader.next(1).get(0);
      assertThat(lb.getAction()).isEqualTo(IdentityAction.ASSIGN);
      assertThat(IdentityChanges.targetOf(lb)).isEqualTo("192.0.2.10");
      assertThat(lb.getEventTime()).isBetween(beforeLb.minusMillis(1), Instant.now());

      // 5. Restart in the middle, nothing changed: nothing is published, not even after resyncs.
      source.close();
      source = startSource(stack, topic);
      Thread.sleep(2_500); // two informer resyncs (1 s)
      topicReader.next(0);

      // 6. The pod is deleted: both its IPs are withdrawn, at the time the deletion was seen.
      Instant beforeDelete = Instant.now();
      client.pods().inNamespace("shop").withName("checkout-7d9f8b6c5-a").delete();
      List<IpIdentityChange> withdrawn = topicReader.next(2);
      Instant afterDelete = Instant.now();
      assertThat(withdrawn)
          .extracting(e -> e.getAction() + " " + IdentityChanges.targetOf(e))
          .containsExactlyInAnyOrder("UNASSIGN 10.1.2.3", "UNASSIGN fd00::3");
      assertThat(withdrawn)
          .allSatisfy(
              e -> {
                assertThat(e.getIdentity()).isEqualTo(first.getIdentity());
                assertThat(e.getEventTime()).isBetween(beforeDelete, afterDelete);
              });

      // 7. The IP is reused by a pod of another app.
      Pod payments =
          client.pods().inNamespace("shop").resource(pod("payments", "5f6d7c8b9", "b")).create();
      client
          .pods()
          .inNamespace("shop")
          .resource(running(payments, PAYMENTS_READY, "10.1.2.3"))
          .updateStatus();
      assertThat(TopicReader.describe(topicReader.next(1)))
          .containsExactly("ASSIGN 10.1.2.3 payments payments-5f6d7c8b9-b " + PAYMENTS_READY);

      // 8. Restart with a change while down: the service was deleted. Exactly its two IPs are
      //    withdrawn, at the restart (the deletion time itself was not seen).
      source.close();
      client.services().inNamespace("edge").withName("gateway").delete();
      Instant beforeRestart = Instant.now();
      source = startSource(stack, topic);
      List<IpIdentityChange> gone = topicReader.next(2);
      assertThat(gone)
          .extracting(
              e ->
                  e.getAction()
                      + " "
                      + IdentityChanges.targetOf(e)
                      + " "
                      + e.getIdentity().getApp())
          .containsExactlyInAnyOrder("UNASSIGN 10.96.0.10 gateway", "UNASSIGN 192.0.2.10 gateway");
      assertThat(gone)
          .allSatisfy(e -> assertThat(e.getEventTime()).isBetween(beforeRestart, Instant.now()));
      Thread.sleep(1_500);
      topicReader.next(0);
      assertThat(source.eventsPublished()).isEqualTo(2);
      source.close();
    }
  }

  private static Pod pod(String app, String hash, String suffix) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(app + "-" + hash + "-" + suffix)
        .withNamespace("shop")
        .addToLabels("app", app)
        .addToLabels("pod-template-hash", hash)
        .addNewOwnerReference()
        .withApiVersion("apps/v1")
        .withKind("ReplicaSet")
        .withName(app + "-" + hash)
        .withUid("rs-" + app)
        .withController(true)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-1")
        .addNewContainer()
        .withName(app)
        .withImage(app + ":1")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Pending")
        .endStatus()
        .build();
  }

  private static Pod running(Pod pod, Instant ready, String... ips) {
    PodBuilder b =
        new PodBuilder(pod)
            .editStatus()
            .withPhase("Running")
            .withPodIP(ips[0])
            .addNewCondition()
            .withType("PodReadyToStartContainers")
            .withStatus("True")
            .withLastTransitionTime(ready.toString())
            .endCondition()
            .endStatus();
    for (String ip : ips) {
      b.editStatus().addNewPodIP(ip).endStatus();
    }
    return b.build();
  }
}
