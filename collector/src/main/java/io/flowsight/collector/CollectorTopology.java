package io.flowsight.collector;

import io.flowsight.collector.aggregation.AggregateProcessor;
import io.flowsight.collector.aggregation.AggregationStores;
import io.flowsight.collector.attribution.AttributionStores;
import io.flowsight.collector.attribution.DeadLetter;
import io.flowsight.collector.attribution.IngestProcessor;
import io.flowsight.collector.attribution.RemoteLookupProcessor;
import io.flowsight.collector.attribution.Routed;
import io.flowsight.collector.attribution.Routed.DeadLettered;
import io.flowsight.collector.attribution.Routed.Misrouted;
import io.flowsight.collector.attribution.Routed.ToAggregation;
import io.flowsight.collector.attribution.Routed.ToRemoteLookup;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.collector.wire.Messages;
import io.flowsight.collector.wire.Messages.CidrChange;
import io.flowsight.collector.wire.Messages.ToAggregate;
import io.flowsight.collector.wire.Messages.ToRemote;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * The collector's topology, built by one pure function. Two sub-topologies:
 *
 * <pre>
 * 1. attribution (tasks = partitions of the co-partitioned inputs, keyed by IP text)
 *      flows-raw-v1 ─┐                       stores: ownership, held, held-index, cidr, sequences
 *      ip-identity-v1┴▶ attribute-local ─┬▶ flows-dlq-v1
 *                                        ├▶ by-remote-ip (repartition, same partition count) ─▶
 *                                        │      attribute-remote (same stores, same task) ─┐
 *                                        └▶──────────────────────────────────────────────────┴▶
 *                                           by-aggregation-key (repartition)
 * 2. aggregation (keyed by PROTOCOL|clientIp|serverIp|servicePort)      stores: dedupe, rows, pending
 *      by-aggregation-key ─▶ aggregate ─▶ flows-aggregated-v1 (JSON)
 * </pre>
 *
 * The {@code ownership} store (IP text to {@link
 * io.flowsight.enrichment.ownership.OwnershipHistory}) is fed from both inputs in the partition of
 * the IP: identity changes by their key, flow records by their key (the local IP) as heartbeats.
 * The local end is attributed where the record arrives; the flow is then re-keyed by its remote IP
 * through a repartition topic with the inputs' partition count, which the same sub-topology reads
 * back: the task that owns the remote IP's partition looks it up in its own {@code ownership}
 * store. CIDR blocks' changes go to every partition of that topic (each task keeps a copy of the
 * small CIDR tables).
 *
 * <p>The inputs are read as bytes and decoded inside the topology with the {@link Topics}' serdes,
 * so that a record that does not decode is a dead letter with its topic, partition and offset, not
 * a stopped application.
 */
public final class CollectorTopology {

  /** Name of the repartition topic keyed by the remote IP (Kafka Streams prefixes the app id). */
  public static final String BY_REMOTE_IP = "by-remote-ip";

  /** Name of the repartition topic re-keying input records found in a wrong partition. */
  public static final String BY_LOCAL_IP = "rekeyed-inputs";

  /** Name of the repartition topic keyed by the aggregation key. */
  public static final String BY_AGGREGATION_KEY = "by-aggregation-key";

  private CollectorTopology() {}

