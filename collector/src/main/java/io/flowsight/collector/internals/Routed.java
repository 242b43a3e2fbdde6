package io.flowsight.collector.internals;

import io.flowsight.collector.internals.Messages.ToAggregate;
import io.flowsight.collector.internals.Messages.ToRemote;

/**
 * What the attribution processors emit, and where it goes: the dead-letter topic, the remote-lookup
 * repartition topic (keyed by the remote IP's text), or the aggregation repartition topic (keyed by
 * the aggregation key). The topology splits the stream on the type.
 */
public sealed interface Routed {

  record DeadLettered(DeadLetter letter) implements Routed {}

  record ToRemoteLookup(ToRemote message) implements Routed {}

  record ToAggregation(ToAggregate message) implements Routed {}
}
