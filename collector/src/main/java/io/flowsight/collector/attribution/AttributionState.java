package io.flowsight.collector.attribution;

import io.flowsight.codec.Bin;
import io.flowsight.collector.wire.Messages;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.ownership.CidrTable;
import io.flowsight.enrichment.ownership.HistoryPolicy;
import io.flowsight.enrichment.ownership.OwnershipHistory;
import io.flowsight.schemas.IpIdentityChange;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The state of the attribution sub-topology of one task (one partition of the co-partitioned
 * inputs), over its stores:
 *
 * <ul>
 *   <li>{@value #OWNERSHIP}: IP text to {@link OwnershipHistory};
 *   <li>{@value #HELD}: held flows, key {@code ip \0 partition:offset} (prefix-scanned per IP when
 *       new evidence for the IP arrives);
 *   <li>{@value #HELD_INDEX}: {@code C ip} to the IP's held-flow count (read on every heartbeat, so
 *       the prefix scan happens only for IPs that have held flows), {@code D deadline \0 ip \0
 *       partition:offset} (range-scanned for the flows whose hold-back is over) and {@code S
 *       settleAt \0 ip \0 partition:offset} (range-scanned, on the evidence clock, for the flows
 *       whose settle delay is over);
 *   <li>{@value #CONNECTIONS}: per connection (the 5-tuple, the reporting side and its
 *       connectionStartTime), the label its sidecar gave its own end, and the ends decided from the
 *       histories, so that the other side's record takes the first-hand label and every later
 *       record of a long-lived connection the owners decided for its start (see {@link
 *       ConnectionEnds});
 *   <li>{@value #CIDR}: this task's copy of the CIDR blocks' change events, and a version counter;
 *       each processor keeps the {@link CidrTable} built from them and rebuilds it when the version
 *       moved.
 * </ul>
 *
 * Several processors of one task use the same stores, each through its own instance of this class:
 * nothing is cached across calls except the CIDR table, which checks the version.
 */
final class AttributionState {

  static final String OWNERSHIP = "ownership";
  static final String HELD = "held";
  static final String HELD_INDEX = "held-index";
  static final String CIDR = "cidr";
  static final String CONNECTIONS = "connections";

  private static final String CIDR_VERSION = "v";
  private static final String CIDR_EVENT = "e\u0000";

  private final KeyValueStore<String, OwnershipHistory> ownership;
  private final KeyValueStore<String, HeldFlow> held;
  private final KeyValueStore<String, Long> heldIndex;
  private final KeyValueStore<String, byte[]> cidr;
  private final ConnectionEnds connections;
  private final HistoryPolicy policy;

  private long cidrVersion = -1;
  private CidrTable cidrTable = CidrTable.empty();

  AttributionState(ProcessingContext context, HistoryPolicy policy) {
    this.ownership = context.getStateStore(OWNERSHIP);
    this.held = context.getStateStore(HELD);
    this.heldIndex = context.getStateStore(HELD_INDEX);
    this.cidr = context.getStateStore(CIDR);
    this.connections = new ConnectionEnds(context.getStateStore(CONNECTIONS));
    this.policy = policy;
  }

  ConnectionEnds connections() {
    return connections;
  }

  HistoryPolicy policy() {
    return policy;
  }

  // ---- ownership -------------------------------------------------------------------------------

  OwnershipHistory history(String ip) {
    return ownership.get(ip);
  }

  void putHistory(String ip, OwnershipHistory history) {
    ownership.put(ip, history);
  }

  /**
   * Applies retention to every history and forgets IPs with nothing left (they answer NEVER_SEEN
   * from then on, not EXPIRED, and the store does not keep every IP ever seen).
   */
  void sweep(Instant now) {
    List<KeyValue<String, OwnershipHistory>> changed = new ArrayList<>();
    try (KeyValueIterator<String, OwnershipHistory> it = ownership.all()) {
      while (it.hasNext()) {
        KeyValue<String, OwnershipHistory> e = it.next();
        OwnershipHistory h = e.value.expire(now, policy);
        if (h != e.value) {
          changed.add(KeyValue.pair(e.key, h.isEmpty() ? null : h));
        }
      }
    }
    for (KeyValue<String, OwnershipHistory> e : changed) {
      if (e.value == null) {
        ownership.delete(e.key);
      } else {
        ownership.put(e.key, e.value);
      }
    }
  }

  // ---- held flows ------------------------------------------------------------------------------

  long heldCount(String ip) {
    Long count = heldIndex.get("C" + ip);
    return count == null ? 0 : count;
  }

  void hold(String ip, HeldFlow flow) {
    String id = flow.flow().originId();
    held.put(heldKey(ip, id), flow);
    heldIndex.put(deadlineKey(flow.flow().holdDeadline(), ip, id), 0L);
    if (flow.settling()) {
      heldIndex.put(settleKey(flow.settleAt(), ip, id), 0L);
    }
    heldIndex.put("C" + ip, heldCount(ip) + 1);
  }

  void release(String ip, HeldFlow flow) {
    String id = flow.flow().originId();
    held.delete(heldKey(ip, id));
    heldIndex.delete(deadlineKey(flow.flow().holdDeadline(), ip, id));
    if (flow.settling()) {
      heldIndex.delete(settleKey(flow.settleAt(), ip, id));
    }
    long count = heldCount(ip) - 1;
    if (count > 0) {
      heldIndex.put("C" + ip, count);
    } else {
      heldIndex.delete("C" + ip);
    }
  }

  /** The flows held for {@code ip}, in key order. */
  List<HeldFlow> heldFor(String ip) {
    List<HeldFlow> flows = new ArrayList<>();
    try (KeyValueIterator<String, HeldFlow> it =
        held.prefixScan(ip + "\u0000", new StringSerializer())) {
      while (it.hasNext()) {
        flows.add(it.next().value);
      }
    }
    return flows;
  }

  /** A held flow whose hold-back ended, and the IP it waited for. */
  record Due(String ip, HeldFlow flow) {}

  /** The held flows whose deadline is at or before {@code now}, earliest first. */
  List<Due> due(long now) {
    return indexed("D", now);
  }

  /** The flows waiting to settle whose settle time is at or before {@code evidenceNow}. */
  List<Due> settled(long evidenceNow) {
    return indexed("S", evidenceNow);
  }

  private List<Due> indexed(String index, long now) {
    List<Due> due = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    if (now < 0) {
      return due;
    }
    try (KeyValueIterator<String, Long> it =
        heldIndex.range(index, index + hex(now + 1) + "\u0000")) {
      while (it.hasNext()) {
        keys.add(it.next().key);
      }
    }
    for (String key : keys) {
      int first = key.indexOf('\u0000');
      int second = key.indexOf('\u0000', first + 1);
      String ip = key.substring(first + 1, second);
      String id = key.substring(second + 1);
      HeldFlow flow = held.get(heldKey(ip, id));
      if (flow != null) {
        due.add(new Due(ip, flow));
      } else {
        heldIndex.delete(key); // cannot happen: both are written together
      }
    }
    return due;
  }

  /**
   * Number of held flows of this task, by the metrics' reason label (SETTLING, or the unknown
   * owner's NEVER_SEEN / GAP), for the gauge when a task starts.
   */
  Map<String, Long> heldByReason() {
    Map<String, Long> counts = new TreeMap<>();
    try (KeyValueIterator<String, HeldFlow> it = held.all()) {
      while (it.hasNext()) {
        counts.merge(it.next().value.metricsReason(), 1L, Long::sum);
      }
    }
    return counts;
  }

  private static String heldKey(String ip, String id) {
    return ip + "\u0000" + id;
  }

  private static String deadlineKey(long deadline, String ip, String id) {
    return "D" + hex(deadline) + "\u0000" + ip + "\u0000" + id;
  }

  private static String settleKey(long settleAt, String ip, String id) {
    return "S" + hex(settleAt) + "\u0000" + ip + "\u0000" + id;
  }

  /** 16 hex digits: sorts like the (non-negative) number. */
  private static String hex(long v) {
    String h = Long.toHexString(Math.max(0, v));
    return "0".repeat(16 - h.length()) + h;
  }

  // ---- CIDR blocks -----------------------------------------------------------------------------

  /** Adds a block's change event to this task's copy of the CIDR tables. */
  void addCidrChange(IpIdentityChange change) {
    byte[] bytes = Messages.avro(change);
    String key =
        CIDR_EVENT
            + IpAddresses.toText(change.getIp())
            + "/"
            + change.getPrefixLength()
            + "\u0000"
            + hex(change.getEventTime().toEpochMilli())
            + "\u0000"
            + HexFormat.of().formatHex(sha(bytes));
    if (cidr.get(key) != null) {
      return; // the same event again (a replay, or the source republished it)
    }
    cidr.put(key, bytes);
    byte[] version = cidr.get(CIDR_VERSION);
    long next = (version == null ? 0 : Bin.getLong8(version, 0)) + 1;
    byte[] v = new byte[8];
    Bin.putLong8(v, 0, next);
    cidr.put(CIDR_VERSION, v);
  }

  /** The CIDR tables of this task, rebuilt when a change arrived since the last call. */
  CidrTable cidrs() {
    byte[] version = cidr.get(CIDR_VERSION);
    long v = version == null ? 0 : Bin.getLong8(version, 0);
    if (v != cidrVersion) {
      CidrTable table = CidrTable.empty();
      try (KeyValueIterator<String, byte[]> it =
          cidr.prefixScan(CIDR_EVENT, new StringSerializer())) {
        while (it.hasNext()) {
          try {
            table = table.with(Messages.fromAvro(it.next().value, 0), policy);
          } catch (RuntimeException e) {
            // Validated before it was stored; a block that still does not apply is skipped.
          }
        }
      }
      cidrTable = table;
      cidrVersion = v;
    }
    return cidrTable;
  }

  private static byte[] sha(byte[] bytes) {
    try {
      return Arrays.copyOf(MessageDigest.getInstance("SHA-256").digest(bytes), 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
