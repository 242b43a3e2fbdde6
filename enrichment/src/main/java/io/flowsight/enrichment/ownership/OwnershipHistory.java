package io.flowsight.enrichment.ownership;

import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Who owned one IP address, and when: an immutable value the collector keeps per IP (Kafka Streams
 * key-value store keyed by the IP's text form, {@link OwnershipHistorySerde}).
 *
 * <h2>What it keeps</h2>
 *
 * Claims, not conclusions, so that the answer depends only on <i>which</i> claims arrived, never on
 * their order:
 *
 * <ul>
 *   <li><b>observed ranges</b> (first-hand): a sidecar's heartbeat "this IP was W's from t1 to t2"
 *       (a FlowRecord's local IP and localIdentity). Ranges of the same owner whose gap is at most
 *       {@link HistoryPolicy#mergeGap()} are merged into one (gap closure, which is the same in any
 *       order);
 *   <li><b>change events</b> (second-hand): IpIdentityChange ASSIGN / UNASSIGN from the identity
 *       sources, kept as a set.
 * </ul>
 *
 * <h2>How it resolves ({@link #ranges()}, {@link #lookup(Instant)})</h2>
 *
 * <ol>
 *   <li>Observed ranges beat change events: where a heartbeat covers t, its owner is the answer.
 *       Two different owners observed at the same instant contradict each other first-hand: that
 *       time is CONFLICT (both are reported as contenders).
 *   <li>Elsewhere the change events decide, taken in eventTime order: an ASSIGN opens an open-ended
 *       range for its owner and ends any other owner's range (the later eventTime wins the
 *       boundary); an UNASSIGN ends its owner's range (an UNASSIGN of an owner that no longer holds
 *       the IP changes nothing). Events at the same instant: UNASSIGNs first, then ASSIGNs; two
 *       different owners ASSIGNed at the same instant are a CONFLICT until a later event settles
 *       it.
 *   <li>A first-hand observation of owner B starting at t also ends, at t, every other owner's
 *       event range that began before t (B's own traffic proves the IP had moved, even if the
 *       UNASSIGN was lost). The observation does not extend B beyond its end: after it, only events
 *       speak.
 *   <li>Nothing holds t: GAP when anything is known about the IP, NEVER_SEEN when nothing ever was;
 *       t before the retained horizon: EXPIRED.
 * </ol>
 *
 * <h2>Bounds</h2>
 *
 * {@link #expire(Instant, HistoryPolicy)} drops what ended before {@code now - retention} and every
 * update enforces the caps of {@link HistoryPolicy}: the oldest claims go first and the horizon
 * moves past them. The ASSIGN that still holds the IP at the horizon is kept, so a long-lived owner
 * stays known. An input older than the horizon is ignored (the method returns {@code this}).
 *
 * <p>Times are epoch milliseconds. An observed range is [startTime, endTime] of the flow record,
 * kept as the half-open [startTime, endTime + 1 ms).
 */
public final class OwnershipHistory {

  /** The source name of first-hand observations (sidecar heartbeats). */
  public static final String HEARTBEAT_SOURCE = "heartbeat";

  static final long NO_HORIZON = Long.MIN_VALUE;

  private static final OwnershipHistory EMPTY =
      new OwnershipHistory(NO_HORIZON, List.of(), List.of());

  /** First-hand: owner held the IP during [from, to), epoch ms. */
  record Observation(Identity owner, long from, long to) {}

  /** A change event from an identity source, at time (epoch ms). */
  record Change(
      IdentityAction action, Identity owner, long time, String source, String sourceInstance) {}

  static final Comparator<Observation> OBSERVATION_ORDER =
      Comparator.comparingLong(Observation::from)
          .thenComparingLong(Observation::to)
          .thenComparing(Observation::owner, Owners.ORDER);

  private static final Comparator<String> NULLS_FIRST =
      Comparator.nullsFirst(Comparator.naturalOrder());

  /** Time order; at one instant UNASSIGN (ordinal 1) before ASSIGN (ordinal 0). */
  static final Comparator<Change> CHANGE_ORDER =
      Comparator.comparingLong(Change::time)
          .thenComparing(c -> c.action() == IdentityAction.UNASSIGN ? 0 : 1)
          .thenComparing(Change::owner, Owners.ORDER)
          .thenComparing(Change::source, NULLS_FIRST)
          .thenComparing(Change::sourceInstance, NULLS_FIRST);

  private final long horizon;
  private final List<Observation> observations;
  private final List<Change> changes;

  /** Resolved ranges, computed on first use (the value is immutable, so this is a pure cache). */
  private volatile List<OwnershipRange> resolved;

  OwnershipHistory(long horizon, List<Observation> observations, List<Change> changes) {
    this.horizon = horizon;
    List<Observation> obs = new ArrayList<>(observations);
    obs.sort(OBSERVATION_ORDER);
    // A set: the same event twice is one event (CHANGE_ORDER is consistent with equals).
    TreeSet<Change> distinct = new TreeSet<>(CHANGE_ORDER);
    distinct.addAll(changes);
    List<Change> ch = new ArrayList<>(distinct);
    this.observations = Collections.unmodifiableList(obs);
    this.changes = Collections.unmodifiableList(ch);
  }

  public static OwnershipHistory empty() {
    return EMPTY;
  }

  // ---- updates ------------------------------------------------------------------------------

  /**
   * Adds a first-hand heartbeat: {@code owner} held the IP from {@code from} to {@code to}
   * (inclusive). Returns {@code this} when it adds nothing or ended before the horizon.
   */
  public OwnershipHistory withHeartbeat(
      Identity owner, Instant from, Instant to, HistoryPolicy policy) {
    long f = from.toEpochMilli();
    long t = Math.max(to.toEpochMilli(), f) + 1;
    if (t <= horizon) {
      return this;
    }
    Owners.Key key = Owners.Key.of(owner);
    for (Observation o : observations) {
      // Fast path (most flow records of a busy IP): already inside a range of the same owner.
      if (o.from() <= f && o.to() > t && Owners.Key.of(o.owner()).equals(key)) {
        return this;
      }
    }
    Observation merged = new Observation(Owners.copy(owner), f, t);
    long gap = policy.mergeGap().toMillis();
    List<Observation> rest = new ArrayList<>(observations);
    boolean absorbed = true;
    int absorbedCount = 0;
    Observation onlyAbsorbed = null;
    while (absorbed) {
      absorbed = false;
      for (int i = 0; i < rest.size(); i++) {
        Observation o = rest.get(i);
        if (Owners.Key.of(o.owner()).equals(key) && within(o, merged, gap)) {
          merged = union(o, merged);
          onlyAbsorbed = o;
          absorbedCount++;
          rest.remove(i);
          absorbed = true;
          break;
        }
      }
    }
    if (absorbedCount == 1 && onlyAbsorbed.equals(merged)) {
      return this; // already known
    }
    rest.add(merged);
    return new OwnershipHistory(horizon, rest, changes).enforce(policy, null);
  }

  /**
   * Adds a change event for this IP (a single address: {@code prefixLength} must be null; blocks go
   * to a {@link CidrTable}). Returns {@code this} when it is already known or older than the
   * horizon.
   */
  public OwnershipHistory withChange(IpIdentityChange change, HistoryPolicy policy) {
    if (change.getPrefixLength() != null) {
      throw new IllegalArgumentException(
          "a CIDR block's change (prefixLength "
              + change.getPrefixLength()
              + ") belongs in a CidrTable, not in a per-IP history");
    }
    return withChange(
        change.getAction(),
        change.getIdentity(),
        change.getEventTime(),
        change.getSource(),
        change.getSourceInstance(),
        policy);
  }

  /** Adds a change event; see {@link #withChange(IpIdentityChange, HistoryPolicy)}. */
  public OwnershipHistory withChange(
      IdentityAction action,
      Identity owner,
      Instant eventTime,
      String source,
      String sourceInstance,
      HistoryPolicy policy) {
    long time = eventTime.toEpochMilli();
    if (time < horizon) {
      return this;
    }
    Change change =
        new Change(
            Objects.requireNonNull(action, "action"),
            Owners.copy(owner),
            time,
            Objects.requireNonNull(source, "source"),
            sourceInstance);
    if (changes.contains(change)) {
      return this;
    }
    List<Change> all = new ArrayList<>(changes);
    all.add(change);
    return new OwnershipHistory(horizon, observations, all).enforce(policy, null);
  }

  /**
   * Drops what ended before {@code now - retention}; lookups before that horizon then answer
   * EXPIRED. Also enforces the caps.
   */
  public OwnershipHistory expire(Instant now, HistoryPolicy policy) {
    return enforce(policy, now.toEpochMilli());
  }

  private OwnershipHistory enforce(HistoryPolicy policy, Long nowMs) {
    long cut = horizon;
    if (nowMs != null) {
      cut = Math.max(cut, nowMs - policy.retention().toMillis());
    }
    int excessObserved = observations.size() - policy.maxObservedRanges();
    if (excessObserved > 0) {
      long[] ends = observations.stream().mapToLong(Observation::to).sorted().toArray();
      cut = Math.max(cut, ends[excessObserved - 1]);
    }
    int excessChanges = changes.size() - policy.maxChangeEvents();
    if (excessChanges > 0) {
      cut = Math.max(cut, changes.get(excessChanges - 1).time() + 1);
    }
    return cut > horizon ? compactAt(cut) : this;
  }

  /**
   * Forgets everything before {@code cut}, keeping what decides the answers from {@code cut} on:
   * observed ranges still running at cut, events from cut on, and the ASSIGNs of the owners that
   * hold the IP at cut.
   */
  private OwnershipHistory compactAt(long cut) {
    List<Observation> keptObserved = new ArrayList<>();
    for (Observation o : observations) {
      if (o.to() > cut) {
        keptObserved.add(o);
      }
    }
    Fold fold = new Fold();
    for (long b : boundaries(cut)) {
      fold.advanceTo(b, changes, observations);
    }
    List<Change> keptChanges = new ArrayList<>(fold.holders.values());
    for (Change c : changes) {
      if (c.time() >= cut) {
        keptChanges.add(c);
      }
    }
    return new OwnershipHistory(cut, keptObserved, keptChanges);
  }

  // ---- queries ------------------------------------------------------------------------------

  /** Who owned the IP at {@code at}, or why that is not known. */
  public Attribution lookup(Instant at) {
    long t = at.toEpochMilli();
    if (horizon != NO_HORIZON && t < horizon) {
      return Attribution.unattributed(AttributionStatus.EXPIRED);
    }
    if (horizon == NO_HORIZON && isEmpty()) {
      return Attribution.unattributed(AttributionStatus.NEVER_SEEN);
    }
    List<OwnershipRange> ranges = ranges();
    int low = 0;
    int high = ranges.size() - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      OwnershipRange r = ranges.get(mid);
      if (at.isBefore(r.from())) {
        high = mid - 1;
      } else if (r.to() != null && !at.isBefore(r.to())) {
        low = mid + 1;
      } else {
        return Attribution.of(r);
      }
    }
    return Attribution.unattributed(AttributionStatus.GAP);
  }

  /**
   * The resolved history: sorted, non-overlapping ranges from the horizon on, each one owner or a
   * CONFLICT; the last may be open-ended (to == null). Adjacent ranges with the same answer and
   * source are merged.
   */
  public List<OwnershipRange> ranges() {
    List<OwnershipRange> r = resolved;
    if (r == null) {
      r = resolve();
      resolved = r;
    }
    return r;
  }

  /** Start of the retained history; lookups before it answer EXPIRED. Empty when never cut. */
  public Optional<Instant> horizon() {
    return horizon == NO_HORIZON ? Optional.empty() : Optional.of(Instant.ofEpochMilli(horizon));
  }

  /**
   * The latest time any claim speaks of (the end of the last observed range, the last event). Past
   * it, a GAP may only mean "not reported yet": the collector can hold a flow back.
   */
  public Optional<Instant> lastEvidence() {
    long last = Long.MIN_VALUE;
    for (Observation o : observations) {
      last = Math.max(last, o.to() - 1);
    }
    for (Change c : changes) {
      last = Math.max(last, c.time());
    }
    return last == Long.MIN_VALUE ? Optional.empty() : Optional.of(Instant.ofEpochMilli(last));
  }

  /** True when no claim is held (a new history, or one whose claims all expired). */
  public boolean isEmpty() {
    return observations.isEmpty() && changes.isEmpty();
  }

  /** Number of observed (heartbeat) ranges held. */
  public int observedRangeCount() {
    return observations.size();
  }

  /** Number of change events held. */
  public int changeEventCount() {
    return changes.size();
  }

  long horizonMillis() {
    return horizon;
  }

  List<Observation> observations() {
    return observations;
  }

  List<Change> changes() {
    return changes;
  }

  // ---- resolution ---------------------------------------------------------------------------

  /** Event holders (by owner) with the ASSIGN that made each one a holder. */
  private static final class Fold {
    final Map<Owners.Key, Change> holders = new LinkedHashMap<>();
    private int nextChange;

    /** Applies the events at {@code b} and the closures by observations starting at {@code b}. */
    void advanceTo(long b, List<Change> changes, List<Observation> observations) {
      List<Change> assigns = new ArrayList<>();
      while (nextChange < changes.size() && changes.get(nextChange).time() <= b) {
        Change c = changes.get(nextChange++);
        if (c.action() == IdentityAction.UNASSIGN) {
          // Only the owner's own range ends; a stale UNASSIGN of a former owner changes nothing.
          holders.remove(Owners.Key.of(c.owner()));
        } else {
          assigns.add(c);
        }
      }
      if (!assigns.isEmpty()) {
        // A new ASSIGN ends every other owner's range. Several owners at once: a conflict.
        holders.clear();
        for (Change c : assigns) {
          holders.put(Owners.Key.of(c.owner()), c);
        }
      }
      for (Observation o : observations) {
        if (o.from() == b) {
          // First-hand traffic of one owner ends the event ranges of all others.
          Owners.Key observed = Owners.Key.of(o.owner());
          holders.keySet().removeIf(k -> !k.equals(observed));
        }
      }
    }
  }

  /** Distinct instants where the answer may change, below {@code limit}, ascending. */
  private long[] boundaries(long limit) {
    TreeSet<Long> set = new TreeSet<>();
    for (Observation o : observations) {
      set.add(o.from());
      set.add(o.to());
    }
    for (Change c : changes) {
      set.add(c.time());
    }
    return set.headSet(limit, false).stream().mapToLong(Long::longValue).toArray();
  }

  private List<OwnershipRange> resolve() {
    long[] bounds = boundaries(Long.MAX_VALUE);
    List<OwnershipRange> out = new ArrayList<>();
    Fold fold = new Fold();
    for (int i = 0; i < bounds.length; i++) {
      long b = bounds[i];
      fold.advanceTo(b, changes, observations);
      long end = i + 1 < bounds.length ? bounds[i + 1] : Long.MAX_VALUE;
      if (end <= horizon) {
        continue;
      }
      Segment s = segment(b, fold);
      if (s == null) {
        continue;
      }
      long from = Math.max(b, horizon);
      OwnershipRange range =
          new OwnershipRange(
              Instant.ofEpochMilli(from),
              end == Long.MAX_VALUE ? null : Instant.ofEpochMilli(end),
              s.status,
              s.owner,
              s.source,
              s.sourceInstance,
              s.contenders);
      OwnershipRange last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null
          && last.to() != null
          && last.to().equals(range.from())
          && sameAnswer(last, range)) {
        out.set(
            out.size() - 1,
            new OwnershipRange(
                last.from(),
                range.to(),
                last.status(),
                last.owner(),
                last.source(),
                last.sourceInstance(),
                last.contenders()));
      } else {
        out.add(range);
      }
    }
    return Collections.unmodifiableList(out);
  }

  private record Segment(
      AttributionStatus status,
      Identity owner,
      String source,
      String sourceInstance,
      List<Identity> contenders) {}

  /** The answer on [b, next boundary), or null for a gap. */
  private Segment segment(long b, Fold fold) {
    Map<Owners.Key, Identity> observed = new LinkedHashMap<>();
    for (Observation o : observations) {
      if (o.from() <= b && b < o.to()) {
        observed.merge(Owners.Key.of(o.owner()), o.owner(), OwnershipHistory::richer);
      }
    }
    if (observed.size() == 1) {
      return new Segment(
          AttributionStatus.OWNER,
          observed.values().iterator().next(),
          HEARTBEAT_SOURCE,
          null,
          List.of());
    }
    if (observed.size() > 1) {
      return conflict(observed.values());
    }
    if (fold.holders.size() == 1) {
      Change c = fold.holders.values().iterator().next();
      return new Segment(
          AttributionStatus.OWNER, c.owner(), c.source(), c.sourceInstance(), List.of());
    }
    if (fold.holders.size() > 1) {
      return conflict(fold.holders.values().stream().map(Change::owner).toList());
    }
    return null;
  }

  private static Segment conflict(Collection<Identity> claimants) {
    List<Identity> sorted = new ArrayList<>(claimants);
    sorted.sort(Owners.ORDER);
    return new Segment(AttributionStatus.CONFLICT, null, null, null, sorted);
  }

  private static boolean sameAnswer(OwnershipRange a, OwnershipRange b) {
    return a.status() == b.status()
        && Objects.equals(a.owner(), b.owner())
        && Objects.equals(a.source(), b.source())
        && Objects.equals(a.sourceInstance(), b.sourceInstance())
        && a.contenders().equals(b.contenders());
  }

  /** Ranges whose gap is at most {@code gap} ms (overlapping ranges have a negative gap). */
  private static boolean within(Observation a, Observation b, long gap) {
    return Math.max(a.from(), b.from()) - Math.min(a.to(), b.to()) <= gap;
  }

  /** The hull of two ranges of one owner, named by the identity of the later one. */
  private static Observation union(Observation a, Observation b) {
    Observation later = a.to() != b.to() ? (a.to() > b.to() ? a : b) : null;
    Identity owner = later != null ? later.owner() : richer(a.owner(), b.owner());
    return new Observation(owner, Math.min(a.from(), b.from()), Math.max(a.to(), b.to()));
  }

  /** Of two identities of the same owner, a fixed choice (the greater in {@link Owners#ORDER}). */
  private static Identity richer(Identity a, Identity b) {
    return Owners.ORDER.compare(a, b) >= 0 ? a : b;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OwnershipHistory other
        && horizon == other.horizon
        && observations.equals(other.observations)
        && changes.equals(other.changes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(horizon, observations, changes);
  }

  @Override
  public String toString() {
    return "OwnershipHistory{horizon="
        + (horizon == NO_HORIZON ? "none" : Instant.ofEpochMilli(horizon).toString())
        + ", observed="
        + observations.size()
        + ", events="
        + changes.size()
        + ", ranges="
        + ranges()
        + "}";
  }
}
