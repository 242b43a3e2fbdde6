package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.flowsight.enrichment.IdentitySourceMain;
import io.flowsight.enrichment.source.IdentityChanges;
import io.flowsight.enrichment.source.kubernetes.KubernetesIdentitySource;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Kubernetes identity source as {@code deploy/kubernetes/} deploys it: the settings of its
 * ConfigMap read by its own parser (only the broker, registry and topic replaced by the test
 * stack's), run against fabric8's mock API server in CRUD mode and a real broker and registry.
 * Checks the exact events for the objects on the mock, and that the ClusterRole grants exactly the
 * (API group, resource, verb) of every request the source made: a new kind watched, or a get or a
 * write, fails here until the manifest says so.
 *
 * <p>The mock enforces neither RBAC (it answers every request; the check is done on the requests
 * recorded) nor field selectors (the whole-cluster source uses none).
 */
@ExtendWith(LocalStackExtension.class)
class KubernetesIdentitySourceManifestIT {

  private static final Instant CHECKOUT_READY = Instant.parse("2026-01-01T10:00:01Z");

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
  void shouldPublishTheClustersIdentitiesWithTheManifestsSettingsAndOnlyTheGrantedRequests(
      LocalStack stack) throws Exception {
    String topic = stack.createTopic("ip-identity-v1", 3);
    Map<String, String> env =
        new HashMap<>(KubernetesManifests.configMapEnv("flowsight-identity-source"));
    // The manifest's placeholders for the broker and registry, and a topic of this test's own.
    env.put("FLOWSIGHT_IDENTITY_BOOTSTRAP_SERVERS", stack.bootstrapServers());
    env.put("FLOWSIGHT_IDENTITY_REGISTRY_URL", stack.registryUrl());
    env.put("FLOWSIGHT_IDENTITY_TOPIC", topic);
    IdentitySourceMain.KubernetesSettings settings =
        IdentitySourceMain.kubernetesSettings(new String[0], env);
    String cluster = settings.source().cluster();
    assertThat(cluster).isEqualTo("prod");

    // The cluster before the source starts: a node, a running pod, a service.
    Node node =
        client
            .nodes()
            .resource(
                new NodeBuilder()
                    .withNewMetadata()
                    .withName("node-1")
                    .addToLabels("topology.kubernetes.io/zone", "eu-west-1a")
                    .addToLabels("topology.kubernetes.io/region", "eu-west-1")
                    .endMetadata()
                    .withNewStatus()
                    .addNewAddress("10.0.0.5", "InternalIP")
                    .endStatus()
                    .build())
            .create();
    Pod checkout = client.pods().inNamespace("shop").resource(pod()).create();
    client.pods().inNamespace("shop").resource(running(checkout)).updateStatus();
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
                    .withClusterIP("10.96.0.10")
                    .withClusterIPs("10.96.0.10")
                    .endSpec()
                    .build())
            .create();
    drainRequests(); // the test's own requests

    List<String> sourceRequests = new ArrayList<>();
    try (IdentityReader reader = new IdentityReader(stack, topic);
        KubernetesIdentitySource source =
            new KubernetesIdentitySource(
                client, settings.source(), settings.publisher(), Clock.systemUTC())) {
      source.start();
      List<IpIdentityChange> assigned = reader.next(3);
      assertThat(describe(assigned))
          .containsExactly(
              "ASSIGN 10.0.0.5 kubernetes-node node-1 " + created(node),
              "ASSIGN 10.1.2.3 checkout checkout-7d9f8b6c5-a " + CHECKOUT_READY,
              "ASSIGN 10.96.0.10 gateway gateway " + created(gateway));
      assertThat(assigned)
          .allSatisfy(
              e -> {
                assertThat(e.getSource()).isEqualTo("kubernetes");
                assertThat(e.getSourceInstance()).isEqualTo(cluster);
                assertThat(e.getIdentity().getCluster()).isEqualTo(cluster);
              });
      IpIdentityChange pod =
          assigned.stream()
              .filter(e -> e.getIdentity().getApp().equals("checkout"))
              .findFirst()
              .orElseThrow();
      assertThat(pod.getIdentity().getNamespace()).isEqualTo("shop");
      assertThat(pod.getIdentity().getWorkloadKind()).isEqualTo("Deployment");
      assertThat(pod.getIdentity().getNode()).isEqualTo("node-1");
      assertThat(pod.getIdentity().getZone()).isEqualTo("eu-west-1a");

      // Live: the pod is deleted, its IP withdrawn (through the watch).
      sourceRequests.addAll(drainRequests());
      client.pods().inNamespace("shop").withName("checkout-7d9f8b6c5-a").delete();
      assertThat(describe(reader.next(1)))
          .singleElement()
          .asString()
          .startsWith("UNASSIGN 10.1.2.3 checkout checkout-7d9f8b6c5-a ");
      List<String> after = drainRequests();
      // The test's own delete is not the source's.
      assertThat(after.remove("DELETE /api/v1/namespaces/shop/pods/checkout-7d9f8b6c5-a"))
          .as("the test's delete in %s", after)
          .isTrue();
      sourceRequests.addAll(after);
    }

    Set<String> used =
        sourceRequests.stream()
            .map(KubernetesIdentitySourceManifestIT::permission)
            .collect(Collectors.toCollection(TreeSet::new));
    ClusterRole role = KubernetesManifests.get(ClusterRole.class, "flowsight-identity-source");
    Set<String> granted = new TreeSet<>();
    role.getRules()
        .forEach(
            rule -> {
              assertThat(rule.getResourceNames()).as("resourceNames").isNullOrEmpty();
              assertThat(rule.getNonResourceURLs()).as("nonResourceURLs").isNullOrEmpty();
              for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                  for (String verb : rule.getVerbs()) {
                    granted.add(group + "/" + resource + ":" + verb);
                  }
                }
              }
            });
    assertThat(used)
        .isEqualTo(
            Set.of(
                "/nodes:list",
                "/nodes:watch",
                "/pods:list",
                "/pods:watch",
                "/services:list",
                "/services:watch"));
    assertThat(granted).as("ClusterRole rules").isEqualTo(used);
  }

  /** Every request the mock took since the last call, as "METHOD path" (query dropped). */
  private List<String> drainRequests() throws InterruptedException {
    List<String> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(200, TimeUnit.MILLISECONDS)) != null) {
      out.add(r.getMethod() + " " + r.getPath());
    }
    return out.stream()
        .map(s -> s.contains("?") && s.startsWith("DELETE") ? s.substring(0, s.indexOf('?')) : s)
        .collect(Collectors.toCollection(ArrayList::new));
  }

  /**
   * The RBAC permission a request needs, "group/resource:verb": a GET of a collection is list, or
   * watch with {@code watch=true}; a GET of one object is get; other methods are writes.
   */
  static String permission(String request) {
    String method = request.substring(0, request.indexOf(' '));
    URI uri = URI.create(request.substring(request.indexOf(' ') + 1));
    String[] p = uri.getPath().substring(1).split("/");
    // /api/v1/... (core, group "") or /apis/GROUP/VERSION/...
    int i = p[0].equals("api") ? 2 : 3;
    String group = p[0].equals("api") ? "" : p[1];
    if (p.length > i + 1 && p[i].equals("namespaces") && p.length > i + 2) {
      i += 2; // namespaced: /namespaces/NS/RESOURCE...
    }
    String resource = p[i];
    boolean one = p.length > i + 1;
    boolean watch = uri.getQuery() != null && uri.getQuery().contains("watch=true");
    String verb =
        switch (method) {
          case "GET" -> watch ? "watch" : one ? "get" : "list";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> one ? "delete" : "deletecollection";
          default -> method;
        };
    return group + "/" + resource + ":" + verb;
  }

  private static Instant created(io.fabric8.kubernetes.api.model.HasMetadata object) {
    return Instant.parse(object.getMetadata().getCreationTimestamp());
  }

  private static List<String> describe(List<IpIdentityChange> events) {
    return events.stream()
        .map(
            e ->
                e.getAction()
                    + " "
                    + IdentityChanges.targetOf(e)
                    + " "
                    + e.getIdentity().getApp()
                    + " "
                    + e.getIdentity().getInstanceId()
                    + " "
                    + e.getEventTime())
        .sorted()
        .toList();
  }

  private static Pod pod() {
    return new PodBuilder()
        .withNewMetadata()
        .withName("checkout-7d9f8b6c5-a")
        .withNamespace("shop")
        .addToLabels("app", "checkout")
        .addToLabels("pod-template-hash", "7d9f8b6c5")
        .addNewOwnerReference()
        .withApiVersion("apps/v1")
        .withKind("ReplicaSet")
        .withName("checkout-7d9f8b6c5")
        .withUid("rs-checkout")
        .withController(true)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-1")
        .addNewContainer()
        .withName("checkout")
        .withImage("checkout:1")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Pending")
        .endStatus()
        .build();
  }

  private static Pod running(Pod pod) {
    return new PodBuilder(pod)
        .editStatus()
        .withPhase("Running")
        .withPodIP("10.1.2.3")
        .addNewPodIP("10.1.2.3")
        .addNewCondition()
        .withType("PodReadyToStartContainers")
        .withStatus("True")
        .withLastTransitionTime(CHECKOUT_READY.toString())
        .endCondition()
        .endStatus()
        .build();
  }

  /** The identity topic read back through the registry serde, from its beginning. */
  private static final class IdentityReader implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final AvroDeserializer<IpIdentityChange> values;
    private final String topic;

    IdentityReader(LocalStack stack, String topic) {
      this.topic = topic;
      consumer =
          new KafkaConsumer<>(
              stack.consumerConfig(), new StringDeserializer(), new ByteArrayDeserializer());
      values =
          new AvroDeserializer<>(
              new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl())),
              IpIdentityChange.class);
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
    }

    /** Exactly {@code count} new events, and none more within 2 s. */
    List<IpIdentityChange> next(int count) {
      List<IpIdentityChange> events = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (events.size() < count && System.nanoTime() < deadline) {
        events.addAll(poll(Duration.ofMillis(200)));
      }
      events.addAll(poll(Duration.ofSeconds(2)));
      assertThat(events).as("events read from %s: %s", topic, describe(events)).hasSize(count);
      return events;
    }

    private List<IpIdentityChange> poll(Duration timeout) {
      List<IpIdentityChange> out = new ArrayList<>();
      for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
        IpIdentityChange change = values.deserialize(topic, record.value());
        assertThat(record.key()).isEqualTo(IdentityChanges.targetOf(change));
        out.add(change);
      }
      return out;
    }

    @Override
    public void close() {
      consumer.close();
    }
  }
}
