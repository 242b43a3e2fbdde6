package io.flowsight.enrichment.ownership;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IpIdentityChange;
import java.net.InetAddress;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * Every IP's history and the CIDR tables in memory: the whole attribution library behind one
 * thread-safe object, for the sidecar's node-local resolver, tools and tests. (The collector keeps
 * the same {@link OwnershipHistory} values in a Kafka Streams store and calls {@link Attributor}.)
 */
public final class OwnershipDirectory {

  private final HistoryPolicy policy;
  private final Map<String, OwnershipHistory> histories = new HashMap<>();
  private CidrTable cidrs = CidrTable.empty();

  public OwnershipDirectory(HistoryPolicy policy) {
    this.policy = policy;
  }

  /** Applies a change event: to the IP's history, or to the CIDR tables for a block. */
  public synchronized void apply(IpIdentityChange change) {
    if (change.getPrefixLength() != null) {
      cidrs = cidrs.with(change, policy);
      return;
    }
    String ip = IpAddresses.toText(change.getIp());
    histories.put(
        ip, histories.getOrDefault(ip, OwnershipHistory.empty()).withChange(change, policy));
  }

  /** The flow record as a heartbeat of its local IP, when it names its local identity. */
  public void observe(FlowRecord record) {
    Heartbeat.of(record).ifPresent(this::observe);
  }

  public synchronized void observe(Heartbeat heartbeat) {
    histories.put(
        heartbeat.ip(),
        heartbeat.applyTo(
            histories.getOrDefault(heartbeat.ip(), OwnershipHistory.empty()), policy));
  }

  public void observe(byte[] ip, Identity owner, Instant from, Instant to) {
    observe(new Heartbeat(IpAddresses.toText(ip), owner, from, to));
  }

  /** Who owned {@code ip} at {@code at} (per-IP history first, then CIDR blocks). */
  public synchronized Attribution lookup(byte[] ip, Instant at) {
    return Attributor.attribute(histories.get(IpAddresses.toText(ip)), cidrs, ip, at, policy);
  }

  public Attribution lookup(InetAddress ip, Instant at) {
    return lookup(IpAddresses.of(ip), at);
  }

  public Attribution lookup(String ip, Instant at) {
    return lookup(IpAddresses.parse(ip), at);
  }

  /** Applies retention everywhere and forgets IPs with no claim left. */
  public synchronized void expire(Instant now) {
    for (Iterator<Map.Entry<String, OwnershipHistory>> it = histories.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<String, OwnershipHistory> e = it.next();
      OwnershipHistory h = e.getValue().expire(now, policy);
      if (h.isEmpty()) {
        // Nothing left but the horizon: forget the IP (it answers NEVER_SEEN from now on, not
        // EXPIRED), or a long-running process would keep every IP it ever saw.
        it.remove();
      } else {
        e.setValue(h);
      }
    }
    cidrs = cidrs.expire(now, policy);
  }

  public synchronized Optional<OwnershipHistory> history(String ip) {
    return Optional.ofNullable(histories.get(IpAddresses.canonical(ip)));
  }

  public synchronized CidrTable cidrs() {
    return cidrs;
  }

  public synchronized int size() {
    return histories.size();
  }
}
