package io.flowsight.sidecar.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CgroupPathTest {

  private static final String UID = "3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b";
  private static final String ID =
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      nullValues = "-",
      value = {
        // systemd driver (containerd, CRI-O, cri-dockerd), each QoS class
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice/cri-containerd-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope, "
            + UID
            + ", "
            + ID,
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice/crio-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope, "
            + UID
            + ", "
            + ID,
        "/kubepods.slice/kubepods-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice/cri-containerd-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope, "
            + UID
            + ", "
            + ID,
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice/docker-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope, "
            + UID
            + ", "
            + ID,
        // CRI-O's monitor of the container, and the pod's own slice: the pod, no container
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice/crio-conmon-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope, "
            + UID
            + ", -",
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice, "
            + UID
            + ", -",
        // A container that makes cgroups of its own: still its processes
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice/cri-containerd-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope/init.scope, "
            + UID
            + ", "
            + ID,
        // kind and k3d: the kubelet's tree below kubelet.slice
        "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice/cri-containerd-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope, "
            + UID
            + ", "
            + ID,
        // a static pod: the kubelet's hash of its manifest
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8f2c0d6e3c1b4d0e9a7b6c5d4e3f2a1b.slice/cri-containerd-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope, 8f2c0d6e3c1b4d0e9a7b6c5d4e3f2a1b, "
            + ID,
        // cgroupfs driver
        "/kubepods/burstable/pod3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, "
            + UID
            + ", "
            + ID,
        "/kubepods/besteffort/pod3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, "
            + UID
            + ", "
            + ID,
        "/kubepods/pod3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, "
            + UID
            + ", "
            + ID,
        "/kubepods/burstable/pod3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b, " + UID + ", -",
        // upper case from a runtime that writes it so: kept in the API's lower case
        "/kubepods/pod3B4C1C64-7F0A-4B5E-9A2F-1C2D3E4F5A6B/9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08, "
            + UID
            + ", "
            + ID,
        // Docker without Kubernetes: a container, no pod
        "/system.slice/docker-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope, -, "
            + ID,
        "/docker/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, -, " + ID,
        "/machine.slice/libpod-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope, -, "
            + ID,
        // the host's own processes
        "/, -, -",
        "/init.scope, -, -",
        "/system.slice/containerd.service, -, -",
        "/system.slice/kubelet.service, -, -",
        "/user.slice/user-1000.slice/session-3.scope, -, -",
        "/kubepods.slice, -, -",
        "/kubepods.slice/kubepods-burstable.slice, -, -",
        "/kubepods/burstable, -, -",
        // 64 hex digits outside Docker's and the pods' trees name nothing
        "/system.slice/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, -, -",
        // a pod-like name outside the kubelet's tree
        "/system.slice/pod3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b, -, -",
      })
  void shouldNameThePodAndContainerOfRealWorldPaths(
      String path, String podUid, String containerId) {
    CgroupPath parsed = CgroupPath.parse(path);

    assertThat(parsed.podUid()).isEqualTo(podUid);
    assertThat(parsed.containerId()).isEqualTo(containerId);
    assertThat(parsed.inPod()).isEqualTo(podUid != null);
  }
}
