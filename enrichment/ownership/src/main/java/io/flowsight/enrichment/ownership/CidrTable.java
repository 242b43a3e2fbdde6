package io.flowsight.enrichment.ownership;

import io.flowsight.enrichment.Cidr;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.IpIdentityChange;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Address space without per-IP owners: "10.20.0.0/16 is data center X", cloud ranges, "the
 * internet". An immutable value built from IpIdentityChange events with a prefixLength; each block
 * has its own {@link OwnershipHistory} (events only), so a block can be assigned, reassigned and
 * removed over time with the same rules as a single IP.
 *
 * <p>{@link #match} answers the longest prefix whose block had an owner at the asked time (IPv4 and
 * IPv6 kept apart). It is the fallback after the per-IP history: see {@link Attributor}.
 */
public final class CidrTable {

  private static final CidrTable EMPTY = new CidrTable(Map.of());

  private final Map<Cidr, OwnershipHistory> blocks;

  /** Distinct prefix lengths present, longest first, per family. */
  private final int[] v4Lengths;

  private final int[] v6Lengths;

  private CidrTable(Map<Cidr, OwnershipHistory> blocks) {
    this.blocks = Collections.unmodifiableMap(blocks);
    TreeSet<Integer> v4 = new TreeSet<>(Collections.reverseOrder());
    TreeSet<Integer> v6 = new TreeSet<>(Collections.reverseOrder());
    for (Cidr block : blocks.keySet()) {
      (block.bits() == 32 ? v4 : v6).add(block.prefixLength());
    }
    this.v4Lengths = v4.stream().mapToInt(Integer::intValue).toArray();
    this.v6Lengths = v6.stream().mapToInt(Integer::intValue).toArray();
  }

  public static CidrTable empty() {
    return EMPTY;
  }

  /**
   * Applies a block's change event.
   *
   * @throws IllegalArgumentException when the event is for a single IP (prefixLength null) or the
   *     block is malformed
   */
  public CidrTable with(IpIdentityChange change, HistoryPolicy policy) {
    if (change.getPrefixLength() == null) {
      throw new IllegalArgumentException(
          "a single IP's change belongs in its OwnershipHistory, not in a CidrTable");
    }
    Cidr block = Cidr.of(IpAddresses.bytes(change.getIp()), change.getPrefixLength());
    OwnershipHistory before = blocks.getOrDefault(block, OwnershipHistory.empty());
    OwnershipHistory after =
        before.withChange(
            change.getAction(),
            change.getIdentity(),
            change.getEventTime(),
            change.getSource(),
            change.getSourceInstance(),
            policy);
    if (after == before) {
      return this;
    }
    Map<Cidr, OwnershipHistory> next = new LinkedHashMap<>(blocks);
    next.put(block, after);
    return new CidrTable(next);
  }

  /** Drops what expired in every block's history (see {@link OwnershipHistory#expire}). */
  public CidrTable expire(Instant now, HistoryPolicy policy) {
    Map<Cidr, OwnershipHistory> next = new LinkedHashMap<>();
    boolean changed = false;
    for (Map.Entry<Cidr, OwnershipHistory> e : blocks.entrySet()) {
      OwnershipHistory h = e.getValue().expire(now, policy);
      changed |= h != e.getValue();
      next.put(e.getKey(), h);
    }
    return changed ? new CidrTable(next) : this;
  }

  /**
   * The longest block containing {@code ip} that had an owner at {@code at}, as a CIDR attribution.
   * A block that had none then (not yet assigned, removed, contradicting claims) is passed over for
   * the next shorter one.
   */
  public Optional<Attribution> match(byte[] ip, Instant at) {
    byte[] address = IpAddresses.normalize(ip);
    for (int length : address.length == 4 ? v4Lengths : v6Lengths) {
      Cidr block = Cidr.containing(address, length);
      OwnershipHistory history = blocks.get(block);
      if (history == null) {
        continue;
      }
      Attribution a = history.lookup(at);
      if (a.status() == AttributionStatus.OWNER) {
        OwnershipRange range =
            history.ranges().stream().filter(r -> r.contains(at)).findFirst().orElseThrow();
        return Optional.of(Attribution.cidr(block, range));
      }
    }
    return Optional.empty();
  }

  /** Every block with its history. */
  public Map<Cidr, OwnershipHistory> blocks() {
    return blocks;
  }

  public int size() {
    return blocks.size();
  }
}
