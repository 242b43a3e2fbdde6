package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.sidecar.sink.KafkaSink;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.Requirements;
import io.flowsight.testing.SampleFlows;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Confluent's own Avro clients (Debian's {@code python3-confluent-kafka}: librdkafka, Confluent's
 * serializer and registry client) as the outside witness of the project's hand-written wire-format
 * serde, in both directions, through the real broker and registry: the collector reads what a
 * Confluent producer wrote exactly, and a Confluent consumer reads the sidecar's records exactly.
 */
@ExtendWith(LocalStackExtension.class)
class ConfluentClientIT {

  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CLIENT = "127.0.0.90";
  private static final String SERVER = "127.0.0.91";
  private static final int SERVICE_PORT = 8443;
  private static final int CONNECTIONS = 10;

  @TempDir Path dir;

  private Path script;

  @BeforeEach
  void setUp() throws Exception {
    Requirements.require(
        Files.isExecutable(PYTHON)
            && run(PYTHON.toString(), "-c", "import confluent_kafka.avro").exit == 0,
        "Confluent's Python client: apt-get install python3-confluent-kafka python3-avro"
            + " python3-requests");
    script = dir.resolve("confluent_client.py");
    try (var in = getClass().getResourceAsStream("/confluent_client.py")) {
      Files.write(script, in.readAllBytes());
    }
  }

  @Test
  void shouldAttributeAndCountExactlyWhatAConfluentProducerWrote(LocalStack stack)
      throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String raw = stack.createTopic("flows-raw-v1-confluent", 3);
    String identities = stack.createTopic("ip-identity-v1-confluent", 3);
    String aggregated = stack.createTopic("flows-aggregated-v1-confluent", 1);
    String deadLetters = stack.createTopic("flows-dlq-v1-confluent", 1);
    Path schema =
        Files.writeString(dir.resolve("FlowRecord.avsc"), FlowRecord.getClassSchema().toString());

    // Both ends of each connection, as both hosts' sidecars would report them.
    long now = System.currentTimeMillis();
    List<Map<String, Object>> flows = new ArrayList<>();
    for (int i = 0; i < CONNECTIONS; i++) {
      long start = now - 8_000 + i * 100L;
      int ephemeral = 40_000 + i;
      flows.add(
          flow(
              CLIENT,
              ephemeral,
              SERVER,
              SERVICE_PORT,
              "CLIENT",
              start,
              100L * (i + 1),
              1000L * (i + 1),
              "confluent-client"));
      flows.add(
          flow(
              SERVER,
              SERVICE_PORT,
              CLIENT,
              ephemeral,
              "SERVER",
              start,
              1000L * (i + 1),
              100L * (i + 1),
              "confluent-server"));
    }
    Path flowsFile = Files.writeString(dir.resolve("flows.json"), JSON.writeValueAsString(flows));

    Result produced =
        run(
            PYTHON.toString(),
            script.toString(),
            "produce",
            stack.bootstrapServers(),
            stack.registryUrl(),
            raw,
            schema.toString(),
            flowsFile.toString());
    assertThat(produced.exit).as(produced.output).isZero();
    assertThat(produced.output.trim()).isEqualTo(String.valueOf(2 * CONNECTIONS));

