package io.flowsight.enrichment.source.statics;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.IdentitySourceMain;
import io.flowsight.enrichment.identityfile.StaticIdentities;
import io.flowsight.enrichment.source.IdentityChanges;
import io.flowsight.enrichment.source.IdentityReconciler;
import io.flowsight.enrichment.source.KafkaIdentityPublisher;
import io.flowsight.enrichment.source.PublishedStateReader;
import io.flowsight.enrichment.source.PublishedStateReader.PublishedState;
import io.flowsight.enrichment.source.PublisherConfig;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.schemas.serde.SerdeException;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart of the static source on an identity topic that holds records it cannot read (garbage
 * behind a valid header, a record that is not in the wire format, an unknown schema id) among its
 * own earlier events, while other sources keep publishing: it starts, skips and counts the three,
 * and publishes exactly the difference between the file and what it had published.
 */
@ExtendWith(LocalStackExtension.class)
class StaticIdentitySourceReadBackIT {

  private static final Instant BEFORE = Instant.parse("2026-01-01T10:00:00Z");
  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

  /** What an earlier run published: .3 in zone local-a, .7 since removed, .8 come and gone. */
  private static final String EARLIER =
      """
      defaults:
        cluster: local
        zone: local-a
      identities:
        - ip: 127.0.0.2
          app: frontend
        - ip: 127.0.0.3
          app: backend
        - ip: 127.0.0.7
          app: stale
        - ip: 127.0.0.8
          app: temporary
        - ip: 127.0.0.9
          app: late
      """;

  /** The file now: .3 moved to local-b, .7 removed, a block added, .2 and .9 unchanged. */
  private static final String CURRENT =
      """
      defaults:
        cluster: local
        zone: local-a
      identities:
        - ip: 127.0.0.2
          app: frontend
        - ip: 127.0.0.3
          app: backend
          zone: local-b
        - ip: 127.0.0.9
          app: late
        - cidr: 127.0.0.0/8
          app: localhost
      """;

  @TempDir Path dir;

  @Test
  void shouldSkipAndCountUndecodableRecordsAndPublishExactlyTheDifference(LocalStack stack)
      throws Exception {
    String topic = stack.createTopic("ip-identity-v1", 3);
    Path file = dir.resolve("identities.yaml");
    String instance = StaticIdentitySource.instanceOf(file);
    PublisherConfig config =
        new PublisherConfig(stack.bootstrapServers(), stack.registryUrl(), topic)
            .withReadBackTimeout(Duration.ofSeconds(30));
    Map<String, Identity> earlier = StaticIdentities.parse(EARLIER, "earlier").byTarget();
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    AvroSerializer<IpIdentityChange> serializer = new AvroSerializer<>(registry, false);

    try (KafkaIdentityPublisher good = new KafkaIdentityPublisher(config, "it-good");
        KafkaProducer<String, byte[]> raw =
            new KafkaProducer<>(
                stack.producerConfig(), new StringSerializer(), new ByteArraySerializer())) {
      // Good events before the bad records: this instance's .3 and .7, another file's .4.
      publish(good, mine(instance, "127.0.0.3", IdentityAction.ASSIGN, earlier));
      publish(good, mine(instance, "127.0.0.7", IdentityAction.ASSIGN, earlier));
      publish(
          good,
          IdentityChanges.of(
              "127.0.0.4",
              IdentityAction.ASSIGN,
              earlier.get("127.0.0.2"),
              BEFORE,
              StaticIdentitySource.SOURCE,
              "/elsewhere/identities.yaml"));

      // The bad records, keyed by targets whose good events follow them in the same partition.
      byte[] valid =
          serializer.serialize(
              topic, mine(instance, "127.0.0.9", IdentityAction.UNASSIGN, earlier));
      // A valid header (magic byte, this topic's schema id), then bytes that are no Avro body.
      byte[] garbage = Arrays.copyOf(valid, 5 + 12);
      Arrays.fill(garbage, 5, garbage.length, (byte) 0xff);
      // Plain JSON: first byte 0x7b, not the magic byte 0.
      byte[] json =
          "{\"ip\":\"127.0.0.8\",\"action\":\"UNASSIGN\"}".getBytes(StandardCharsets.UTF_8);
      // A well-formed UNASSIGN of .9 under a schema id the registry does not know (big-endian):
      // were it read, .9 would be published again.
      byte[] unknownId = valid.clone();
      ByteBuffer.wrap(unknownId, 1, 4).putInt(Integer.MAX_VALUE - 7);
      raw.send(new ProducerRecord<>(topic, "127.0.0.2", garbage));
      raw.send(new ProducerRecord<>(topic, "127.0.0.8", json));
      raw.send(new ProducerRecord<>(topic, "127.0.0.9", unknownId));
      raw.flush();

      // Good events after them, in their partitions.
      publish(good, mine(instance, "127.0.0.2", IdentityAction.ASSIGN, earlier));
      publish(good, mine(instance, "127.0.0.8", IdentityAction.ASSIGN, earlier));
      publish(good, mine(instance, "127.0.0.8", IdentityAction.UNASSIGN, earlier));
      publish(good, mine(instance, "127.0.0.9", IdentityAction.ASSIGN, earlier));
    }
    Map<TopicPartition, Long> beforeRestart = endOffsets(stack, topic);

    Files.writeString(file, CURRENT);
    Files.setLastModifiedTime(file, FileTime.from(NOW));

    // Another source keeps publishing while this one starts: the read-back must not chase it.
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong othersPublished = new AtomicLong();
    Thread others =
        new Thread(
            () -> {
              try (KafkaIdentityPublisher other = new KafkaIdentityPublisher(config, "it-other")) {
                for (int i = 0; !stop.get(); i++) {
                  other.publish(
                      IdentityChanges.of(
                          "127.0.1." + (i % 200),
                          i % 2 == 0 ? IdentityAction.ASSIGN : IdentityAction.UNASSIGN,
                          earlier.get("127.0.0.2"),
                          BEFORE,
                          "kubernetes",
                          "other-cluster"));
                  if (i % 50 == 0) {
                    other.flush();
                  }
                  othersPublished.incrementAndGet();
                }
              }
            },
            "other-source");
    others.start();
    PublishedState readBack;
    try (KafkaIdentityPublisher publisher = new KafkaIdentityPublisher(config, "it-static")) {
      // The static command's start-up: read back, reconcile, publish the difference.
      readBack = PublishedStateReader.read(config, StaticIdentitySource.SOURCE, instance);
      IdentityReconciler reconciler =
          new IdentityReconciler(
              StaticIdentitySource.SOURCE, instance, publisher, readBack.published());
      new StaticIdentitySource(file, reconciler).start();
      assertThat(reconciler.eventsPublished()).isEqualTo(4);
    } finally {
      stop.set(true);
      others.join();
    }
    assertThat(othersPublished.get()).isPositive();

    assertThat(readBack.skipped()).isEqualTo(3);
    assertThat(readBack.skippedByReason())
        .isEqualTo(
            Map.of(
                SerdeException.Reason.MALFORMED.name(), 1L,
                SerdeException.Reason.WRONG_MAGIC_BYTE.name(), 1L,
                SerdeException.Reason.UNKNOWN_SCHEMA_ID.name(), 1L));
    assertThat(readBack.describeSkipped())
        .isEqualTo("3 (MALFORMED 1, UNKNOWN_SCHEMA_ID 1, WRONG_MAGIC_BYTE 1)");
    assertThat(readBack.mine()).isEqualTo(6);
    assertThat(readBack.published())
        .isEqualTo(
            Map.of(
                "127.0.0.2", Set.of(earlier.get("127.0.0.2")),
                "127.0.0.3", Set.of(earlier.get("127.0.0.3")),
                "127.0.0.7", Set.of(earlier.get("127.0.0.7")),
                "127.0.0.9", Set.of(earlier.get("127.0.0.9"))));

    List<IpIdentityChange> published = eventsOf(stack, topic, beforeRestart, instance, 4);
    assertThat(describe(published))
        .containsExactlyInAnyOrder(
            "ASSIGN 127.0.0.0/8 localhost local-a " + NOW,
            "ASSIGN 127.0.0.3 backend local-b " + NOW,
            "UNASSIGN 127.0.0.3 backend local-a " + NOW,
            "UNASSIGN 127.0.0.7 stale local-a " + NOW);

    // The command line starts through the same records and finds nothing more to publish.
    Map<TopicPartition, Long> beforeCli = endOffsets(stack, topic);
    assertThat(
            IdentitySourceMain.run(
                "static",
                "--file",
                file.toString(),
                "--once",
                "--bootstrap-servers",
                stack.bootstrapServers(),
                "--registry-url",
                stack.registryUrl(),
                "--topic",
                topic,
                "--read-back-timeout",
                "30s"))
        .isZero();
    assertThat(eventsOf(stack, topic, beforeCli, instance, 0)).isEmpty();
  }

