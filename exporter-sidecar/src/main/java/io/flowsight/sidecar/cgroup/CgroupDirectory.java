package io.flowsight.sidecar.cgroup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cgroups of a cgroup2 mount by id: a socket's cgroup id (what the eBPF program reads, {@code
 * sk->sk_cgrp_data.cgroup->kn->id}) is the inode number of the cgroup's directory on 64-bit kernels
 * (kernfs gives every node a 64-bit id that is never reused, and uses it as the inode number), so a
 * walk of the mount maps ids to paths, and {@link CgroupPath} the paths to pods and containers.
 *
 * <p>A miss (a cgroup made since the last walk: a new pod or container) walks the mount again, at
 * most once per {@link #RESCAN_EVERY}, synchronously: a walk reads the directories only (a few
 * thousand on a busy node, a few milliseconds), far less than the ring buffer holds meanwhile, and
 * a record is then named by the walk that its own miss started rather than left unnamed. An id that
 * a walk begun after its miss did not find has no directory any more (its cgroup was removed while
 * the socket lived on): it is not looked for again for {@link #NEGATIVE_FOR}. A cgroup that
 * disappears is remembered for {@link #KEEP_REMOVED_FOR}, so that the connections still closing
 * after their pod's cgroup was removed are named.
 *
 * <p>Not thread-safe: used by the kernel consumer's thread only.
 */
public final class CgroupDirectory {

  private static final Logger log = LoggerFactory.getLogger(CgroupDirectory.class);

  static final Duration RESCAN_EVERY = Duration.ofSeconds(1);
  static final Duration NEGATIVE_FOR = Duration.ofSeconds(60);
  static final Duration KEEP_REMOVED_FOR = Duration.ofMinutes(5);

  /** Deeper cgroup trees are not walked further (systemd and the kubelet stay below 10). */
  private static final int MAX_DEPTH = 32;

  /** One cgroup: its path below the mount, what the path says, and when a walk last saw it. */
  public record Cgroup(String path, CgroupPath owner, long seenNanos) {}

  private final Path root;
  private final LongSupplier nanoTime;
  private Map<Long, Cgroup> byId = new HashMap<>();
  private final Map<Long, Long> missingUntilNanos = new HashMap<>();

  /**
   * Names seen as regular files (the interface files: {@code cgroup.procs}, {@code memory.max}...,
   * the same in every cgroup): not looked at again, so that a walk costs one directory read per
   * cgroup rather than one stat per file.
   */
  private final Set<String> fileNames = new HashSet<>();

  private long lastScanNanos;
  private boolean scanned;
  private long scans;

  /** A directory over the cgroup2 mount at {@code root}, walked now. */
  public CgroupDirectory(Path root) {
    this(root, System::nanoTime);
  }

  CgroupDirectory(Path root, LongSupplier nanoTime) {
    this.root = root;
    this.nanoTime = nanoTime;
    scan(nanoTime.getAsLong());
  }

  /** The mount walked. */
  public Path root() {
    return root;
  }

  /** Walks done so far (the first one included). */
  public long scans() {
    return scans;
  }

  /** Cgroups known now (removed ones still remembered included). */
  public int size() {
    return byId.size();
  }

  /** The cgroup with this id, walking the mount again if it is new; empty when not found. */
  public Optional<Cgroup> lookup(long cgroupId) {
    Cgroup cgroup = byId.get(cgroupId);
    if (cgroup != null) {
      return Optional.of(cgroup);
    }
    long now = nanoTime.getAsLong();
    Long missingUntil = missingUntilNanos.get(cgroupId);
    if (missingUntil != null && now - missingUntil < 0) {
      return Optional.empty();
    }
    if (scanned && now - lastScanNanos < RESCAN_EVERY.toNanos()) {
      return Optional.empty(); // walked less than a second ago: the next miss walks again
    }
    scan(now);
    cgroup = byId.get(cgroupId);
    if (cgroup == null) {
      missingUntilNanos.put(cgroupId, now + NEGATIVE_FOR.toNanos());
    }
    return Optional.ofNullable(cgroup);
  }

  private void scan(long now) {
    Map<Long, Cgroup> found = new HashMap<>(Math.max(16, byId.size() * 2));
    try {
      walk(root, "/", 0, now, found);
    } catch (IOException | UncheckedIOException e) {
      log.warn("cannot walk the cgroup2 mount {}: {}", root, e.toString());
    }
    // Removed cgroups stay a while: connections outlive their process's cgroup by seconds.
    for (Map.Entry<Long, Cgroup> e : byId.entrySet()) {
      if (!found.containsKey(e.getKey())
          && now - e.getValue().seenNanos() < KEEP_REMOVED_FOR.toNanos()) {
        found.put(e.getKey(), e.getValue());
      }
    }
    byId = found;
    for (Iterator<Long> it = missingUntilNanos.values().iterator(); it.hasNext(); ) {
      if (now - it.next() >= 0) {
        it.remove();
      }
    }
    lastScanNanos = now;
    scanned = true;
    scans++;
  }

  private void walk(Path dir, String relative, int depth, long now, Map<Long, Cgroup> found)
      throws IOException {
    Map<String, Object> attributes;
    try {
      attributes = Files.readAttributes(dir, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return; // removed while walking
    }
    long id = (Long) attributes.get("ino");
    Cgroup known = byId.get(id);
    found.put(
        id,
        known != null && known.path().equals(relative)
            ? new Cgroup(relative, known.owner(), now)
            : new Cgroup(relative, CgroupPath.parse(relative), now));
    if (depth >= MAX_DEPTH) {
      return;
    }
    List<Path> children = new java.util.ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (fileNames.contains(name)) {
          continue;
        }
        if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
          children.add(entry);
        } else {
          fileNames.add(name);
        }
      }
    } catch (NoSuchFileException e) {
      return;
    }
    for (Path child : children) {
      String name = child.getFileName().toString();
      walk(child, relative.equals("/") ? "/" + name : relative + "/" + name, depth + 1, now, found);
    }
  }
}
