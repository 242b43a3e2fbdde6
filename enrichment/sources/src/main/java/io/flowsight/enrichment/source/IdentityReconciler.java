package io.flowsight.enrichment.source;

import io.flowsight.enrichment.ownership.Owners;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns "object X now has these IPs" into exactly the ASSIGN and UNASSIGN events that change what
 * was published, and nothing else: a resync, a relist or a restart that finds the same state
 * publishes nothing.
 *
 * <p>It keeps, per source object (a pod's uid, a file entry), the targets it claims, and for every
 * (target, identity) pair how many objects claim it. A pair is published (ASSIGN) when its first
 * claim appears and withdrawn (UNASSIGN) when its last one goes. Within one update UNASSIGNs go
 * first, so an IP handed from one identity to another reads in order.
 *
 * <p><b>Restart:</b> the pairs this source instance already published (read back from the topic,
 * {@link PublishedStateReader}) seed the published set: objects that still claim them publish
 * nothing again. After the initial listing, {@link #finishInitialSync} withdraws the published
 * pairs that no object claims any more (removed while the source was down).
 */
public final class IdentityReconciler {

  private static final Logger log = LoggerFactory.getLogger(IdentityReconciler.class);

  /**
   * An object's claim on a target: the identity, and since when it is known to hold the target (the
   * ASSIGN's eventTime; null: when first seen).
   */
  public record Claim(Identity identity, Instant since) {
    public Claim {
      Objects.requireNonNull(identity, "identity");
    }
  }

  private record Pair(String target, Identity identity) {}

  private final String source;
  private final String sourceInstance;
  private final IdentityChangeSink sink;
  private final Map<String, Map<String, Claim>> claimsByObject = new HashMap<>();
  private final Map<Pair, Integer> claimCounts = new HashMap<>();
  private final Set<Pair> published = new LinkedHashSet<>();
  private boolean initialSyncDone;
  private long eventsPublished;

  /**
   * @param alreadyPublished target to identities this source instance published and did not
   *     withdraw (empty on a first start)
   */
  public IdentityReconciler(
      String source,
      String sourceInstance,
      IdentityChangeSink sink,
      Map<String, Set<Identity>> alreadyPublished) {
    this.source = source;
    this.sourceInstance = sourceInstance;
    this.sink = sink;
    alreadyPublished.forEach(
        (target, identities) -> identities.forEach(i -> published.add(new Pair(target, i))));
  }

  /** Object {@code objectKey} now claims exactly {@code claims} (target to claim). */
  public synchronized void update(String objectKey, Map<String, Claim> claims, Instant now) {
    Map<String, Claim> before = claimsByObject.getOrDefault(objectKey, Map.of());
    Map<String, Claim> after = Map.copyOf(claims);
    if (after.isEmpty()) {
      claimsByObject.remove(objectKey);
    } else {
      claimsByObject.put(objectKey, after);
    }
    List<Pair> released = new ArrayList<>();
    for (Map.Entry<String, Claim> e : before.entrySet()) {
      Claim current = after.get(e.getKey());
      if (current == null || !current.identity().equals(e.getValue().identity())) {
        released.add(new Pair(e.getKey(), e.getValue().identity()));
      }
    }
    Map<Pair, Claim> claimed = new TreeMap<>(PAIR_ORDER);
    for (Map.Entry<String, Claim> e : after.entrySet()) {
      Claim then = before.get(e.getKey());
      if (then == null || !then.identity().equals(e.getValue().identity())) {
        claimed.put(new Pair(e.getKey(), e.getValue().identity()), e.getValue());
      }
    }
    if (released.isEmpty() && claimed.isEmpty()) {
      return;
    }
    released.sort(PAIR_ORDER);
    for (Pair p : released) {
      release(p, now);
    }
    claimed.forEach((p, claim) -> claim(p, claim.since() == null ? now : claim.since()));
    sink.flush();
  }

  /** Object {@code objectKey} is gone. */
  public void remove(String objectKey, Instant now) {
    update(objectKey, Map.of(), now);
  }

  /**
   * The initial listing is complete: withdraws, at {@code now}, what was published before a restart
   * and is claimed by no object now.
   */
  public synchronized void finishInitialSync(Instant now) {
    if (initialSyncDone) {
      return;
    }
    initialSyncDone = true;
    List<Pair> stale = new ArrayList<>();
    for (Pair p : published) {
      if (claimCounts.getOrDefault(p, 0) == 0) {
        stale.add(p);
      }
    }
    stale.sort(PAIR_ORDER);
    for (Pair p : stale) {
      published.remove(p);
      emit(IdentityAction.UNASSIGN, p, now);
    }
    if (!stale.isEmpty()) {
      log.info(
          "{} {}: withdrew {} identities that disappeared while the source was down",
          source,
          sourceInstance,
          stale.size());
    }
    sink.flush();
  }

  /** Target to identities currently published by this instance. */
  public synchronized Map<String, Set<Identity>> published() {
    Map<String, Set<Identity>> out = new TreeMap<>();
    for (Pair p : published) {
      out.computeIfAbsent(p.target(), t -> new HashSet<>()).add(p.identity());
    }
    return out;
  }

  /** Events published by this reconciler since it was made. */
  public synchronized long eventsPublished() {
    return eventsPublished;
  }

  private void claim(Pair p, Instant since) {
    int count = claimCounts.merge(p, 1, Integer::sum);
    if (count == 1 && published.add(p)) {
      emit(IdentityAction.ASSIGN, p, since);
    }
  }

  private void release(Pair p, Instant now) {
    Integer count = claimCounts.get(p);
    if (count == null) {
      return;
    }
    if (count > 1) {
      claimCounts.put(p, count - 1);
      return;
    }
    claimCounts.remove(p);
    if (published.remove(p)) {
      emit(IdentityAction.UNASSIGN, p, now);
    }
  }

  private void emit(IdentityAction action, Pair p, Instant time) {
    sink.publish(
        IdentityChanges.of(p.target(), action, p.identity(), time, source, sourceInstance));
    eventsPublished++;
    log.debug("{} {} {} at {}", action, p.target(), p.identity().getApp(), time);
  }

  private static final Comparator<Pair> PAIR_ORDER =
      Comparator.comparing(Pair::target).thenComparing(Pair::identity, Owners.ORDER);
}