  private static IpIdentityChange mine(
      String instance, String target, IdentityAction action, Map<String, Identity> identities) {
    return IdentityChanges.of(
        target, action, identities.get(target), BEFORE, StaticIdentitySource.SOURCE, instance);
  }

  private static void publish(KafkaIdentityPublisher publisher, IpIdentityChange change) {
    publisher.publish(change);
    publisher.flush();
  }

  private static Map<TopicPartition, Long> endOffsets(LocalStack stack, String topic) {
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            stack.consumerConfig(), new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      return consumer.endOffsets(partitions);
    }
  }

  /**
   * This instance's events from {@code from} on: waits for {@code count}, then 2 s more for any
   * that should not be there. Records that do not decode are someone else's (asserted before).
   */
  private static List<IpIdentityChange> eventsOf(
      LocalStack stack, String topic, Map<TopicPartition, Long> from, String instance, int count) {
    AvroDeserializer<IpIdentityChange> values =
        new AvroDeserializer<>(
            new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl())),
            IpIdentityChange.class);
    List<IpIdentityChange> events = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            stack.consumerConfig(), new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(from.keySet());
      from.forEach(consumer::seek);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      long quietUntil = Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(deadline, quietUntil)) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          IpIdentityChange change = values.deserialize(topic, r.value());
          assertThat(r.key()).isEqualTo(IdentityChanges.targetOf(change));
          if (instance.equals(change.getSourceInstance())) {
            events.add(change);
          }
        }
        if (events.size() >= count && quietUntil == Long.MAX_VALUE) {
          quietUntil = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        }
      }
    }
    assertThat(events).as("events of %s: %s", instance, describe(events)).hasSize(count);
    return events;
  }

  /** One line per event: action, target, app, zone, eventTime; sorted (partitions reorder). */
  private static List<String> describe(List<IpIdentityChange> events) {
    return events.stream()
        .map(
            e ->
                e.getAction()
                    + " "
                    + IdentityChanges.targetOf(e)
                    + " "
                    + e.getIdentity().getApp()
                    + " "
                    + e.getIdentity().getZone()
                    + " "
                    + e.getEventTime())
        .sorted()
        .toList();
  }
}
