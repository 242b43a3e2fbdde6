package io.flowsight.collector;

import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.output.FlowAggregateJsonSerde;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.serde.AvroSerde;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The collector's external topics.
 *
 * @param flows raw flow records from the sidecars, keyed by the local IP's text form (Avro,
 *     registry wire format)
 * @param identities IP identity changes, keyed by the IP's (or block's) text form (Avro, registry
 *     wire format); co-partitioned with {@code flows}: same partition count, same key text
 * @param aggregated the output: one JSON object per aggregate, keyed by {@code
 *     PROTOCOL|clientIp|serverIp|servicePort}
 * @param deadLetters records that could not be used, as a JSON envelope with the reason, the source
 *     topic, partition and offset and the original bytes (base64), keyed by the original key
 */
public record Topics(
    Topic<String, FlowRecord> flows,
    Topic<String, IpIdentityChange> identities,
    Topic<String, FlowAggregate> aggregated,
    Topic<byte[], byte[]> deadLetters) {

  public static final String DEFAULT_FLOWS = "flows-raw-v1";
  public static final String DEFAULT_IDENTITIES = "ip-identity-v1";
  public static final String DEFAULT_AGGREGATED = "flows-aggregated-v1";
  public static final String DEFAULT_DEAD_LETTERS = "flows-dlq-v1";

  /** The topics with the given names and value serdes for the two Avro inputs. */
  public static Topics of(
      String flows,
      String identities,
      String aggregated,
      String deadLetters,
      Serde<FlowRecord> flowSerde,
      Serde<IpIdentityChange> identitySerde) {
    return new Topics(
        new Topic<>(flows, Serdes.String(), flowSerde),
        new Topic<>(identities, Serdes.String(), identitySerde),
        new Topic<>(aggregated, Serdes.String(), new FlowAggregateJsonSerde()),
        new Topic<>(deadLetters, Serdes.ByteArray(), Serdes.ByteArray()));
  }

  /** The topics with the inputs read through the schema registry. */
  public static Topics withRegistry(
      SchemaRegistryClient registry,
      String flows,
      String identities,
      String aggregated,
      String deadLetters) {
    return of(
        flows,
        identities,
        aggregated,
        deadLetters,
        new AvroSerde<>(registry, FlowRecord.class, false),
        new AvroSerde<>(registry, IpIdentityChange.class, false));
  }
}
