package io.flowsight.enrichment.source;

import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.schemas.serde.SerdeException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads back what one source instance already published, so that a restarted source publishes only
 * what changed: the identity topic from its beginning to the end offsets it had when the read-back
 * began, keeping the events whose source and sourceInstance are this instance's, folded per
 * (target, identity): assigned unless the last word was UNASSIGN.
 *
 * <p><b>Bad records</b> (not the Confluent wire format, an unknown schema id, a body that does not
 * decode, an address of the wrong length) are skipped and counted per reason ({@link
 * PublishedState#skipped()}); the first few are logged with their partition and offset. They are
 * somebody else's garbage on a shared topic and must not keep the source from starting. A registry
 * that cannot be reached is not bad data: the read-back fails.
 *
 * <p><b>Bounded</b>: in time, by {@link PublisherConfig#readBackTimeout()} for the whole read-back
 * (listing the topic, its end offsets, every poll): records written after the read-back began are
 * not waited for, and a read-back that cannot reach the end offsets fails with the progress made
 * and the option to raise. In memory, by the identities this instance still has assigned: an
 * UNASSIGN removes its pair, so the state is the latest word per (target, identity), never the
 * records read.
 *
 * <p>It reads with manual partition assignment (no consumer group, nothing committed) and does not
 * create the topic: a missing topic means nothing was published.
 */
public final class PublishedStateReader {

  private static final Logger log = LoggerFactory.getLogger(PublishedStateReader.class);

  /** Skipped records logged one by one; the rest are only counted. */
  private static final int LOGGED_SKIPS = 10;

  private PublishedStateReader() {}

  /**
   * What the read-back found.
   *
   * @param published target to identities published by this instance and not withdrawn
   * @param records records read (every source's, tombstones and bad records included)
   * @param mine events of this source instance among them
   * @param skippedByReason records skipped because they cannot be read, by reason ({@link
   *     SerdeException.Reason} name, or {@code BAD_ADDRESS})
   */
  public record PublishedState(
      Map<String, Set<Identity>> published,
      long records,
      long mine,
      Map<String, Long> skippedByReason) {

    public PublishedState {
      published = Map.copyOf(published);
      skippedByReason = Map.copyOf(skippedByReason);
    }

    /** Records skipped because they cannot be read. */
    public long skipped() {
      return skippedByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** {@code 3 (MALFORMED 1, UNKNOWN_SCHEMA_ID 1, WRONG_MAGIC_BYTE 1)}, or {@code 0}. */
    public String describeSkipped() {
      if (skippedByReason.isEmpty()) {
        return "0";
      }
      return skipped()
          + new TreeMap<>(skippedByReason)
              .entrySet().stream()
                  .map(e -> e.getKey() + " " + e.getValue())
                  .collect(Collectors.joining(", ", " (", ")"));
    }
  }

  /**
   * The latest word per (target, identity) of one source instance: only the assigned pairs are
   * kept, so memory follows what is published now, not the topic's history.
   */
  static final class Fold {
    private final Map<String, Set<Identity>> assigned = new TreeMap<>();

    void apply(String target, Identity identity, IdentityAction action) {
      if (action == IdentityAction.ASSIGN) {
        assigned.computeIfAbsent(target, t -> new HashSet<>()).add(identity);
        return;
      }
      Set<Identity> identities = assigned.get(target);
      if (identities != null && identities.remove(identity) && identities.isEmpty()) {
        assigned.remove(target);
      }
    }

    /** Target to assigned identities (live view). */
    Map<String, Set<Identity>> assigned() {
      return assigned;
    }
  }

  /**
   * Reads back what (source, sourceInstance) published to {@link PublisherConfig#topic()} and did
   * not withdraw, within {@link PublisherConfig#readBackTimeout()}.
   *
   * @throws IdentitySourceException when the broker or registry cannot be read, or the read-back
   *     takes longer than the timeout (the message names {@code --read-back-timeout})
   */
  public static PublishedState read(PublisherConfig config, String source, String sourceInstance) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "flowsight-identity-readback-" + source);
    // Bounded buffers: at most this many records per poll, 8 MiB per fetch.
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 8 * 1024 * 1024);
    config
        .producerOverrides()
        .forEach(
            (k, v) -> {
              if (k.startsWith("security.") || k.startsWith("sasl.") || k.startsWith("ssl.")) {
                props.put(k, v);
              }
            });
    AvroDeserializer<IpIdentityChange> values =
        new AvroDeserializer<>(new SchemaRegistryClient(config.registry()), IpIdentityChange.class);
    Progress progress = new Progress(config, source, sourceInstance);
    Fold fold = new Fold();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      if (!consumer.listTopics(progress.remaining()).containsKey(config.topic())) {
        log.info("topic {} does not exist yet: nothing was published before", config.topic());
        return new PublishedState(Map.of(), 0, 0, Map.of());
      }
      List<TopicPartition> partitions =
          consumer.partitionsFor(config.topic(), progress.remaining()).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // The end as of now: what is published while reading is not waited for (it is this run's,
      // or another instance's, never this instance's earlier state).
      progress.end = consumer.endOffsets(partitions, progress.remaining());
      while (!caughtUp(consumer, progress)) {
        Duration poll = progress.remaining();
        if (poll.isZero()) {
          throw progress.timedOut(null);
        }
        for (ConsumerRecord<String, byte[]> record :
            consumer.poll(
                poll.compareTo(Duration.ofMillis(200)) < 0 ? poll : Duration.ofMillis(200))) {
          progress.records++;
          if (record.value() == null) {
            continue; // a tombstone: nothing to fold
          }
          IpIdentityChange change;
          String target;
          try {
            change = values.deserialize(record.topic(), record.value());
            target = IdentityChanges.targetOf(change);
          } catch (SerdeException e) {
            switch (e.reason()) {
              case WRONG_MAGIC_BYTE, TRUNCATED, MALFORMED, UNKNOWN_SCHEMA_ID ->
                  progress.skip(record, e.reason().name(), e.getMessage());
              default ->
                  throw new IdentitySourceException(
                      "cannot read back " + config.topic() + ": " + e.getMessage(), e);
            }
            continue;
          } catch (IllegalArgumentException e) {
            progress.skip(record, "BAD_ADDRESS", e.getMessage());
            continue;
          }
          if (!source.equals(change.getSource())
              || !Objects.equals(sourceInstance, change.getSourceInstance())) {
            continue;
          }
          if (change.getAction() == IdentityAction.UNKNOWN) {
            // An action added by a newer version: neither an assignment nor a removal we can fold.
            continue;
          }
          progress.mine++;
          fold.apply(target, change.getIdentity(), change.getAction());
        }
      }
    } catch (TimeoutException e) {
      throw progress.timedOut(e);
    } catch (KafkaException e) {
      throw new IdentitySourceException(
          "cannot read back " + config.topic() + " from " + config.bootstrapServers() + ": " + e,
          e);
    }
    PublishedState state =
        new PublishedState(fold.assigned(), progress.records, progress.mine, progress.skipped);
    log.info(
        "read back {}: {} records, {} from {} {}, {} targets still assigned; undecodable, skipped: {}",
        config.topic(),
        state.records(),
        state.mine(),
        source,
        sourceInstance,
        state.published().size(),
        state.describeSkipped());
    if (state.skipped() > 0) {
      log.warn(
          "read back {}: records that cannot be read as IpIdentityChange were skipped: {}; they stay"
              + " on the topic (the collector dead-letters them)",
          config.topic(),
          state.describeSkipped());
    }
    return state;
  }

  private static boolean caughtUp(KafkaConsumer<String, byte[]> consumer, Progress progress) {
    for (Map.Entry<TopicPartition, Long> e : progress.end.entrySet()) {
      if (consumer.position(e.getKey(), progress.remaining()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** The read-back's deadline, counters and what a timeout reports. */
  private static final class Progress {
    private final PublisherConfig config;
    private final String source;
    private final String sourceInstance;
    private final long deadline;
    private final Map<String, Long> skipped = new TreeMap<>();
    private Map<TopicPartition, Long> end = Map.of();
    private long records;
    private long mine;

    Progress(PublisherConfig config, String source, String sourceInstance) {
      this.config = config;
      this.source = source;
      this.sourceInstance = sourceInstance;
      this.deadline = System.nanoTime() + config.readBackTimeout().toNanos();
    }

    Duration remaining() {
      return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    void skip(ConsumerRecord<String, byte[]> record, String reason, String detail) {
      skipped.merge(reason, 1L, Long::sum);
      long total = skipped.values().stream().mapToLong(Long::longValue).sum();
      if (total <= LOGGED_SKIPS) {
        log.warn(
            "read back {}: skipping partition {} offset {} (key {}): {}: {}",
            record.topic(),
            record.partition(),
            record.offset(),
            record.key(),
            reason,
            detail);
      } else if (total == LOGGED_SKIPS + 1) {
        log.warn("read back {}: more records cannot be read; counting them only", record.topic());
      }
    }

    IdentitySourceException timedOut(TimeoutException cause) {
      String where =
          end.isEmpty()
              ? "before the topic's partitions and end offsets were known"
              : records
                  + " records read of "
                  + end.size()
                  + " partitions ending at offsets "
                  + new TreeMap<>(
                      end.entrySet().stream()
                          .collect(
                              Collectors.toMap(e -> e.getKey().partition(), Map.Entry::getValue)));
      return new IdentitySourceException(
          "reading back what "
              + source
              + " "
              + sourceInstance
              + " published to "
              + config.topic()
              + " did not finish within --read-back-timeout "
              + config.readBackTimeout()
              + " ("
              + where
              + "): check the broker at "
              + config.bootstrapServers()
              + ", or raise --read-back-timeout (env FLOWSIGHT_IDENTITY_READ_BACK_TIMEOUT)",
          cause);
    }
  }
}
