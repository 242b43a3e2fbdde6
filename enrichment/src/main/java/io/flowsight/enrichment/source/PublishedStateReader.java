package io.flowsight.enrichment.source;

import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads back what one source instance already published, so that a restarted source publishes only
 * what changed: the identity topic from its beginning to its end at start-up, keeping the events
 * whose source and sourceInstance are this instance's, folded per (target, identity): assigned
 * unless the last word was UNASSIGN.
 *
 * <p>It reads with manual partition assignment (no consumer group, nothing committed) and does not
 * create the topic: a missing topic means nothing was published.
 */
public final class PublishedStateReader {

  private static final Logger log = LoggerFactory.getLogger(PublishedStateReader.class);

  private PublishedStateReader() {}

  /** Target to identities published by (source, sourceInstance) and not withdrawn. */
  public static Map<String, Set<Identity>> read(
      PublisherConfig config, String source, String sourceInstance, Duration timeout) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "flowsight-identity-readback-" + source);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    config
        .producerOverrides()
        .forEach(
            (k, v) -> {
              if (k.startsWith("security.") || k.startsWith("sasl.") || k.startsWith("ssl.")) {
                props.put(k, v);
              }
            });
    AvroDeserializer<IpIdentityChange> values =
        new AvroDeserializer<>(
            new SchemaRegistryClient(RegistrySerdeConfig.of(config.registryUrl())),
            IpIdentityChange.class);
    Map<String, Map<Identity, Boolean>> state = new TreeMap<>();
    long read = 0;
    long mine = 0;
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      if (!consumer.listTopics(timeout).containsKey(config.topic())) {
        log.info("topic {} does not exist yet: nothing was published before", config.topic());
        return Map.of();
      }
      List<TopicPartition> partitions =
          consumer.partitionsFor(config.topic(), timeout).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      while (!caughtUp(consumer, end)) {
        if (System.nanoTime() > deadline) {
          throw new IdentitySourceException(
              "reading back "
                  + config.topic()
                  + " took longer than "
                  + timeout
                  + " (read "
                  + read
                  + " events)");
        }
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          read++;
          if (record.value() == null) {
            continue; // a tombstone: nothing to fold
          }
          IpIdentityChange change = values.deserialize(record.topic(), record.value());
          if (!source.equals(change.getSource())
              || !Objects.equals(sourceInstance, change.getSourceInstance())) {
            continue;
          }
          if (change.getAction() == IdentityAction.UNKNOWN) {
            // An action added by a newer version: neither an assignment nor a removal we can fold.
            continue;
          }
          mine++;
          state
              .computeIfAbsent(IdentityChanges.targetOf(change), t -> new HashMap<>())
              .put(change.getIdentity(), change.getAction() == IdentityAction.ASSIGN);
        }
      }
    }
    Map<String, Set<Identity>> published = new TreeMap<>();
    state.forEach(
        (target, identities) ->
            identities.forEach(
                (identity, assigned) -> {
                  if (assigned) {
                    published.computeIfAbsent(target, t -> new HashSet<>()).add(identity);
                  }
                }));
    log.info(
        "read back {}: {} events, {} from {} {}, {} targets still assigned",
        config.topic(),
        read,
        mine,
        source,
        sourceInstance,
        published.size());
    return published;
  }

  private static boolean caughtUp(
      KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }
}
