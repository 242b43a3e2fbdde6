package io.flowsight.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * What the broker says of a stalled application, for failure messages: per partition, the end a
 * read_committed reader stops at (the last stable offset) against the high watermark and the
 * producers with a transaction still open there, and the application's committed offsets against
 * those ends (its lag).
 */
final class BrokerView {

  private BrokerView() {}

  static String describe(String bootstrap, String applicationId) {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      List<String> topics =
          admin.listTopics().names().get(30, TimeUnit.SECONDS).stream().sorted().toList();
      Map<String, TopicDescription> described =
          admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS);
      List<TopicPartition> partitions = new ArrayList<>();
      described.forEach(
          (name, d) ->
              d.partitions().forEach(p -> partitions.add(new TopicPartition(name, p.partition()))));
      Map<TopicPartition, OffsetSpec> latest =
          partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()));
      Map<TopicPartition, ListOffsetsResultInfo> stable =
          admin
              .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
              .all()
              .get(30, TimeUnit.SECONDS);
      Map<TopicPartition, ListOffsetsResultInfo> high =
          admin
              .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
              .all()
              .get(30, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .listConsumerGroupOffsets(applicationId)
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS);
      StringBuilder out = new StringBuilder();
      for (TopicPartition p : partitions) {
        if (p.topic().startsWith("__")) {
          continue;
        }
        long lso = stable.get(p).offset();
        long hw = high.get(p).offset();
        OffsetAndMetadata c = committed.get(p);
        out.append(
            String.format(
                "%s: stable end %d, high watermark %d%s%n",
                p, lso, hw, c == null ? "" : ", committed by the application " + c.offset()));
        if (lso < hw) {
          List<ProducerState> open =
              admin
                  .describeProducers(List.of(p))
                  .partitionResult(p)
                  .get(30, TimeUnit.SECONDS)
                  .activeProducers()
                  .stream()
                  .filter(s -> s.currentTransactionStartOffset().isPresent())
                  .toList();
          for (ProducerState s : open) {
            out.append(
                String.format(
                    "  open transaction: producer %d epoch %d from offset %d, last write %tT%n",
                    s.producerId(),
                    s.producerEpoch(),
                    s.currentTransactionStartOffset().getAsLong(),
                    s.lastTimestamp()));
          }
        }
      }
      return out.toString();
    } catch (Exception e) {
      return "(the broker cannot be asked: " + e + ")";
    }
  }
}
