package io.flowsight.collector.attribution;

import io.flowsight.collector.wire.Messages.ToAggregate;
import io.flowsight.collector.wire.Messages.ToRemote;

/**
 * What the attribution processors emit, and where it goes: the dead-letter topic, the remote-lookup
 * repartition topic (keyed by the remote IP's text), or the aggregation repartition topic (keyed by
 * the aggregation key), or back to attribution through the re-keying repartition topic. The
 * topology splits the stream on the type.
 */
public sealed interface Routed {

  record DeadLettered(DeadLetter letter) implements Routed {}

  record ToRemoteLookup(ToRemote message) implements Routed {}

  record ToAggregation(ToAggregate message) implements Routed {}

  /**
   * An input record found in a partition its key does not map to under Java's default (murmur2)
   * partitioner: sent again, keyed the same, through a repartition topic that places it right.
   *
   * @param tagged the original value behind one byte saying its input (0 flows, 1 identities)
   */
  record Misrouted(byte[] key, byte[] tagged) implements Routed {}
}
