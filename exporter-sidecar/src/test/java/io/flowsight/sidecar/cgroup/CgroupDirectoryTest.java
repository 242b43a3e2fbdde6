package io.flowsight.sidecar.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Over a plain directory tree shaped like a cgroup2 mount: ids are the directories' inodes. */
class CgroupDirectoryTest {

  private static final String POD =
      "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice";
  private static final String CONTAINER =
      "cri-containerd-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope";

  @TempDir Path root;
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private static long inode(Path dir) throws IOException {
    return (Long) Files.getAttribute(dir, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }

  /** A cgroup directory with the interface files every cgroup has. */
  private Path cgroup(String relative) throws IOException {
    Path dir = Files.createDirectories(root.resolve(relative));
    Files.writeString(dir.resolve("cgroup.procs"), "");
    Files.writeString(dir.resolve("memory.max"), "max\n");
    return dir;
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void shouldMapEveryCgroupsInodeToItsPathAndOwner() throws IOException {
    Path container = cgroup(POD + "/" + CONTAINER);
    Path service = cgroup("system.slice/sshd.service");

    CgroupDirectory directory = new CgroupDirectory(root, now::get);

    CgroupDirectory.Cgroup found = directory.lookup(inode(container)).orElseThrow();
    assertThat(found.path()).isEqualTo("/" + POD + "/" + CONTAINER);
    assertThat(found.owner().podUid()).isEqualTo("3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b");
    assertThat(found.owner().containerId()).startsWith("9f86d081");
    assertThat(directory.lookup(inode(service)).orElseThrow().owner()).isEqualTo(CgroupPath.HOST);
    assertThat(directory.lookup(inode(root)).orElseThrow().path()).isEqualTo("/");
    // 7 directories: root, kubepods.slice, the QoS slice, the pod, its container, system.slice,
    // sshd.service; the interface files are no cgroups.
    assertThat(directory.size()).isEqualTo(7);
    assertThat(directory.scans()).isEqualTo(1);
  }

  @Test
  void shouldWalkAgainOnAMissAtMostOncePerSecond() throws IOException {
    CgroupDirectory directory = new CgroupDirectory(root, now::get);
    advance(Duration.ofSeconds(2));
    Path first = cgroup(POD + "/" + CONTAINER);

    // A new cgroup: the miss walks again and finds it.
    assertThat(directory.lookup(inode(first))).isPresent();
    assertThat(directory.scans()).isEqualTo(2);

    // Another new one within the second: not walked for, unknown for now...
    Path second = cgroup(POD + "/cri-containerd-" + "a".repeat(64) + ".scope");
    advance(Duration.ofMillis(500));
    assertThat(directory.lookup(inode(second))).isEmpty();
    assertThat(directory.scans()).isEqualTo(2);
    // ...and found by the first miss once the second is over.
    advance(Duration.ofMillis(600));
    assertThat(directory.lookup(inode(second)).orElseThrow().owner().containerId())
        .isEqualTo("a".repeat(64));
    assertThat(directory.scans()).isEqualTo(3);
  }

  @Test
  void shouldNotWalkAgainForAnIdAWalkDidNotFindForAMinute() throws IOException {
    CgroupDirectory directory = new CgroupDirectory(root, now::get);
    long gone = 987_654_321L;
    advance(Duration.ofSeconds(2));

    assertThat(directory.lookup(gone)).isEmpty();
    assertThat(directory.scans()).isEqualTo(2);
    for (int i = 0; i < 50; i++) {
      advance(Duration.ofSeconds(1));
      assertThat(directory.lookup(gone)).isEmpty();
    }
    assertThat(directory.scans()).isEqualTo(2);
    advance(Duration.ofSeconds(11));
    assertThat(directory.lookup(gone)).isEmpty();
    assertThat(directory.scans()).isEqualTo(3);
  }

  @Test
  void shouldRememberARemovedCgroupForFiveMinutes() throws IOException {
    Path container = cgroup(POD + "/" + CONTAINER);
    long id = inode(container);
    CgroupDirectory directory = new CgroupDirectory(root, now::get);
    for (Path p : new Path[] {container.resolve("cgroup.procs"), container.resolve("memory.max")}) {
      Files.delete(p);
    }
    Files.delete(container);
    // (No directory is made after the removal: this file system, unlike cgroupfs, reuses inodes.)

    advance(Duration.ofMinutes(4));
    assertThat(directory.lookup(Long.MAX_VALUE)).isEmpty(); // a miss: walks again
    assertThat(directory.scans()).isEqualTo(2);
    assertThat(directory.lookup(id).orElseThrow().owner().containerId()).startsWith("9f86d081");

    advance(Duration.ofMinutes(2));
    assertThat(directory.lookup(Long.MAX_VALUE - 1)).isEmpty(); // walks again: now it is dropped
    assertThat(directory.scans()).isEqualTo(3);
    assertThat(directory.lookup(id)).isEmpty();
  }
}
