package io.flowsight.sidecar.flow;

import io.flowsight.schemas.Identity;

/** Who owns a socket, by the socket's cgroup: the container and the Kubernetes pod. */
@FunctionalInterface
public interface SocketOwners {

  /** Knows nothing: every record's containerId and pod stay null. */
  SocketOwners NONE = cgroupId -> Owner.UNKNOWN;

  /**
   * The owner of a socket in this cgroup (0: the cgroup is unknown). Called on the kernel
   * consumer's thread for each record.
   */
  Owner ownerOf(long cgroupId);

  /**
   * @param containerId the container's id, or null
   * @param pod the pod's identity, or null
   */
  record Owner(String containerId, Identity pod) {
    public static final Owner UNKNOWN = new Owner(null, null);
  }
}
