package io.flowsight.collector;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the topics before the collector starts, and creates the missing ones. The two inputs must
 * have the same partition count: the ownership lookups are co-partitioned (an IP's identity changes
 * and its heartbeats must reach the same task).
 */
public final class TopicSetup {

  private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);

  /** The topics are not usable (and the collector must not start). */
  public static final class TopicException extends RuntimeException {
    public TopicException(String message) {
      super(message);
    }

    public TopicException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final Admin admin;
  private final Optional<Short> replicationFactor;

  public TopicSetup(Admin admin, short replicationFactor) {
    this.admin = admin;
    this.replicationFactor =
        replicationFactor < 0 ? Optional.empty() : Optional.of(replicationFactor);
  }

  /**
   * Makes sure both inputs exist with the same partition count (creating a missing one with the
   * other's count, or both with {@code defaultPartitions}), and the output and dead-letter topics.
   *
   * @return the inputs' partition count
   * @throws TopicException when the inputs' partition counts differ, naming both
   */
  public int ensure(
      String flows, String identities, String output, String deadLetters, int defaultPartitions) {
    Map<String, Integer> existing =
        partitionCounts(List.of(flows, identities, output, deadLetters));
    Integer flowCount = existing.get(flows);
    Integer identityCount = existing.get(identities);
    int partitions;
    if (flowCount != null && identityCount != null) {
      if (!flowCount.equals(identityCount)) {
        throw new TopicException(
            "topic "
                + flows
                + " has "
                + flowCount
                + " partitions but "
                + identities
                + " has "
                + identityCount
                + ": the collector needs both with the same count, because it looks an IP's"
                + " owner up in the partition of the IP (co-partitioned by the IP's text)."
                + " Recreate "
                + identities
                + " with "
                + flowCount
                + " partitions (its content is republished by the identity sources), or add"
                + " partitions to the smaller one before any data depends on the mapping");
      }
      partitions = flowCount;
    } else if (flowCount != null || identityCount != null) {
      partitions = flowCount != null ? flowCount : identityCount;
    } else {
      partitions = defaultPartitions;
    }
    List<NewTopic> missing = new ArrayList<>();
    for (String topic : List.of(flows, identities, output)) {
      if (!existing.containsKey(topic)) {
        missing.add(new NewTopic(topic, Optional.of(partitions), replicationFactor));
      }
    }
    if (!existing.containsKey(deadLetters)) {
      missing.add(
          new NewTopic(deadLetters, Optional.of(Math.min(partitions, 3)), replicationFactor));
    }
    create(missing);
    return partitions;
  }

  private Map<String, Integer> partitionCounts(List<String> topics) {
    Map<String, Integer> counts = new HashMap<>();
    for (String topic : topics) {
      try {
        TopicDescription d =
            admin
                .describeTopics(Set.of(topic))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get(topic);
        counts.put(topic, d.partitions().size());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw new TopicException(
              "cannot describe topic " + topic + ": " + e.getCause(), e.getCause());
        }
      } catch (TimeoutException e) {
        throw new TopicException(
            "cannot describe topic " + topic + ": the broker did not answer in 30 s");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TopicException("interrupted while describing topic " + topic);
      }
    }
    return counts;
  }

  private void create(List<NewTopic> topics) {
    for (NewTopic topic : topics) {
      try {
        admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        log.info("created topic {} with {} partitions", topic.name(), topic.numPartitions());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new TopicException(
              "cannot create topic " + topic.name() + ": " + e.getCause(), e.getCause());
        }
        // Another instance created it at the same time.
      } catch (TimeoutException e) {
        throw new TopicException(
            "cannot create topic " + topic.name() + ": the broker did not answer in 30 s");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TopicException("interrupted while creating topic " + topic.name());
      }
    }
  }
}
