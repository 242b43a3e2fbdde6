package io.flowsight.enrichment.source.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.flowsight.enrichment.source.IdentityReconciler;
import io.flowsight.enrichment.source.KafkaIdentityPublisher;
import io.flowsight.enrichment.source.PublishedStateReader;
import io.flowsight.enrichment.source.PublisherConfig;
import io.flowsight.schemas.Identity;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Publishes the IPs of a Kubernetes cluster's pods, services and nodes to the identity topic.
 *
 * <p><b>Restart-safe, by reading the topic back</b>: at start it reads what this cluster's source
 * published before ({@link PublishedStateReader}), lists the cluster, publishes only the
 * differences (new IPs: ASSIGN with the object's own time; IPs of objects deleted while the source
 * was down: UNASSIGN at the restart), then follows watch events. A restart with nothing changed
 * publishes nothing. (Re-publishing every ASSIGN would be harmless to the ownership histories,
 * which treat a repeated event as one, but it would never withdraw what was deleted meanwhile, and
 * would flood the topic at every restart.)
 */
public final class KubernetesIdentitySource implements AutoCloseable {

  public static final String SOURCE = "kubernetes";

  private final KubernetesClient client;
  private final KubernetesSourceConfig config;
  private final PublisherConfig publisherConfig;
  private final Clock clock;
  private KafkaIdentityPublisher publisher;
  private IdentityReconciler reconciler;
  private KubernetesIdentityWatcher watcher;
  private PublishedStateReader.PublishedState readBack;

  public KubernetesIdentitySource(
      KubernetesClient client,
      KubernetesSourceConfig config,
      PublisherConfig publisherConfig,
      Clock clock) {
    this.client = client;
    this.config = config;
    this.publisherConfig = publisherConfig;
    this.clock = clock;
  }

  /** Reads back, lists the cluster, publishes the differences; then events follow. */
  public void start() {
    readBack = PublishedStateReader.read(publisherConfig, SOURCE, config.cluster());
    Map<String, Set<Identity>> published = readBack.published();
    publisher = new KafkaIdentityPublisher(publisherConfig, "flowsight-identity-kubernetes");
    reconciler = new IdentityReconciler(SOURCE, config.cluster(), publisher, published);
    watcher =
        new KubernetesIdentityWatcher(
            client,
            new KubernetesIdentityWatcher.Options(
                config.cluster(),
                config.nodeName(),
                config.services(),
                config.nodes(),
                config.resync()),
            reconciler,
            clock);
    watcher.start(config.startTimeout());
  }

  /** Why the source cannot go on (a publish failed), if it cannot. */
  public Optional<RuntimeException> failure() {
    return watcher == null ? Optional.empty() : watcher.failure();
  }

  /** What the start-up read back from the topic (null before {@link #start}). */
  public PublishedStateReader.PublishedState readBack() {
    return readBack;
  }

  /** Events published by this run. */
  public long eventsPublished() {
    return reconciler == null ? 0 : reconciler.eventsPublished();
  }

  @Override
  public void close() {
    if (watcher != null) {
      watcher.close();
    }
    if (publisher != null) {
      publisher.close();
    }
  }
}