    try (CollectorProcess collector =
        CollectorProcess.start(
            stack.bootstrapServers(),
            stack.registryUrl(),
            raw,
            identities,
            aggregated,
            deadLetters,
            "confluent-collector-" + run,
            dir.resolve("collector-state"),
            dir.resolve("collector.log"))) {
      List<JsonNode> rows =
          awaitConnections(
              stack.bootstrapServers(), aggregated, CONNECTIONS, Duration.ofMinutes(3));
      long up = rows.stream().mapToLong(r -> r.path("bytesClientToServer").asLong()).sum();
      long down = rows.stream().mapToLong(r -> r.path("bytesServerToClient").asLong()).sum();
      long total = 100L * CONNECTIONS * (CONNECTIONS + 1) / 2;
      assertThat(up).isEqualTo(total);
      assertThat(down).isEqualTo(10 * total);
      for (JsonNode r : rows) {
        assertThat(r.path("clientIp").asText()).isEqualTo(CLIENT);
        assertThat(r.path("serverIp").asText()).isEqualTo(SERVER);
        assertThat(r.path("servicePort").asInt()).isEqualTo(SERVICE_PORT);
        assertThat(r.path("clientApp").asText()).isEqualTo("confluent-client");
        assertThat(r.path("serverApp").asText()).isEqualTo("confluent-server");
        assertThat(r.path("clientAttribution").asText()).isEqualTo("OWNER");
        assertThat(r.path("serverAttribution").asText()).isEqualTo("OWNER");
        assertThat(r.path("observedBy").asText()).isEqualTo("BOTH");
      }
      assertThat(collector.metrics("flowsight_collector_dead_letters_total"))
          .as("dead letters")
          .isEmpty();
      assertThat(collector.metrics("flowsight_collector_misrouted_records_total"))
          .as("misrouted")
          .isEmpty();
      assertThat(collector.metrics("flowsight_collector_records_in_total{input=\"flows\"}"))
          .isEqualTo(
              "flowsight_collector_records_in_total{input=\"flows\"} " + (2.0 * CONNECTIONS));
    }
  }

  @Test
  void shouldLetAConfluentConsumerReadTheSidecarsRecordsExactly(LocalStack stack) throws Exception {
    String topic = stack.createTopic("flows-raw-v1-to-confluent", 1);
    SampleFlows samples = new SampleFlows(7);
    List<FlowRecord> sent = new ArrayList<>();
    try (KafkaSink sink =
        new KafkaSink(
            stack.bootstrapServers(), stack.registryUrl(), topic, 1_000, new SidecarMetrics())) {
      for (int i = 0; i < 20; i++) {
        FlowRecord r = samples.next();
        sent.add(r);
        sink.accept(r);
      }
      sink.flush();
    }

    Result consumed =
        run(
            PYTHON.toString(),
            script.toString(),
            "consume",
            stack.bootstrapServers(),
            stack.registryUrl(),
            topic,
            "20");
    assertThat(consumed.exit).as(consumed.output).isZero();
    Map<Long, JsonNode> read = new HashMap<>();
    for (String line : consumed.output.lines().filter(l -> l.startsWith("{")).toList()) {
      JsonNode r = JSON.readTree(line);
      read.put(r.path("sequence").asLong(), r);
    }
    assertThat(read).hasSize(20);
    for (FlowRecord r : sent) {
      JsonNode c = read.get(r.getSequence());
      assertThat(c.path("observerId").asText()).isEqualTo(r.getObserverId());
      assertThat(c.path("sidecarRunId").asText()).isEqualTo(r.getSidecarRunId());
      assertThat(c.path("kind").asText()).isEqualTo(r.getKind().name());
      assertThat(c.path("localIp").asText()).isEqualTo(IpAddresses.toText(r.getLocalIp()));
      assertThat(c.path("remoteIp").asText()).isEqualTo(IpAddresses.toText(r.getRemoteIp()));
      assertThat(c.path("localPort").asInt()).isEqualTo(r.getLocalPort());
      assertThat(c.path("remotePort").asInt()).isEqualTo(r.getRemotePort());
      assertThat(c.path("side").asText()).isEqualTo(r.getSide().name());
      assertThat(c.path("startTime").asLong()).isEqualTo(r.getStartTime().toEpochMilli());
      assertThat(c.path("endTime").asLong()).isEqualTo(r.getEndTime().toEpochMilli());
      assertThat(c.path("bytesSent").asLong()).isEqualTo(r.getBytesSent());
      assertThat(c.path("bytesReceived").asLong()).isEqualTo(r.getBytesReceived());
      assertThat(c.path("retransmits").asLong()).isEqualTo(r.getRetransmits());
      assertThat(c.path("srttMicros").asInt()).isEqualTo(r.getSrttMicros());
      assertThat(c.path("connectLatencyMicros").asLong()).isEqualTo(r.getConnectLatencyMicros());
      assertThat(c.path("pid").asInt()).isEqualTo(r.getPid());
      assertThat(c.path("processName").asText()).isEqualTo(r.getProcessName());
      assertThat(c.path("localIdentity").path("app").asText())
          .isEqualTo(r.getLocalIdentity().getApp());
      assertThat(c.path("localIdentity").path("cluster").asText())
          .isEqualTo(r.getLocalIdentity().getCluster());
    }
  }

  // ---- helpers
  // -----------------------------------------------------------------------------------

  private static Map<String, Object> flow(
      String local,
      int localPort,
      String remote,
      int remotePort,
      String side,
      long start,
      long sent,
      long received,
      String app) {
    Map<String, Object> f = new HashMap<>();
    f.put("observerId", "confluent-" + local);
    f.put("localIp", local);
    f.put("localPort", localPort);
    f.put("remoteIp", remote);
    f.put("remotePort", remotePort);
    f.put("side", side);
    f.put("servicePort", SERVICE_PORT);
    f.put("start", start);
    f.put("end", start + 50);
    f.put("bytesSent", sent);
    f.put("bytesReceived", received);
    f.put("app", app);
    return f;
  }

  /** The output rows of CLIENT to SERVER, read until they hold {@code connections}. */
  private static List<JsonNode> awaitConnections(
      String bootstrap, String topic, long connections, Duration timeout) throws Exception {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "confluent-reader-" + UUID.randomUUID());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<JsonNode> rows = new ArrayList<>();
    long seen = 0;
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          JsonNode row = JSON.readTree(r.value());
          rows.add(row);
          seen += row.path("connections").asLong();
        }
        if (seen >= connections) {
          // A few more seconds: nothing counted twice arrives after the last expected row.
          deadline = Math.min(deadline, System.nanoTime() + Duration.ofSeconds(5).toNanos());
        }
      }
    }
    assertThat(seen).as("connections in the output").isEqualTo(connections);
    return rows;
  }

  private record Result(int exit, String output) {}

  private static Result run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(-1, output + "\n(timed out)");
    }
    return new Result(p.exitValue(), output);
  }
}
