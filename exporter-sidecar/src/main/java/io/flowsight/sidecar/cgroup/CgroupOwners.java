package io.flowsight.sidecar.cgroup;

import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.flow.SocketOwners;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A socket's container and pod from its cgroup: the cgroup's path in the mount ({@link
 * CgroupDirectory}), the pod uid and container id in the path ({@link CgroupPath}), the pod's
 * identity by uid (from the Kubernetes API, when the sidecar watches it). Each lookup is counted by
 * its {@link Result}.
 */
public final class CgroupOwners implements SocketOwners {

  /** What a lookup found, as the metric's label says it. */
  public enum Result {
    /** A pod's cgroup, and the pod is known. */
    POD("pod"),
    /** Not a pod's cgroup: the node's own processes, or a container without pod. */
    NODE("node"),
    /** No cgroup id, or no such cgroup in the mount. */
    UNKNOWN_CGROUP("unknown_cgroup"),
    /** A pod's cgroup, but the pod is not known (not yet listed, long deleted, no API). */
    UNKNOWN_POD("unknown_pod");

    private final String label;

    Result(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  private final CgroupDirectory cgroups;
  private final Function<String, Optional<Identity>> podsByUid;
  private final Consumer<Result> counter;

  /**
   * @param podsByUid a pod's identity by its uid; {@code uid -> Optional.empty()} without the
   *     Kubernetes API (container ids only)
   * @param counter told of every lookup's result
   */
  public CgroupOwners(
      CgroupDirectory cgroups,
      Function<String, Optional<Identity>> podsByUid,
      Consumer<Result> counter) {
    this.cgroups = cgroups;
    this.podsByUid = podsByUid;
    this.counter = counter;
  }

  @Override
  public Owner ownerOf(long cgroupId) {
    Optional<CgroupDirectory.Cgroup> cgroup =
        cgroupId == 0 ? Optional.empty() : cgroups.lookup(cgroupId);
    if (cgroup.isEmpty()) {
      counter.accept(Result.UNKNOWN_CGROUP);
      return Owner.UNKNOWN;
    }
    CgroupPath path = cgroup.get().owner();
    if (!path.inPod()) {
      counter.accept(Result.NODE);
      return path.containerId() == null ? Owner.UNKNOWN : new Owner(path.containerId(), null);
    }
    Optional<Identity> pod = podsByUid.apply(path.podUid());
    counter.accept(pod.isPresent() ? Result.POD : Result.UNKNOWN_POD);
    return new Owner(path.containerId(), pod.orElse(null));
  }
}