  /**
   * The topology.
   *
   * @param topics the external topics and their serdes (tests pass serdes without a registry)
   * @param settings windows, hold-back, partition count...
   * @param metrics where the processors count what they do
   */
  public static Topology build(
      Topics topics, CollectorSettings settings, CollectorMetrics metrics) {
    StreamsBuilder builder = new StreamsBuilder();
    AttributionStores.addTo(builder);
    AggregationStores.addTo(builder, settings);

    Consumed<byte[], byte[]> raw = Consumed.with(Serdes.ByteArray(), Serdes.ByteArray());
    KStream<byte[], byte[]> flows =
        builder.stream(topics.flows().name(), raw.withName("flows-source"));
    KStream<byte[], byte[]> identities =
        builder.stream(topics.identities().name(), raw.withName("identities-source"));

    KStream<String, Routed> local =
        flows
            .merge(identities, Named.as("inputs"))
            .process(
                () -> new IngestProcessor(topics, settings, metrics),
                Named.as("attribute-local"),
                AttributionStores.ofIngest());

    // Records in a partition their key does not map to: re-keyed through a repartition topic
    // (the default partitioner places them right), then attributed like the others.
    Map<String, KStream<String, Routed>> checked =
        local
            .split(Named.as("input-"))
            .branch((k, v) -> v instanceof Misrouted, Branched.as("misrouted"))
            .defaultBranch(Branched.as("placed"));
    KStream<String, Routed> rerouted =
        checked
            .get("input-misrouted")
            .map(
                (k, v) -> KeyValue.pair(((Misrouted) v).key(), ((Misrouted) v).tagged()),
                Named.as("misrouted-record"))
            .repartition(
                Repartitioned.<byte[], byte[]>as(BY_LOCAL_IP)
                    .withKeySerde(Serdes.ByteArray())
                    .withValueSerde(Serdes.ByteArray())
                    .withNumberOfPartitions(settings.partitions()))
            .process(
                () -> new IngestProcessor(topics, settings, metrics, true),
                Named.as("attribute-local-rerouted"),
                AttributionStores.ofIngest());

    Map<String, KStream<String, Routed>> routes =
        checked
            .get("input-placed")
            .merge(rerouted, Named.as("attribution-inputs"))
            .split(Named.as("route-"))
            .branch((k, v) -> v instanceof DeadLettered, Branched.as("dead-letters"))
            .branch((k, v) -> v instanceof ToRemoteLookup, Branched.as("remote-lookup"))
            .defaultBranch(Branched.as("aggregation"));

    routes
        .get("route-dead-letters")
        .map(
            (k, v) -> {
              DeadLetter letter = ((DeadLettered) v).letter();
              return KeyValue.pair(letter.kafkaKey(), letter.envelope());
            },
            Named.as("dead-letter-envelope"))
        .to(
            topics.deadLetters().name(),
            Produced.with(topics.deadLetters().keySerde(), topics.deadLetters().valueSerde())
                .withName("dead-letters-sink"));

    KStream<String, ToAggregate> remote =
        routes
            .get("route-remote-lookup")
            .mapValues(v -> ((ToRemoteLookup) v).message(), Named.as("remote-lookup-message"))
            .repartition(
                Repartitioned.<String, ToRemote>as(BY_REMOTE_IP)
                    .withKeySerde(Serdes.String())
                    .withValueSerde(Messages.toRemoteSerde())
                    .withNumberOfPartitions(settings.partitions())
                    .withStreamPartitioner(new CidrToEveryPartition()))
            .process(
                () -> new RemoteLookupProcessor(settings, metrics),
                Named.as("attribute-remote"),
                AttributionStores.ofRemoteLookup());

    routes
        .get("route-aggregation")
        .mapValues(v -> ((ToAggregation) v).message(), Named.as("aggregation-message"))
        .merge(remote, Named.as("attributed"))
        .repartition(
            Repartitioned.<String, ToAggregate>as(BY_AGGREGATION_KEY)
                .withKeySerde(Serdes.String())
                .withValueSerde(Messages.toAggregateSerde())
                .withNumberOfPartitions(settings.partitions()))
        .process(
            () -> new AggregateProcessor(settings, metrics),
            Named.as("aggregate"),
            AggregationStores.ofAggregate())
        .to(
            topics.aggregated().name(),
            Produced.with(topics.aggregated().keySerde(), topics.aggregated().valueSerde())
                .withName("aggregates-sink"));

    return builder.build();
  }

  /**
   * Flows go to the partition of their key (the remote IP), like the producers' default partitioner
   * does for the input topics; a CIDR block's change goes to every partition.
   */
  static final class CidrToEveryPartition implements StreamPartitioner<String, ToRemote> {
    @Override
    public Optional<Set<Integer>> partitions(
        String topic, String key, ToRemote value, int numPartitions) {
      if (value instanceof CidrChange) {
        return Optional.of(
            IntStream.range(0, numPartitions).boxed().collect(Collectors.toUnmodifiableSet()));
      }
      return Optional.empty();
    }
  }
}
