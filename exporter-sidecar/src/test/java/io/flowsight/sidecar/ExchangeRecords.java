package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Side;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The sidecar's records of one loopback exchange ({@link Loopback#exchange}), read back from Kafka
 * through the registry, and what they must say: both ends, closed, exact bytes.
 */
final class ExchangeRecords {

  private ExchangeRecords() {}

  /**
   * The records of the exchange's two ends in {@code topic}, read for up to 30 s. {@code
   * consumerConfig}: the broker's address (and security), a group id, earliest offsets.
   */
  static List<ConsumerRecord<String, FlowRecord>> read(
      Map<String, Object> consumerConfig, String registryUrl, String topic, Loopback.Ports ports) {
    List<ConsumerRecord<String, FlowRecord>> mine = new ArrayList<>();
    AvroDeserializer<FlowRecord> deserializer =
        new AvroDeserializer<>(
            new SchemaRegistryClient(RegistrySerdeConfig.of(registryUrl)), FlowRecord.class);
    try (KafkaConsumer<String, FlowRecord> consumer =
        new KafkaConsumer<>(consumerConfig, new StringDeserializer(), deserializer)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (mine.size() < 2 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, FlowRecord> r : consumer.poll(Duration.ofMillis(200))) {
          FlowRecord f = r.value();
          boolean ours =
              (f.getLocalPort() == ports.clientPort() && f.getRemotePort() == ports.serverPort())
                  || (f.getLocalPort() == ports.serverPort()
                      && f.getRemotePort() == ports.clientPort());
          if (ours) {
            mine.add(r);
          }
        }
      }
    }
    return mine;
  }

  /**
   * Exactly one CLOSED record per end of a 127.0.0.1 exchange of 1000 bytes up and 5000 down, keyed
   * by the local IP, with {@code app} as the local identity.
   */
  static void assertClosedExchange(
      List<ConsumerRecord<String, FlowRecord>> mine, Loopback.Ports ports, String app) {
    assertThat(mine).hasSize(2);
    for (ConsumerRecord<String, FlowRecord> r : mine) {
      FlowRecord f = r.value();
      assertThat(r.key()).isEqualTo("127.0.0.1").isEqualTo(IpAddresses.toText(f.getLocalIp()));
      assertThat(f.getKind()).isEqualTo(FlowKind.CLOSED);
      assertThat(f.getServicePort()).isEqualTo(ports.serverPort());
      assertThat(f.getLocalIdentity().getApp()).isEqualTo(app);
      if (f.getSide() == Side.CLIENT) {
        assertThat(f.getBytesSent()).isEqualTo(1000);
        assertThat(f.getBytesReceived()).isEqualTo(5000);
      } else {
        assertThat(f.getBytesSent()).isEqualTo(5000);
        assertThat(f.getBytesReceived()).isEqualTo(1000);
      }
    }
    assertThat(mine)
        .extracting(r -> r.value().getSide())
        .containsExactlyInAnyOrder(Side.CLIENT, Side.SERVER);
  }
}
