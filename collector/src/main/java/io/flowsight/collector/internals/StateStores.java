package io.flowsight.collector.internals;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.enrichment.ownership.OwnershipHistorySerde;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The state stores of the topology: RocksDB, logged to changelog topics (a task moved to another
 * instance restores them from there). The hot ones, {@code ownership} (a heartbeat per flow
 * record), {@code sequences} (a sequence number per flow record) and {@code rows} (a counted flow
 * per update), are cached: updates to one key within a commit interval reach RocksDB and the
 * changelog once. The others are read and written rarely or once per key, where the cache's sorted
 * map costs more than it saves.
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
            .withCachingDisabled());
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(AttributionState.HELD_INDEX),
                Serdes.String(),
                Serdes.Long())
            .withCachingDisabled());
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(AttributionState.CIDR),
                Serdes.String(),
                Serdes.ByteArray())
            .withCachingDisabled());

    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(AttributionState.CONNECTIONS),
                Serdes.Bytes(),
                Serdes.ByteArray())
            .withCachingDisabled());

    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(SequenceTracker.STORE),
                Serdes.String(),
                Serdes.ByteArray())
            .withCachingEnabled());

    long bucket = Dedupe.bucketSize(settings.dedupeTolerance().toMillis());
    Duration retention = settings.dedupeRetention();
    builder.addStateStore(
        Stores.windowStoreBuilder(
                Stores.persistentWindowStore(
                    AggregateProcessor.DEDUPE, retention, Duration.ofMillis(bucket), false),
                Serdes.Bytes(),
                Serdes.ByteArray())
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
            .withCachingDisabled());
  }
}
