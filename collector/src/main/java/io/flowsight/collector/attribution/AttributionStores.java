package io.flowsight.collector.attribution;

import io.flowsight.enrichment.ownership.OwnershipHistorySerde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The state stores of the attribution sub-topology ({@link AttributionState}, {@link
 * SequenceTracker}): RocksDB, logged to changelog topics (a task moved to another instance restores
 * them from there). The hot ones, {@code ownership} (a heartbeat per flow record) and {@code
 * sequences} (a sequence number per flow record), are cached: updates to one key within a commit
 * interval reach RocksDB and the changelog once. The others are read and written rarely or once per
 * key, where the cache's sorted map costs more than it saves.
 */
public final class AttributionStores {

  private AttributionStores() {}

  public static void addTo(StreamsBuilder builder) {
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
                HeldFlow.serde())
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
  }

  /** The stores {@link IngestProcessor} uses: all of them. */
  public static String[] ofIngest() {
    return new String[] {
      AttributionState.OWNERSHIP,
      AttributionState.HELD,
      AttributionState.HELD_INDEX,
      AttributionState.CIDR,
      AttributionState.CONNECTIONS,
      SequenceTracker.STORE
    };
  }

  /** The stores {@link RemoteLookupProcessor} uses: those of {@link AttributionState}. */
  public static String[] ofRemoteLookup() {
    return new String[] {
      AttributionState.OWNERSHIP,
      AttributionState.HELD,
      AttributionState.HELD_INDEX,
      AttributionState.CIDR,
      AttributionState.CONNECTIONS
    };
  }
}
