package io.flowsight.sidecar;

import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.sidecar.sink.KafkaSink;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.Requirements;
import java.net.InetAddress;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Kernel to Kafka: records of a real connection read back from the real broker and registry. */
@ExtendWith(LocalStackExtension.class)
class SidecarKafkaIT {

  @Test
  void shouldProduceTheRecordsOfAConnectionToKafkaKeyedByLocalIp(LocalStack stack)
      throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    String topic = stack.createTopic("flows-raw-v1", 3);
    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {
                  "--bootstrap-servers",
                  stack.bootstrapServers(),
                  "--registry-url",
                  stack.registryUrl(),
                  "--topic",
                  topic,
                  "--poll-interval",
                  "10ms",
                  "--metrics-address",
                  "127.0.0.1:0",
                  "--identity.app",
                  "kafka-it",
                  "--state-dir",
                  Files.createTempDirectory("sidecar-kafka-it-state").toString()
                },
                Map.of())
            .toConfig();
    SidecarMetrics metrics = new SidecarMetrics();
    Identity identity = config.localIdentity();
    KafkaSink sink =
        new KafkaSink(
            config.bootstrapServers(), config.registryUrl(), topic, config.outputBuffer(), metrics);
    Loopback.Ports ports;
    Sidecar sidecar = Sidecar.start(config, metrics, sink, ip -> identity);
    try {
      ports = Loopback.exchange(InetAddress.getByName("127.0.0.1"), 1000, 5000);
      Thread.sleep(200); // the close events reach the table within a few poll intervals
    } finally {
      sidecar.close(); // drains the ring buffer and flushes the producer
    }

    ExchangeRecords.assertClosedExchange(
        ExchangeRecords.read(stack.consumerConfig(), stack.registryUrl(), topic, ports),
        ports,
        "kafka-it");
  }
}
