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
 *       (a FlowRecord's local IP and localIdentity). Overlapping or touching ranges of the same
 *       owner are stored as one;
 *   <li><b>change events</b> (second-hand): IpIdentityChange ASSIGN / UNASSIGN from the identity
 *       sources, kept as a set.
 * </ul>
 *
 * <h2>How it resolves ({@link #ranges(HistoryPolicy)}, {@link #lookup(Instant, HistoryPolicy)})
 * </h2>
 *
 * <ol>
 *   <li><b>Bridging.</b> Two observed ranges of the same owner at most {@link
 *       HistoryPolicy#mergeGap()} apart are read as one, <i>unless</i> there is evidence in between
 *       that someone else may have held the IP: another owner's observed range, any change event
 *       other than this owner's own ASSIGN. A bridge never spans another owner's tenure.
 *   <li>Observed ranges beat change events: where a (bridged) heartbeat covers t, its owner is the
 *       answer. Two different owners observed at the same instant contradict each other first-hand:
 *       that time is CONFLICT (both are reported as contenders).
 *   <li>Elsewhere the change events decide, taken in eventTime order: an ASSIGN opens an open-ended
 *       range for its owner and ends any other owner's range (the later eventTime wins the
 *       boundary); an UNASSIGN ends its owner's range. Events at the same instant: UNASSIGNs first,
 *       then ASSIGNs; two different owners ASSIGNed at the same instant are a CONFLICT until a
 *       later event settles it.
 *   <li>An open ASSIGN stops at the first contrary evidence: a first-hand observation of owner B
 *       starting at t ends, at t, every other owner's event range that began before t (B's own
 *       traffic proves the IP had moved, even if the UNASSIGN was lost); an UNASSIGN of owner B at
 *       t while the events give the IP to A (B's ASSIGN unknown, or older than A's) says B held it
 *       until t: A's event range up to t is a CONFLICT of A and B.
 *   <li>Nothing holds t: GAP when anything is known about the IP, NEVER_SEEN when nothing ever was;
 *       t before the retained horizon: EXPIRED.
 *   <li>An owner is the answer only if it holds the whole {@link HistoryPolicy#boundaryMargin()}
 *       around t: within the margin of a change to another owner the answer is a CONFLICT of the
 *       owners on both sides, within the margin of a time nobody is known to hold it is a GAP (an
 *       unknown owner may have had t). Clocks of different hosts differ by that much.
 * </ol>
 *
 * Out-of-order inputs need no special case: an UNASSIGN that arrives before its ASSIGN is joined
 * with it as soon as the ASSIGN arrives (the collector decides only after a settle delay, see its
 * docs).
 *
 * <h2>Bounds</h2>
 *
 * By time only. {@link #expire(Instant, HistoryPolicy)} drops what ended before {@code now -
 * retention}; the ASSIGN that still holds the IP at the horizon is kept, so a long-lived owner
 * stays known. An input older than the horizon is ignored (the method returns {@code this}).
 * Observed ranges that ended more than {@link HistoryPolicy#compactAfter()} before the IP's latest
 * evidence are stored bridged, so a busy IP keeps a few ranges per tenure, not one per connection.
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
  private volatile Resolved resolved;

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
      if (o.from() <= f && o.to() >= t && Owners.Key.of(o.owner()).equals(key)) {
        return this;
      }
    }
    Observation merged = new Observation(Owners.copy(owner), f, t);
    List<Observation> rest = new ArrayList<>(observations);
    boolean absorbed = true;
    while (absorbed) {
      absorbed = false;
      for (int i = 0; i < rest.size(); i++) {
        Observation o = rest.get(i);
        // Overlapping or touching only: a gap is bridged (or not) when resolving.
        if (Owners.Key.of(o.owner()).equals(key) && gap(o, merged) <= 0) {
          merged = union(o, merged);
          rest.remove(i);
          absorbed = true;
          break;
        }
      }
    }
    rest.add(merged);
    OwnershipHistory next = new OwnershipHistory(horizon, rest, changes);
    long latest = Long.MIN_VALUE;
    for (Observation o : rest) {
      latest = Math.max(latest, o.to());
    }
    return next.compacted(policy, latest - policy.compactAfter().toMillis());
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
    return new OwnershipHistory(horizon, observations, all);
  }

  /**
   * Drops what ended before {@code now - retention}; lookups before that horizon then answer
   * EXPIRED. Also stores the settled bridges ({@link HistoryPolicy#compactAfter()}).
   */
  public OwnershipHistory expire(Instant now, HistoryPolicy policy) {
    long nowMs = now.toEpochMilli();
    OwnershipHistory h = compacted(policy, nowMs - policy.compactAfter().toMillis());
    long cut = Math.max(h.horizon, nowMs - policy.retention().toMillis());
    return cut > h.horizon ? h.compactAt(cut, policy) : h;
  }

  /** This history with the bridges whose gap ended before {@code limit} stored as one range. */
  private OwnershipHistory compacted(HistoryPolicy policy, long limit) {
    List<Observation> bridged = effective(policy.mergeGap().toMillis(), limit);
    return bridged.size() == observations.size()
        ? this
        : new OwnershipHistory(horizon, bridged, changes);
  }

  /**
   * Forgets everything before {@code cut}, keeping what decides the answers from {@code cut} on:
   * observed ranges still running at cut, events from cut on, and the ASSIGNs of the owners that
   * hold the IP at cut.
   */
  private OwnershipHistory compactAt(long cut, HistoryPolicy policy) {
    List<Observation> effective = effective(policy.mergeGap().toMillis(), Long.MAX_VALUE);
    List<Observation> keptObserved = new ArrayList<>();
    for (Observation o : observations) {
      if (o.to() > cut) {
        keptObserved.add(o);
      }
    }
    Sweep sweep = new Sweep(effective, changes);
    for (long b : boundaries(effective, changes, cut)) {
      sweep.advanceTo(b);
    }
    List<Change> keptChanges = new ArrayList<>(sweep.holders.values());
    for (Change c : changes) {
      if (c.time() >= cut) {
        keptChanges.add(c);
      }
    }
    return new OwnershipHistory(cut, keptObserved, keptChanges);
  }

  // ---- queries ------------------------------------------------------------------------------

  /** {@link #lookup(Instant, HistoryPolicy)} with {@link HistoryPolicy#DEFAULT}. */
  public Attribution lookup(Instant at) {
    return lookup(at, HistoryPolicy.DEFAULT);
  }

  /** Who owned the IP at {@code at}, or why that is not known. */
  public Attribution lookup(Instant at, HistoryPolicy policy) {
    long t = at.toEpochMilli();
    if (horizon != NO_HORIZON && t < horizon) {
      return Attribution.unattributed(AttributionStatus.EXPIRED);
    }
    if (horizon == NO_HORIZON && isEmpty()) {
      return Attribution.unattributed(AttributionStatus.NEVER_SEEN);
    }
    List<OwnershipRange> ranges = ranges(policy);
    int at0 = indexAt(ranges, t);
    long margin = policy.boundaryMargin().toMillis();
    if (margin > 0 && at0 >= 0) {
      // The owner must hold the whole [t - margin, t + margin]: every owner with a claim within
      // the margin (more than one: too close to call, CONFLICT), and whether a time nobody is
      // known to hold lies within it (then an unknown owner may have had t: GAP).
      Map<Owners.Key, Identity> near = new LinkedHashMap<>();
      int first = at0;
      while (first > 0 && endOf(ranges.get(first - 1)) > t - margin) {
        first--;
      }
      long covered = t - margin;
      boolean hole = ranges.get(first).from().toEpochMilli() > covered;
      for (int i = first; i < ranges.size(); i++) {
        OwnershipRange r = ranges.get(i);
        long from = r.from().toEpochMilli();
        if (from > t + margin) {
          break;
        }
        hole |= from > covered;
        covered = Math.max(covered, endOf(r));
        if (r.status() == AttributionStatus.OWNER) {
          near.putIfAbsent(Owners.Key.of(r.owner()), r.owner());
        } else {
          r.contenders().forEach(c -> near.putIfAbsent(Owners.Key.of(c), c));
        }
      }
      hole |= covered < t + margin;
      if (near.size() > 1) {
        List<Identity> contenders = new ArrayList<>(near.values());
        contenders.sort(Owners.ORDER);
        return new Attribution(AttributionStatus.CONFLICT, null, null, null, null, contenders);
      }
      if (hole) {
        return Attribution.unattributed(AttributionStatus.GAP);
      }
    }
    return at0 >= 0
        ? Attribution.of(ranges.get(at0))
        : Attribution.unattributed(AttributionStatus.GAP);
  }

  private static long endOf(OwnershipRange r) {
    return r.to() == null ? Long.MAX_VALUE : r.to().toEpochMilli();
  }

  /** The index of the range holding t, or (-insertion point - 1) when none does. */
  private static int indexAt(List<OwnershipRange> ranges, long t) {
    int low = 0;
    int high = ranges.size() - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      OwnershipRange r = ranges.get(mid);
      if (t < r.from().toEpochMilli()) {
        high = mid - 1;
      } else if (t >= endOf(r)) {
        low = mid + 1;
      } else {
        return mid;
      }
    }
    return -low - 1;
  }

  /** {@link #ranges(HistoryPolicy)} with {@link HistoryPolicy#DEFAULT}. */
  public List<OwnershipRange> ranges() {
    return ranges(HistoryPolicy.DEFAULT);
  }

  /**
   * The resolved history: sorted, non-overlapping ranges from the horizon on, each one owner or a
   * CONFLICT; the last may be open-ended (to == null). Adjacent ranges with the same answer and
   * source are merged.
   */
  public List<OwnershipRange> ranges(HistoryPolicy policy) {
    long gap = policy.mergeGap().toMillis();
    Resolved r = resolved;
    if (r == null || r.mergeGap != gap) {
      r = new Resolved(gap, resolve(gap));
      resolved = r;
    }
    return r.ranges;
  }

  /**
   * Whether {@code after} takes an owner away from a time before {@code limit} that {@code before}
   * gave to it: somewhere before the limit, before answers OWNER X and after answers anything else
   * (another owner, a CONFLICT, a GAP). Ends decided at such a time before the new evidence came
   * may be wrong: the collector counts these.
   */
  public static boolean takesAnOwnerAway(
      OwnershipHistory before, OwnershipHistory after, long limit, HistoryPolicy policy) {
    List<OwnershipRange> old = before.ranges(policy);
    List<OwnershipRange> now = after.ranges(policy);
    for (OwnershipRange r : old) {
      long from = r.from().toEpochMilli();
      if (from >= limit) {
        break;
      }
      if (r.status() != AttributionStatus.OWNER) {
        continue;
      }
      long to = Math.min(endOf(r), limit);
      Owners.Key owner = Owners.Key.of(r.owner());
      long covered = from;
      int first = indexAt(now, from);
      for (int i = first >= 0 ? first : -first - 1; i < now.size() && covered < to; i++) {
        OwnershipRange n = now.get(i);
        long nFrom = n.from().toEpochMilli();
        if (endOf(n) <= covered) {
          continue;
        }
        if (nFrom > covered
            || n.status() != AttributionStatus.OWNER
            || !Owners.Key.of(n.owner()).equals(owner)) {
          return true;
        }
        covered = endOf(n);
      }
      if (covered < to) {
        return true;
      }
    }
    return false;
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

  private record Resolved(long mergeGap, List<OwnershipRange> ranges) {}

  /**
   * The observed ranges with every allowed bridge applied: same owner, gap at most {@code
   * mergeGap}, the gap ending at or before {@code limit}, and no evidence of anyone else in it.
   */
  private List<Observation> effective(long mergeGap, long limit) {
    if (observations.size() < 2) {
      return observations;
    }
    Map<Owners.Key, List<Observation>> byOwner = new LinkedHashMap<>();
    for (Observation o : observations) {
      byOwner.computeIfAbsent(Owners.Key.of(o.owner()), k -> new ArrayList<>()).add(o);
    }
    if (byOwner.size() == observations.size()) {
      return observations; // one range per owner: nothing to bridge
    }
    List<Observation> out = new ArrayList<>(observations.size());
    for (Map.Entry<Owners.Key, List<Observation>> e : byOwner.entrySet()) {
      List<Observation> mine = e.getValue();
      Observation current = mine.get(0);
      for (int i = 1; i < mine.size(); i++) {
        Observation next = mine.get(i);
        long g = gap(current, next);
        if (g <= 0
            || (g <= mergeGap
                && next.from() <= limit
                && !othersIn(e.getKey(), current.to(), next.from()))) {
          current = union(current, next);
        } else {
          out.add(current);
          current = next;
        }
      }
      out.add(current);
    }
    out.sort(OBSERVATION_ORDER);
    return out;
  }

  /** Whether anything but {@code owner}'s own ASSIGN or heartbeat speaks of [from, to). */
  private boolean othersIn(Owners.Key owner, long from, long to) {
    for (Observation o : observations) {
      if (o.from() >= to) {
        break; // sorted by from
      }
      if (o.to() > from && !Owners.Key.of(o.owner()).equals(owner)) {
        return true;
      }
    }
    for (Change c : changes) {
      if (c.time() >= to) {
        break; // sorted by time
      }
      if (c.time() >= from
          && !(c.action() == IdentityAction.ASSIGN && Owners.Key.of(c.owner()).equals(owner))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Walks the boundaries in time order: the event holders (by owner, with the ASSIGN that made each
   * one a holder) and the observed ranges running at the current boundary.
   */
  private static final class Sweep {
    final Map<Owners.Key, Change> holders = new LinkedHashMap<>();
    final List<Observation> running = new ArrayList<>();
    private final List<Observation> observations;
    private final List<Change> changes;
    private int nextChange;
    private int nextObservation;

    Sweep(List<Observation> observations, List<Change> changes) {
      this.observations = observations;
      this.changes = changes;
    }

    /** Applies the events at or before {@code b} and the observations starting by {@code b}. */
    void advanceTo(long b) {
      List<Change> assigns = new ArrayList<>();
      while (nextChange < changes.size() && changes.get(nextChange).time() <= b) {
        Change c = changes.get(nextChange++);
        if (c.action() == IdentityAction.UNASSIGN) {
          // Only the owner's own range ends; an UNASSIGN of another owner is read after resolving.
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
      running.removeIf(o -> o.to() <= b);
      while (nextObservation < observations.size()
          && observations.get(nextObservation).from() <= b) {
        Observation o = observations.get(nextObservation++);
        if (o.to() > b) {
          running.add(o);
        }
        if (o.from() == b) {
          // First-hand traffic of one owner ends the event ranges of all others.
          Owners.Key observed = Owners.Key.of(o.owner());
          holders.keySet().removeIf(k -> !k.equals(observed));
        }
      }
    }
  }

  /** Distinct instants where the answer may change, below {@code limit}, ascending. */
  private static long[] boundaries(
      List<Observation> observations, List<Change> changes, long limit) {
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

  private List<OwnershipRange> resolve(long mergeGap) {
    List<Observation> effective = effective(mergeGap, Long.MAX_VALUE);
    long[] bounds = boundaries(effective, changes, Long.MAX_VALUE);
    List<OwnershipRange> out = new ArrayList<>();
    Sweep sweep = new Sweep(effective, changes);
    for (int i = 0; i < bounds.length; i++) {
      long b = bounds[i];
      sweep.advanceTo(b);
      long end = i + 1 < bounds.length ? bounds[i + 1] : Long.MAX_VALUE;
      if (end <= horizon) {
        continue;
      }
      Segment s = segment(sweep);
      if (s == null) {
        continue;
      }
      append(
          out,
          new OwnershipRange(
              Instant.ofEpochMilli(Math.max(b, horizon)),
              end == Long.MAX_VALUE ? null : Instant.ofEpochMilli(end),
              s.status,
              s.owner,
              s.source,
              s.sourceInstance,
              s.contenders));
    }
    contestByOtherOwnersUnassigns(out);
    return Collections.unmodifiableList(out);
  }

  private static void append(List<OwnershipRange> out, OwnershipRange range) {
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

  /**
   * An UNASSIGN of owner B at t, where the events give the IP to another owner A just before t,
   * says B held the IP until t while A's ASSIGN says A did: A's event range up to t becomes a
   * CONFLICT of A and B (B's ASSIGN was lost or is older than A's). Heartbeat ranges are first-hand
   * and stay.
   */
  private void contestByOtherOwnersUnassigns(List<OwnershipRange> ranges) {
    for (Change c : changes) {
      if (c.action() != IdentityAction.UNASSIGN || c.time() <= horizon) {
        continue;
      }
      int i = indexAt(ranges, c.time() - 1);
      if (i < 0) {
        continue;
      }
      OwnershipRange r = ranges.get(i);
      if (r.status() != AttributionStatus.OWNER
          || HEARTBEAT_SOURCE.equals(r.source())
          || Owners.Key.of(r.owner()).equals(Owners.Key.of(c.owner()))) {
        continue;
      }
      List<Identity> contenders = new ArrayList<>(List.of(r.owner(), c.owner()));
      contenders.sort(Owners.ORDER);
      Instant at = Instant.ofEpochMilli(c.time());
      List<OwnershipRange> split = new ArrayList<>(2);
      split.add(
          new OwnershipRange(
              r.from(), at, AttributionStatus.CONFLICT, null, null, null, contenders));
      if (r.to() == null || r.to().isAfter(at)) {
        split.add(
            new OwnershipRange(
                at, r.to(), r.status(), r.owner(), r.source(), r.sourceInstance(), r.contenders()));
      }
      ranges.remove(i);
      ranges.addAll(i, split);
    }
  }

  private record Segment(
      AttributionStatus status,
      Identity owner,
      String source,
      String sourceInstance,
      List<Identity> contenders) {}

  /** The answer on [b, next boundary), or null for a gap. */
  private static Segment segment(Sweep sweep) {
    Map<Owners.Key, Identity> observed = new LinkedHashMap<>();
    for (Observation o : sweep.running) {
      observed.merge(Owners.Key.of(o.owner()), o.owner(), OwnershipHistory::richer);
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
    if (sweep.holders.size() == 1) {
      Change c = sweep.holders.values().iterator().next();
      return new Segment(
          AttributionStatus.OWNER, c.owner(), c.source(), c.sourceInstance(), List.of());
    }
    if (sweep.holders.size() > 1) {
      return conflict(sweep.holders.values().stream().map(Change::owner).toList());
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

  /** The time between two ranges (negative when they overlap, 0 when they touch). */
  private static long gap(Observation a, Observation b) {
    return Math.max(a.from(), b.from()) - Math.min(a.to(), b.to());
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
