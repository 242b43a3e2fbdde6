package io.flowsight.sidecar.kubernetes;

import io.flowsight.schemas.Identity;
import java.util.Optional;

/**
 * This node's pods as the Kubernetes API lists them: who holds a local IP, and which pod a uid is.
 * No Kubernetes types here: the sidecar loads the API client's classes ({@link KubernetesNodePods})
 * only with {@code --kubernetes-node}.
 */
public interface NodePods extends AutoCloseable {

  /** Who holds this local IP (network byte order) now: a pod, or the node; empty if none. */
  Optional<Identity> localIdentity(byte[] ip);

  /** This node's pod with this uid (also a while after its deletion); empty if not known. */
  Optional<Identity> pod(String uid);

  @Override
  void close();
}
