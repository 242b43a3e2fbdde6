package io.flowsight.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.output.FlowAggregateJsonSerde;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.SchemaVersions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Poison does not stall the collector: 1,000 good flow records through the registry serde, mixed
 * with one record of each poison kind, on the real broker and registry. Every good connection and
 * byte comes out, every poison record is in the dead-letter topic with its reason, and the
 * collector stays healthy.
 */
@ExtendWith(LocalStackExtension.class)
class CollectorPoisonIT {

  private static final int GOOD = 1_000;
  private static final int SERVICE_PORT = 8443;
  private static final int MARKER_PORT = 9999;
  private static final ObjectMapper JSON = new ObjectMapper();

  private Process collector;

  @AfterEach
  void stop() throws InterruptedException {
    if (collector != null) {
      collector.destroy();
      if (!collector.waitFor(40, TimeUnit.SECONDS)) {
        collector.destroyForcibly();
      }
    }
  }

  @Test
  void shouldAggregateEveryGoodRecordAndDeadLetterEachPoisonWithItsReason(LocalStack stack)
      throws Exception {
    // One partition: the end marker, produced last, is processed last.
    String flows = stack.createTopic("flows-raw-v1", 1);
    String identities = stack.createTopic("ip-identity-v1", 1);
    String output = stack.createTopic("flows-aggregated-v1", 1);
    String dlq = stack.createTopic("flows-dlq-v1", 1);
    String appId = stack.uniqueTopic("collector-poison-it");
    Path work = Files.createDirectories(Path.of("target", "it", appId)).toAbsolutePath();
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    int metricsPort = freePort();
    collector = startCollector(stack, appId, flows, identities, output, dlq, work, metricsPort);

    // The poison, built through the real registry.
    int currentId = registry.idFor(flows + "-value", FlowRecord.getClassSchema());
    Schema newer = SchemaVersions.newer(FlowRecord.getClassSchema(), "Protocol", "SCTP", "ecn");
    int newerId = registry.idFor(flows + "-value", newer);
    int stringId = registry.idFor(flows + "-other-value", Schema.create(Schema.Type.STRING));
    Integer unparsableId = registerUnparsable(stack, flows + "-broken-value");
    Instant now = Instant.now();
    byte[] good =
        SchemaVersions.wire(
            currentId, FlowRecord.getClassSchema(), record(60000, 1, 1, now, "10.41.0.1"));
    Map<String, byte[]> poison = new LinkedHashMap<>();
    poison.put("oversized", Arrays.copyOf(good, good.length + 1_000_000));
    poison.put("giant-length-prefix", PoisonBytes.giantLengthPrefix(good));
    if (unparsableId != null) {
      poison.put("unparsable-schema", PoisonBytes.withSchemaId(good, unparsableId));
    }
    poison.put("wrong-type-schema", PoisonBytes.withSchemaId(good, stringId));
    GenericRecord sctp = SchemaVersions.convert(record(60001, 1, 1, now, "10.41.0.2"), newer);
    sctp.put("protocol", SchemaVersions.symbol(newer, "protocol", "SCTP"));
    poison.put("unknown-enum-symbol", SchemaVersions.wire(newerId, newer, sctp));
    byte[] garbage = new byte[64];
    Arrays.fill(garbage, (byte) 0xff);
    ByteBuffer.wrap(garbage).put((byte) 0).putInt(currentId);
    poison.put("garbage", garbage);
    poison.put("wrong-magic-byte", "{\"observerId\":\"json\"}".getBytes(StandardCharsets.UTF_8));
    Map<String, String> expectedDetail =
        Map.of(
            "oversized", "MALFORMED: ",
            "giant-length-prefix", "LIMIT_EXCEEDED: ",
            "unparsable-schema", "UNPARSABLE_SCHEMA: schema id " + unparsableId + " ",
            "wrong-type-schema", "WRONG_SCHEMA: schema id " + stringId + " is a string",
            "unknown-enum-symbol", "protocol is a symbol this collector does not know",
            "garbage", "",
            "wrong-magic-byte", "WRONG_MAGIC_BYTE: ");

    long bytesC2s = 0;
    long bytesS2c = 0;
    Instant lastEnd = now;
    Map<String, Object> producerConfig = stack.producerConfig();
    producerConfig.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 * 1024 * 1024);
    try (KafkaProducer<String, FlowRecord> producer =
            new KafkaProducer<>(
                stack.producerConfig(),
                new StringSerializer(),
                new AvroSerializer<FlowRecord>(registry, false));
        KafkaProducer<byte[], byte[]> raw =
            new KafkaProducer<>(
                producerConfig, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<String> kinds = new ArrayList<>(poison.keySet());
      int poisonEvery = GOOD / (kinds.size() + 1);
      for (int i = 0; i < GOOD; i++) {
        if (i > 0 && i % poisonEvery == 0 && i / poisonEvery <= kinds.size()) {
          producer.flush(); // keep the order of the two producers in the one partition
          String kind = kinds.get(i / poisonEvery - 1);
          raw.send(
                  new ProducerRecord<>(
                      flows, ("poison-" + kind).getBytes(StandardCharsets.UTF_8), poison.get(kind)))
              .get();
        }
        long c2s = 1000L + i;
        long s2c = 100_000L + 7L * i;
        Instant end = Instant.now();
        String client = "10.40." + (i / 250) + "." + (1 + i % 250);
        producer.send(
            new ProducerRecord<>(
                flows, null, end.toEpochMilli(), client, record(40000 + i, c2s, s2c, end, client)));
        bytesC2s += c2s;
        bytesS2c += s2c;
        lastEnd = end;
      }
      producer.flush();
      // The end marker: a connection in a later window, on its own port.
      Instant markerEnd = lastEnd.plusSeconds(6);
      FlowRecord marker =
          FlowRecord.newBuilder(record(50000, 1, 1, markerEnd, "10.42.0.1"))
              .setServicePort(MARKER_PORT)
              .setRemotePort(MARKER_PORT)
              .build();
      producer.send(
          new ProducerRecord<>(flows, null, markerEnd.toEpochMilli(), "10.42.0.1", marker));
      producer.flush();
    }

    // Read the output until the marker's row arrives: everything before it was processed.
    Map<String, Object> consumerConfig = stack.consumerConfig();
    consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    long connections = 0;
    long seenC2s = 0;
    long seenS2c = 0;
    boolean markerSeen = false;
    FlowAggregateJsonSerde json = new FlowAggregateJsonSerde();
    Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            consumerConfig, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(output));
      while (!markerSeen && Instant.now().isBefore(deadline)) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
          FlowAggregate a = json.deserialize(output, r.value());
          if (a.servicePort() == MARKER_PORT) {
            markerSeen = true;
            continue;
          }
          connections += a.connections();
          seenC2s += a.bytesClientToServer();
          seenS2c += a.bytesServerToClient();
        }
      }
    }
    assertThat(markerSeen).as("the end marker's row arrived").isTrue();
    assertThat(connections).isEqualTo(GOOD);
    assertThat(seenC2s).isEqualTo(bytesC2s);
    assertThat(seenS2c).isEqualTo(bytesS2c);

    // Each poison record is a dead letter, with its reason (all committed before the marker).
    Map<String, JsonNode> letters = new LinkedHashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(dlq));
      Instant until = Instant.now().plusSeconds(30);
      while (letters.size() < poison.size() && Instant.now().isBefore(until)) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
          JsonNode envelope = JSON.readTree(r.value());
          letters.put(envelope.get("key").asText().replace("poison-", ""), envelope);
        }
      }
    }
    System.out.printf(
        "CollectorPoisonIT: %d good records, %d poison records (%s); dead letters: %s%n",
        GOOD,
        poison.size(),
        String.join(", ", poison.keySet()),
        letters.values().stream().map(e -> e.get("detail").asText()).toList());
    assertThat(letters.keySet()).containsExactlyElementsOf(poison.keySet());
    letters.forEach(
        (kind, e) -> {
          String reason = kind.equals("unknown-enum-symbol") ? "invalid" : "undecodable";
          assertThat(e.get("reason").asText()).as(kind).isEqualTo(reason);
          assertThat(e.get("detail").asText()).as(kind).startsWith(expectedDetail.get(kind));
          assertThat(e.get("valueSize").asInt()).as(kind).isEqualTo(poison.get(kind).length);
        });
    assertThat(letters.get("oversized").get("valueTruncated").asBoolean()).isTrue();

    // Healthy, and never replaced a thread.
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> health =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/health"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"status\":\"UP\"").contains("RUNNING");
    String metrics =
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains(
            "flowsight_collector_dead_letters_total{reason=\"undecodable\"} "
                + (poison.size() - 1)
                + ".0")
        .contains("flowsight_collector_dead_letters_total{reason=\"invalid\"} 1.0")
        .doesNotContain("flowsight_collector_thread_replacements_total{")
        .doesNotContain("flowsight_collector_dead_letters_unwritten_total{");
    assertThat(collector.isAlive()).isTrue();
  }

  /**
   * Registers a schema that is not valid Avro, straight through the registry's API; null when the
   * registry refuses to store it. Apicurio Registry 3.3 refuses it (HTTP 422, "Failed to discover
   * artifact type from content"): then the schema id of another type ({@code wrong-type-schema}) is
   * the registry-served poison, and the unit tests cover UNPARSABLE_SCHEMA.
   */
  private static Integer registerUnparsable(LocalStack stack, String subject) throws Exception {
    String body = "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Cut\\\"\"}";
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(stack.registryUrl() + "/subjects/" + subject + "/versions"))
                    .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    System.out.printf(
        "CollectorPoisonIT: registering an unparsable schema: HTTP %d %s%n",
        response.statusCode(), response.body());
    if (response.statusCode() != 200) {
      return null;
    }
    return JSON.readTree(response.body()).get("id").asInt();
  }

  private static FlowRecord record(int clientPort, long c2s, long s2c, Instant end, String ip) {
    return TestFlows.flow(
            Side.CLIENT, ip, clientPort, "10.43.0.1", SERVICE_PORT, end.minusMillis(500), end)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setLocalIdentity(TestFlows.app("client"))
        .setBytesSent(c2s)
        .setBytesReceived(s2c)
        .setSegmentsSent(3)
        .setSegmentsReceived(4)
        .setSrttMicros(200)
        .build();
  }

  private static Process startCollector(
      LocalStack stack,
      String appId,
      String flows,
      String identities,
      String output,
      String dlq,
      Path work,
      int metricsPort)
      throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path log = work.resolve("collector.log");
    Process p =
        new ProcessBuilder(
                java,
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                CollectorMain.class.getName(),
                "--bootstrap-servers=" + stack.bootstrapServers(),
                "--registry-url=" + stack.registryUrl(),
                "--flows-topic=" + flows,
                "--identity-topic=" + identities,
                "--output-topic=" + output,
                "--dlq-topic=" + dlq,
                "--application-id=" + appId,
                "--window=5s",
                "--grace=5s",
                "--hold-back=2s",
                "--threads=1",
                "--commit-interval=200ms",
                "--replication-factor=1",
                "--state-dir=" + work.resolve("state"),
                "--metrics-address=127.0.0.1:" + metricsPort)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    return CollectorProcesses.awaitRunning(p, metricsPort, log);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
