package io.flowsight.sidecar.flow;

import io.flowsight.enrichment.Cidr;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Connections the operator chose not to report ({@code --exclude}): those with <i>both</i> ends
 * inside the given blocks, such as a host's own services talking over loopback ({@code
 * 127.0.0.1/32,::1/128}). A connection with one end outside is always reported: excluding a block
 * never hides traffic to or from elsewhere.
 */
public final class ExcludedTraffic {

  private static final ExcludedTraffic NONE = new ExcludedTraffic(List.of());

  private final List<Cidr> blocks;

  private ExcludedTraffic(List<Cidr> blocks) {
    this.blocks = List.copyOf(blocks);
  }

  public static ExcludedTraffic none() {
    return NONE;
  }

  public static ExcludedTraffic of(List<Cidr> blocks) {
    return blocks.isEmpty() ? NONE : new ExcludedTraffic(blocks);
  }

  public List<Cidr> blocks() {
    return blocks;
  }

  /** Whether both ends of the record's connection are in excluded blocks. */
  public boolean excludes(FlowRecord record) {
    return !blocks.isEmpty() && inAny(record.getLocalIp()) && inAny(record.getRemoteIp());
  }

  private boolean inAny(ByteBuffer ip) {
    byte[] address = IpAddresses.bytes(ip);
    for (Cidr block : blocks) {
      if (block.contains(address)) {
        return true;
      }
    }
    return false;
  }
}
