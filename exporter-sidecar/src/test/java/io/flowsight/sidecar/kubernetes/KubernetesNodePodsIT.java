package io.flowsight.sidecar.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.Identity;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import org.junit.jupiter.api.Test;

/**
 * The sidecar does not wait for the Kubernetes API: against fabric8's mock API server (CRUD mode)
 * that is not there at first, lookups answer nothing, and once it is up they name the pods.
 */
class KubernetesNodePodsIT {

  @Test
  void shouldAnswerNothingWhileTheApiIsAwayAndNameThePodsOnceItAnswers() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      port = free.getLocalPort();
    }
    KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder()
                    .withMasterUrl("http://127.0.0.1:" + port)
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
    KubernetesMockServer api = null;
    try (KubernetesNodePods pods =
        KubernetesNodePods.startInBackground(client, true, "lab", "node-1", false)) {
      Thread.sleep(1000);
      assertThat(pods.listed()).isFalse();
      assertThat(pods.pod("3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b")).isEmpty();
      assertThat(pods.localIdentity(IpAddresses.parse("10.1.2.3"))).isEmpty();

      // The API server comes up (on that port), with a pod of this node.
      api =
          new KubernetesMockServer(
              new Context(),
              new MockWebServer(),
              new HashMap<>(),
              new KubernetesMixedDispatcher(new HashMap<>()),
              false);
      api.init(InetAddress.getByName("127.0.0.1"), port);
      NamespacedKubernetesClient admin = api.createClient();
      admin
          .nodes()
          .resource(new NodeBuilder().withNewMetadata().withName("node-1").endMetadata().build())
          .create();
      String uid =
          admin
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
                      .withNodeName("node-1")
                      .endSpec()
                      .withNewStatus()
                      .withPhase("Running")
                      .addNewPodIP("10.1.2.3")
                      .endStatus()
                      .build())
              .create()
              .getMetadata()
              .getUid();
      admin.close();

      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (!pods.listed() && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(pods.listed()).as("listed once the API answers").isTrue();
      Identity pod = pods.pod(uid).orElseThrow();
      assertThat(pod.getInstanceId()).isEqualTo("checkout-a");
      assertThat(pod.getCluster()).isEqualTo("lab");
      assertThat(pods.localIdentity(IpAddresses.parse("10.1.2.3"))).contains(pod);
    } finally {
      if (api != null) {
        api.destroy();
      }
    }
  }
}
