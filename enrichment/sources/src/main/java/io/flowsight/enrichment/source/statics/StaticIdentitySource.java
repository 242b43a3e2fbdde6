package io.flowsight.enrichment.source.statics;

import io.flowsight.enrichment.identityfile.StaticFileException;
import io.flowsight.enrichment.identityfile.StaticIdentities;
import io.flowsight.enrichment.source.IdentityReconciler;
import io.flowsight.enrichment.source.IdentityReconciler.Claim;
import io.flowsight.schemas.Identity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a {@link StaticIdentities} file and keeps publishing its changes: an ASSIGN for every
 * new or changed entry, an UNASSIGN for every removed (or changed) one, nothing for what stayed.
 *
 * <p>Changes are found by polling ({@link #poll()}: the file's bytes compared with the last ones
 * read; a WatchService misses edits on some file systems and through symlinked ConfigMaps). The
 * eventTime of what a change publishes is the file's modification time (never earlier than the last
 * event published, should an older file be copied back in place). A file that no longer parses is
 * reported (file and line) and ignored until it is fixed: the last good content stays published.
 * The source and instance of its events: {@value #SOURCE} and the file's absolute path.
 */
public final class StaticIdentitySource {

  private static final Logger log = LoggerFactory.getLogger(StaticIdentitySource.class);

  public static final String SOURCE = "static";

  private final Path file;
  private final IdentityReconciler reconciler;
  private byte[] lastContent;
  private Set<String> lastTargets = Set.of();
  private Instant lastEventTime = Instant.EPOCH;
  private String lastError;

  /** The reconciler must publish as ({@value #SOURCE}, {@link #instanceOf(Path)}). */
  public StaticIdentitySource(Path file, IdentityReconciler reconciler) {
    this.file = file;
    this.reconciler = reconciler;
  }

  /** The sourceInstance of a file's events: its absolute, normalized path. */
  public static String instanceOf(Path file) {
    return file.toAbsolutePath().normalize().toString();
  }

  /**
   * Reads and publishes the file for the first time, then withdraws what an earlier run published
   * and the file no longer has.
   *
   * @throws StaticFileException when the file cannot be read or parsed
   */
  public synchronized void start() {
    byte[] content = read();
    StaticIdentities identities = StaticIdentities.parse(text(content), file.toString());
    Instant time = eventTime();
    apply(identities, time);
    lastContent = content;
    reconciler.finishInitialSync(time);
    log.info("read {}: {} entries", file, identities.entries().size());
  }

  /**
   * Publishes what changed since the last read, if anything.
   *
   * @return true when the file changed and its new content was published
   */
  public synchronized boolean poll() {
    byte[] content;
    try {
      content = read();
    } catch (StaticFileException e) {
      report(e.getMessage());
      return false;
    }
    if (lastContent != null && Arrays.equals(content, lastContent)) {
      return false;
    }
    StaticIdentities identities;
    try {
      identities = StaticIdentities.parse(text(content), file.toString());
    } catch (StaticFileException e) {
      report(e.getMessage() + " (keeping the last good content published)");
      return false;
    }
    lastError = null;
    apply(identities, eventTime());
    lastContent = content;
    log.info("{} changed: {} entries now", file, identities.entries().size());
    return true;
  }

  private void apply(StaticIdentities identities, Instant time) {
    Map<String, Identity> wanted = identities.byTarget();
    for (String gone : lastTargets) {
      if (!wanted.containsKey(gone)) {
        reconciler.remove(gone, time);
      }
    }
    wanted.forEach(
        (target, identity) ->
            reconciler.update(target, Map.of(target, new Claim(identity, time)), time));
    lastTargets = new HashSet<>(wanted.keySet());
    lastEventTime = time;
  }

  private Instant eventTime() {
    try {
      Instant modified = Files.getLastModifiedTime(file).toInstant();
      return modified.isBefore(lastEventTime) ? lastEventTime : modified;
    } catch (IOException e) {
      return Instant.now();
    }
  }

  private byte[] read() {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new StaticFileException(file.toString(), 0, "the file does not exist", e);
    } catch (IOException e) {
      throw new StaticFileException(file.toString(), 0, "cannot read the file: " + e, e);
    }
  }

  private static String text(byte[] content) {
    return new String(content, StandardCharsets.UTF_8);
  }

  private void report(String problem) {
    if (!problem.equals(lastError)) {
      log.error("{}", problem);
      lastError = problem;
    }
  }

  /** The last problem with the file, or null when its last read was good. */
  public synchronized String lastError() {
    return lastError;
  }
}
