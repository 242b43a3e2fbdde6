package io.flowsight.sidecar.cgroup;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a cgroup v2 path says about the processes in it: the Kubernetes pod (by uid) and the
 * container (by the runtime's id), for both cgroup drivers of the kubelet and for plain Docker.
 *
 * <ul>
 *   <li>systemd driver: {@code /kubepods.slice/kubepods-burstable.slice/ kubepods-burstable-pod<uid
 *       with _ for ->.slice/cri-containerd-<id>.scope} ({@code crio-}, {@code docker-}, {@code
 *       libpod-} likewise; guaranteed QoS: {@code /kubepods.slice/kubepods-pod<uid>.slice/...};
 *       kind and k3d nest it all under {@code kubelet.slice/kubelet-kubepods.slice}).
 *   <li>cgroupfs driver: {@code /kubepods/burstable/pod<uid>/<id>}, {@code
 *       /kubepods/pod<uid>/<id>}.
 *   <li>Docker without Kubernetes: {@code /system.slice/docker-<id>.scope}, {@code /docker/<id>}: a
 *       container without pod.
 * </ul>
 *
 * The id is the runtime's 64 hex digits; a path below the container's own cgroup (a container that
 * makes cgroups of its own) still names it. The pod's own cgroup and CRI-O's {@code
 * crio-conmon-<id>.scope} (the runtime's monitor, not the container) name the pod only. A static
 * pod's uid is the kubelet's hash of its manifest (32 hex digits, no dashes), not the uid of its
 * mirror pod in the API: the mirror pod carries it in the annotation {@code
 * kubernetes.io/config.mirror}.
 *
 * @param podUid the pod's uid as the kubelet names it (dashes, lower case), or null
 * @param containerId the container's id (64 hex digits, lower case), or null
 */
public record CgroupPath(String podUid, String containerId) {

  /** A path of neither a pod nor a container: the host's own processes. */
  public static final CgroupPath HOST = new CgroupPath(null, null);

  /** A pod's slice of the systemd driver: {@code kubepods[-qos]-pod<uid, _ for ->.slice}. */
  private static final Pattern SYSTEMD_POD =
      Pattern.compile("(?:^|-)kubepods(?:-[a-z]+)?-pod([0-9a-fA-F_]{32,36})\\.slice$");

  /** A pod's directory of the cgroupfs driver (below a {@code kubepods} directory). */
  private static final Pattern CGROUPFS_POD = Pattern.compile("pod([0-9a-fA-F-]{32,36})");

  /** A container's scope of the systemd driver (containerd, CRI-O, Docker, Podman). */
  private static final Pattern SYSTEMD_CONTAINER =
      Pattern.compile("(?:cri-containerd|crio|docker|libpod)-([0-9a-fA-F]{64})\\.scope");

  /** A container's directory of the cgroupfs driver, or of Docker's {@code /docker/<id>}. */
  private static final Pattern BARE_CONTAINER = Pattern.compile("[0-9a-fA-F]{64}");

  /**
   * Parses a path relative to the cgroup2 mount ({@code /kubepods.slice/...}; a leading slash and
   * the mount's own prefix do not matter).
   */
  public static CgroupPath parse(String path) {
    String[] segments = path.split("/");
    String podUid = null;
    String containerId = null;
    boolean inKubepods = false;
    boolean inDocker = false;
    for (String segment : segments) {
      if (segment.isEmpty()) {
        continue;
      }
      if (containerId != null) {
        break; // below the container's cgroup: still that container's processes
      }
      Matcher m;
      if ((m = SYSTEMD_POD.matcher(segment)).find()) {
        podUid = m.group(1).replace('_', '-').toLowerCase(Locale.ROOT);
        inKubepods = true;
      } else if (segment.contains("kubepods")) {
        // kubepods, kubepods.slice, kubepods-burstable.slice, kubelet-kubepods.slice (kind)
        inKubepods = true;
      } else if (inKubepods && podUid == null && (m = CGROUPFS_POD.matcher(segment)).matches()) {
        podUid = m.group(1).toLowerCase(Locale.ROOT);
      } else if ((m = SYSTEMD_CONTAINER.matcher(segment)).matches()) {
        containerId = m.group(1).toLowerCase(Locale.ROOT);
      } else if ((podUid != null || inDocker) && BARE_CONTAINER.matcher(segment).matches()) {
        containerId = segment.toLowerCase(Locale.ROOT);
      } else if (segment.equals("docker")) {
        inDocker = true;
      }
    }
    return podUid == null && containerId == null ? HOST : new CgroupPath(podUid, containerId);
  }

  /** Whether the path is a pod's (or one of its containers'). */
  public boolean inPod() {
    return podUid != null;
  }
}
