package io.flowsight.enrichment.source.kubernetes;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.flowsight.enrichment.source.IdentityReconciler;
import io.flowsight.enrichment.source.IdentitySourceException;
import io.flowsight.enrichment.source.kubernetes.KubernetesIdentities.NodeTopology;
import io.flowsight.schemas.Identity;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches pods, services and nodes with fabric8 informers and hands every object's current claims
 * to an {@link IdentityReconciler}, which publishes only what changed. Used cluster-wide by the
 * identity source and, limited to one node's pods ({@code spec.nodeName}), by the sidecar's
 * resolver.
 *
 * <p>Start-up order: nodes first (so pods are named with their zone from the first event), then
 * services and pods; when all have listed, {@link IdentityReconciler#finishInitialSync} withdraws
 * what disappeared while nothing watched. Informer resyncs and relists re-deliver objects: the
 * reconciler finds their claims unchanged and publishes nothing.
 */
public final class KubernetesIdentityWatcher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KubernetesIdentityWatcher.class);

  private static final String BY_NODE = "byNode";

  /**
   * What to watch.
   *
   * @param cluster the cluster's name (every identity's cluster field)
   * @param nodeName only this node's pods (and this node), or null for the whole cluster
   * @param services whether to publish services' cluster and load balancer IPs
   * @param nodes whether to publish nodes' addresses
   * @param resync informer resync period (0: none)
   * @param nodeFieldSelector with a nodeName, whether the API server filters pods (field selector
   *     {@code spec.nodeName}); pods of other nodes are always ignored here too. True but in tests:
   *     fabric8's mock API server does not implement that selector.
   */
  public record Options(
      String cluster,
      String nodeName,
      boolean services,
      boolean nodes,
      Duration resync,
      boolean nodeFieldSelector) {
    public Options {
      Objects.requireNonNull(cluster, "cluster");
      Objects.requireNonNull(resync, "resync");
    }

    public Options(
        String cluster, String nodeName, boolean services, boolean nodes, Duration resync) {
      this(cluster, nodeName, services, nodes, resync, true);
    }
  }

  /**
   * Told of every pod of the watched node(s) with its identity, as it changes and when it is gone:
   * for lookups by pod (the sidecar's pod of a socket) rather than by IP. Called on the informers'
   * threads.
   */
  public interface PodListener {
    PodListener NONE =
        new PodListener() {
          @Override
          public void podChanged(Pod pod, Identity identity) {}

          @Override
          public void podGone(Pod pod) {}
        };

    /** The pod is (still) on a watched node, with this identity (its node's zone included). */
    void podChanged(Pod pod, Identity identity);

    /** The pod was deleted, or is not on a watched node (any more). */
    void podGone(Pod pod);
  }

  private final KubernetesClient client;
  private final Options options;
  private final PodListener podListener;
  private final IdentityReconciler reconciler;
  private final Clock clock;
  private final Map<String, NodeTopology> topologies = new ConcurrentHashMap<>();
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
  private volatile SharedIndexInformer<Pod> pods;

  public KubernetesIdentityWatcher(
      KubernetesClient client, Options options, IdentityReconciler reconciler, Clock clock) {
    this(client, options, reconciler, clock, PodListener.NONE);
  }

  public KubernetesIdentityWatcher(
      KubernetesClient client,
      Options options,
      IdentityReconciler reconciler,
      Clock clock,
      PodListener podListener) {
    this.client = client;
    this.options = options;
    this.podListener = Objects.requireNonNull(podListener, "podListener");
    this.reconciler = reconciler;
    this.clock = clock;
  }

  /**
   * Starts the informers and waits until each has listed its objects and their claims are
   * published.
   *
   * @throws IdentitySourceException when the API server does not answer within {@code timeout}
   */
  public void start(Duration timeout) {
    long resync = options.resync().toMillis();
    SharedIndexInformer<Node> nodeInformer =
        (options.nodeName() == null
                ? client.nodes()
                : client.nodes().withField("metadata.name", options.nodeName()))
            .runnableInformer(resync);
    nodeInformer.addEventHandler(handler(nodeInformer, this::onNode, this::onNodeDeleted));
    informers.add(nodeInformer);
    await(nodeInformer.start(), "nodes", timeout);
    // Handlers are called asynchronously: take the listed state from the store itself, so that
    // pods are named with their node's zone from the first event on.
    nodeInformer.getStore().list().forEach(n -> guarded(() -> onNode(n)));

    SharedIndexInformer<Service> serviceInformer = null;
    if (options.services() && options.nodeName() == null) {
      serviceInformer = client.services().inAnyNamespace().runnableInformer(resync);
      serviceInformer.addEventHandler(
          handler(serviceInformer, this::onService, this::onServiceDeleted));
      informers.add(serviceInformer);
    }
    SharedIndexInformer<Pod> podInformer =
        (options.nodeName() == null || !options.nodeFieldSelector()
                ? client.pods().inAnyNamespace()
                : client.pods().inAnyNamespace().withField("spec.nodeName", options.nodeName()))
            .runnableInformer(resync);
    podInformer.addIndexers(Map.of(BY_NODE, p -> List.of(String.valueOf(nodeNameOf(p)))));
    podInformer.addEventHandler(handler(podInformer, this::onPod, this::onPodDeleted));
    informers.add(podInformer);
    pods = podInformer;
    CompletionStage<Void> podsListed = podInformer.start();
    if (serviceInformer != null) {
      await(serviceInformer.start(), "services", timeout);
      serviceInformer.getStore().list().forEach(s -> guarded(() -> onService(s)));
    }
    await(podsListed, "pods", timeout);
    podInformer.getStore().list().forEach(p -> guarded(() -> onPod(p)));
    // Everything listed is reconciled: what was published before and is gone now is withdrawn.
    rethrowFailure();
    reconciler.finishInitialSync(clock.instant());
    log.info(
        "watching {} in cluster {}: {} pods, {} nodes{}",
        options.nodeName() == null ? "all nodes" : "node " + options.nodeName(),
        options.cluster(),
        podInformer.getStore().list().size(),
        nodeInformer.getStore().list().size(),
        serviceInformer == null
            ? ""
            : ", " + serviceInformer.getStore().list().size() + " services");
  }

  /** The first error a handler met (a publish that failed), if any: the watcher cannot go on. */
  public Optional<RuntimeException> failure() {
    return Optional.ofNullable(failure.get());
  }

  private void rethrowFailure() {
    RuntimeException e = failure.get();
    if (e != null) {
      throw e;
    }
  }

  // ---- handlers -------------------------------------------------------------------------------

  private void onNode(Node node) {
    String name = node.getMetadata().getName();
    if (!ours(name)) {
      return;
    }
    NodeTopology topology = NodeTopology.of(node);
    NodeTopology before = topologies.put(name, topology);
    if (options.nodes()) {
      reconciler.update(
          key(node),
          KubernetesIdentities.nodeClaims(node, options.cluster(), clock.instant()),
          clock.instant());
    }
    SharedIndexInformer<Pod> podInformer = pods;
    if (before != null && !before.equals(topology) && podInformer != null) {
      // The node's zone or region changed: its pods' identities change with it.
      for (Pod pod : podInformer.getIndexer().byIndex(BY_NODE, name)) {
        onPod(pod);
      }
    }
  }

  private void onNodeDeleted(Node node) {
    topologies.remove(node.getMetadata().getName());
    reconciler.remove(key(node), clock.instant());
  }

  private void onService(Service service) {
    reconciler.update(
        key(service),
        KubernetesIdentities.serviceClaims(service, options.cluster(), clock.instant()),
        clock.instant());
  }

  private void onServiceDeleted(Service service) {
    reconciler.remove(key(service), clock.instant());
  }

  private void onPod(Pod pod) {
    if (!ours(nodeNameOf(pod))) {
      // Not on the watched node (yet): an API server that ignores the field selector, or a pod
      // not scheduled yet.
      podListener.podGone(pod);
      reconciler.remove(key(pod), clock.instant());
      return;
    }
    reconciler.update(
        key(pod),
        KubernetesIdentities.podClaims(
            pod,
            options.cluster(),
            name -> topologies.getOrDefault(name, NodeTopology.UNKNOWN),
            clock.instant()),
        clock.instant());
    String nodeName = nodeNameOf(pod);
    podListener.podChanged(
        pod,
        KubernetesIdentities.podIdentity(
            pod,
            options.cluster(),
            nodeName == null
                ? NodeTopology.UNKNOWN
                : topologies.getOrDefault(nodeName, NodeTopology.UNKNOWN)));
  }

  private void onPodDeleted(Pod pod) {
    // The pod listener first: once the pod's IPs are withdrawn, its uid is marked deleted too.
    podListener.podGone(pod);
    reconciler.remove(key(pod), clock.instant());
  }

  private boolean ours(String nodeName) {
    return options.nodeName() == null || options.nodeName().equals(nodeName);
  }

  private static String nodeNameOf(Pod pod) {
    return pod.getSpec() == null ? null : pod.getSpec().getNodeName();
  }

  /** The reconciler's key of an object: kind and uid (a re-created object is a new one). */
  private static String key(HasMetadata object) {
    String uid = object.getMetadata().getUid();
    return object.getKind()
        + "/"
        + (uid != null
            ? uid
            : object.getMetadata().getNamespace() + "/" + object.getMetadata().getName());
  }

  /**
   * Event handlers that always reconcile the store's latest version of an object, never the
   * (possibly older) one the event carried: events are delivered asynchronously, after the start-up
   * pass may already have applied a newer version.
   */
  private <T extends HasMetadata> ResourceEventHandler<T> handler(
      SharedIndexInformer<T> informer, Consumer<T> upsert, Consumer<T> delete) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T object) {
        guarded(() -> latest(informer, object).ifPresent(upsert));
      }

      @Override
      public void onUpdate(T before, T after) {
        guarded(() -> latest(informer, after).ifPresent(upsert));
      }

      @Override
      public void onDelete(T object, boolean finalStateUnknown) {
        guarded(() -> delete.accept(object));
      }
    };
  }

  private static <T extends HasMetadata> Optional<T> latest(
      SharedIndexInformer<T> informer, T object) {
    T current = informer.getStore().get(object);
    if (current == null
        || !Objects.equals(current.getMetadata().getUid(), object.getMetadata().getUid())) {
      return Optional.empty(); // deleted (or re-created) since: its delete event follows
    }
    return Optional.of(current);
  }

  private void guarded(Runnable action) {
    if (failure.get() != null) {
      return; // already failed: publish nothing more, the owner stops the watcher
    }
    try {
      action.run();
    } catch (RuntimeException e) {
      log.error("cannot publish an identity change: {}", e.toString(), e);
      failure.compareAndSet(null, e);
    }
  }

  private static void await(CompletionStage<Void> listed, String what, Duration timeout) {
    try {
      listed.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IdentitySourceException(
          "the Kubernetes API did not list " + what + " within " + timeout, e);
    } catch (ExecutionException e) {
      throw new IdentitySourceException(
          "cannot watch " + what + " on the Kubernetes API: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IdentitySourceException("interrupted while listing " + what, e);
    }
  }

  @Override
  public void close() {
    for (SharedIndexInformer<?> informer : informers) {
      informer.close();
    }
    informers.clear();
  }
}
