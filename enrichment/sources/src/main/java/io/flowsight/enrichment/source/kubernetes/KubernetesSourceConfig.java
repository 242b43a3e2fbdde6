package io.flowsight.enrichment.source.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.flowsight.settings.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of the Kubernetes identity source.
 *
 * @param cluster the cluster's name: every identity's cluster field and the events' sourceInstance;
 *     flag {@code --cluster}, environment {@code FLOWSIGHT_IDENTITY_CLUSTER}; required
 * @param kubeconfig a kubeconfig file; flag {@code --kubeconfig}; null: in-cluster service account,
 *     else {@code $KUBECONFIG} or {@code ~/.kube/config}
 * @param context the kubeconfig context; flag {@code --context}; null: the current one
 * @param nodeName only this node's pods; flag {@code --node-name}; null: the whole cluster
 * @param services publish services' IPs; flag {@code --[no-]services}, default true
 * @param nodes publish nodes' addresses; flag {@code --[no-]nodes}, default true
 * @param resync informer resync period; flag {@code --resync}, default PT10M (0: never)
 * @param startTimeout how long the API server may take to list everything; flag {@code
 *     --start-timeout}, default PT2M
 */
public record KubernetesSourceConfig(
    String cluster,
    Path kubeconfig,
    String context,
    String nodeName,
    boolean services,
    boolean nodes,
    Duration resync,
    Duration startTimeout) {

  /** As {@code --resync} and {@code --start-timeout} write them (their annotations read these). */
  public static final String DEFAULT_RESYNC_TEXT = "10m";

  public static final String DEFAULT_START_TIMEOUT_TEXT = "2m";

  public static final Duration DEFAULT_RESYNC = Settings.parseDuration(DEFAULT_RESYNC_TEXT);
  public static final Duration DEFAULT_START_TIMEOUT =
      Settings.parseDuration(DEFAULT_START_TIMEOUT_TEXT);

  public KubernetesSourceConfig {
    if (cluster == null || cluster.isBlank()) {
      throw new IllegalArgumentException(
          "--cluster is missing (or set FLOWSIGHT_IDENTITY_CLUSTER): name the cluster, e.g. prod-east;"
              + " it is every identity's cluster and the events' sourceInstance");
    }
    if (kubeconfig != null && !Files.isReadable(kubeconfig)) {
      throw new IllegalArgumentException(
          "--kubeconfig: " + kubeconfig + " does not exist or cannot be read");
    }
    if (nodeName != null && nodeName.isBlank()) {
      throw new IllegalArgumentException("--node-name is empty");
    }
    if (resync == null || resync.isNegative()) {
      throw new IllegalArgumentException("--resync must be zero or positive, e.g. PT10M");
    }
    if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
      throw new IllegalArgumentException("--start-timeout must be positive, e.g. PT2M");
    }
  }

  /** A client for the configured cluster (kubeconfig and context, or in-cluster). */
  public KubernetesClient newClient() {
    Config config =
        kubeconfig != null
            ? Config.fromKubeconfig(context, kubeconfig.toFile())
            : Config.autoConfigure(context);
    return new KubernetesClientBuilder().withConfig(config).build();
  }
}
