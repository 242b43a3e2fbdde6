package io.flowsight.sidecar.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CgroupMountsTest {

  @Test
  void shouldFindTheCgroup2MountOfAUnifiedHost() {
    List<String> mountinfo =
        List.of(
            "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/root rw",
            "25 22 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw",
            "26 25 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2"
                + " rw,nsdelegate,memory_recursiveprot");

    assertThat(CgroupMounts.firstCgroup2(mountinfo)).contains(Path.of("/sys/fs/cgroup"));
  }

  @Test
  void shouldFindTheHybridHostsUnifiedMountAndUnescapeItsPath() {
    List<String> mountinfo =
        List.of(
            "30 22 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755",
            "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime shared:10 - cgroup cgroup rw,cpu",
            "32 30 0:29 / /host/sys/fs/cgroup\\040x rw,relatime - cgroup2 none rw");

    assertThat(CgroupMounts.firstCgroup2(mountinfo)).contains(Path.of("/host/sys/fs/cgroup x"));
  }

  @Test
  void shouldFindNothingOnACgroupV1OnlyHost() {
    List<String> mountinfo =
        List.of(
            "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
            "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
            "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
            "garbage");

    assertThat(CgroupMounts.firstCgroup2(mountinfo)).isEmpty();
    assertThat(CgroupMounts.firstCgroup2(Path.of("/nonexistent/mountinfo"))).isEmpty();
  }
}
