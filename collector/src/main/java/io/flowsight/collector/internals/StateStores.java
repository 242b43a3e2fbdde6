package io.flowsight.collector.internals;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.enrichment.ownership.OwnershipHistorySerde;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The state stores of the topology: RocksDB, logged to changelog topics (a task moved to another
 * instance restores them from there), cached except the dedupe store (updates to one key within a
 * commit interval reach RocksDB and the changelog once).
 */
public final class StateStores {

  private StateStores() {}

  public static void addTo(StreamsBuilder builder, CollectorSettings settings) {
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(AttributionState.OWNERSHIP),
                Serdes.String(),
                new OwnershipHistorySerde())
            .withCachingEnabled());
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(AttributionState.HELD),
                Serdes.String(),
                Messages.heldFlowSerde())
            .withCachingEnabled());
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(AttributionState.HELD_INDEX),
                Serdes.String(),
                Serdes.Long())
            .withCachingEnabled());
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(AttributionState.CIDR),
                Serdes.String(),
                Serdes.ByteArray())
            .withCachingEnabled());

    long bucket = Dedupe.bucketSize(settings.dedupeTolerance().toMillis());
    Duration retention = settings.dedupeEpoch().multipliedBy(3);
    builder.addStateStore(
        Stores.windowStoreBuilder(
                Stores.persistentWindowStore(
                    AggregateProcessor.DEDUPE, retention, Duration.ofMillis(bucket), false),
                Serdes.Bytes(),
                Serdes.ByteArray())
            // Not cached: one entry per connection, written once or twice; caching them would
            // only push the hot keys of the other stores out of the cache.
            .withCachingDisabled());
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(AggregateProcessor.ROWS),
                Serdes.Bytes(),
                Row.serde())
            .withCachingEnabled());
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(AggregateProcessor.PENDING),
                Serdes.Bytes(),
                Serdes.ByteArray())
            .withCachingEnabled());
  }
}
