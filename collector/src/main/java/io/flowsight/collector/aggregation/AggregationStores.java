package io.flowsight.collector.aggregation;

import io.flowsight.collector.CollectorSettings;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The state stores of the aggregation sub-topology ({@link AggregateProcessor}): RocksDB, logged to
 * changelog topics (a task moved to another instance restores them from there). The hot one, {@code
 * rows} (a counted flow per update), is cached: updates to one key within a commit interval reach
 * RocksDB and the changelog once. The others are read and written once per record or per key, where
 * the cache's sorted map costs more than it saves.
 */
public final class AggregationStores {

  private AggregationStores() {}

  public static void addTo(StreamsBuilder builder, CollectorSettings settings) {
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

  /** The stores {@link AggregateProcessor} uses: all of them. */
  public static String[] ofAggregate() {
    return new String[] {
      AggregateProcessor.DEDUPE, AggregateProcessor.ROWS, AggregateProcessor.PENDING
    };
  }
}
