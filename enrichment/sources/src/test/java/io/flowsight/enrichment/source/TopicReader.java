package io.flowsight.enrichment.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.testing.LocalStack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the identity topic back through the registry serde, from the beginning, checking that every
 * record's key is its event's target.
 */
public final class TopicReader implements AutoCloseable {

  private final KafkaConsumer<String, byte[]> consumer;
  private final AvroDeserializer<IpIdentityChange> values;
  private final String topic;

  public TopicReader(LocalStack stack, String topic) {
    this.topic = topic;
    this.consumer =
        new KafkaConsumer<>(
            stack.consumerConfig(), new StringDeserializer(), new ByteArrayDeserializer());
    this.values =
        new AvroDeserializer<>(
            new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl())),
            IpIdentityChange.class);
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic).stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
  }

  /** Waits for exactly {@code count} new events, then makes sure no more follow for a while. */
  public List<IpIdentityChange> next(int count) {
    List<IpIdentityChange> events = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (events.size() < count && System.nanoTime() < deadline) {
      events.addAll(poll(Duration.ofMillis(200)));
    }
    events.addAll(poll(Duration.ofSeconds(2)));
    assertThat(events).as("events read from %s: %s", topic, describe(events)).hasSize(count);
    return events;
  }

  private List<IpIdentityChange> poll(Duration timeout) {
    List<IpIdentityChange> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
      IpIdentityChange change = values.deserialize(topic, record.value());
      assertThat(record.key()).isEqualTo(IdentityChanges.targetOf(change));
      out.add(change);
    }
    return out;
  }

  /** One line per event: action, target, app, instance, eventTime; sorted (partitions reorder). */
  public static List<String> describe(List<IpIdentityChange> events) {
    return events.stream()
        .map(
            e ->
                e.getAction()
                    + " "
                    + IdentityChanges.targetOf(e)
                    + " "
                    + e.getIdentity().getApp()
                    + (e.getIdentity().getInstanceId() == null
                        ? ""
                        : " " + e.getIdentity().getInstanceId())
                    + " "
                    + e.getEventTime())
        .sorted()
        .collect(Collectors.toList());
  }

  @Override
  public void close() {
    consumer.close();
  }
}
