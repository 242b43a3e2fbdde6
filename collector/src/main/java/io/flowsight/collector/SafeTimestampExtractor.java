package io.flowsight.collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * The record's Kafka timestamp, or the partition's latest valid one when the record has none (a
 * producer that set a negative timestamp): Kafka Streams' default would stop the application on
 * such a record, and bad data must never do that. Time in the collector comes from the records'
 * fields and the wall clock; this timestamp only says when the sidecar produced the record.
 */
public final class SafeTimestampExtractor implements TimestampExtractor {
  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    long ts = record.timestamp();
    return ts >= 0 ? ts : Math.max(partitionTime, 0);
  }
}
