package io.flowsight.collector;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.output.FlowAggregateJsonSerde;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two collector processes share the work on the real broker; one is killed with SIGKILL in the
 * middle of the stream. Exactly-once: the aggregates add up to the input, no more, no less.
 */
@ExtendWith(LocalStackExtension.class)
class CollectorIT {

  private static final int RECORDS = 20_000;
  private static final int PARTITIONS = 4;

  private final List<Process> processes = new ArrayList<>();
  private final Map<Process, Integer> metricsPorts = new HashMap<>();

  @AfterEach
  void stopProcesses() throws InterruptedException {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(40, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  @Test
  void shouldAggregateExactlyTheInputWhenOneOfTwoInstancesIsKilledMidStream(LocalStack stack)
      throws Exception {
    String flows = stack.createTopic("flows-raw-v1", PARTITIONS);
    String identities = stack.createTopic("ip-identity-v1", PARTITIONS);
    String output = stack.createTopic("flows-aggregated-v1", PARTITIONS);
    String dlq = stack.createTopic("flows-dlq-v1", 1);
    String appId = stack.uniqueTopic("collector-it");
    Path work = Files.createDirectories(Path.of("target", "it", appId)).toAbsolutePath();

    Random random = new Random(42);
    int clients = 300;
    int servers = 40;
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    try (KafkaProducer<String, IpIdentityChange> identityProducer =
        new KafkaProducer<>(
            stack.producerConfig(),
            new StringSerializer(),
            new AvroSerializer<IpIdentityChange>(registry, false))) {
      // Every server IP has an owner from an identity source; clients are known by heartbeat.
      for (int s = 0; s < servers; s++) {
        String ip = serverIp(s);
        identityProducer.send(
            new ProducerRecord<>(
                identities,
                ip,
                assign(ip, "service-" + (s % 10), Instant.now().minusSeconds(600))));
      }
      identityProducer.flush();
    }

    Process first = startCollector(stack, appId, flows, identities, output, dlq, work, "a");
    Process second = startCollector(stack, appId, flows, identities, output, dlq, work, "b");

    long connections = 0;
    long bytesClientToServer = 0;
    long bytesServerToClient = 0;
    int sent = 0;
    try (KafkaProducer<String, FlowRecord> producer =
        new KafkaProducer<>(
            stack.producerConfig(),
            new StringSerializer(),
            new AvroSerializer<FlowRecord>(registry, false))) {
      // About 1,000 records a second for 20 s; the first instance dies after 8 s.
      long startedAt = System.nanoTime();
      boolean killed = false;
      while (sent < RECORDS) {
        long due = startedAt + TimeUnit.MILLISECONDS.toNanos(sent);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        if (!killed && sent >= RECORDS * 2 / 5) {
          first.destroyForcibly(); // SIGKILL: no close, no commit, an open transaction
          first.waitFor(10, TimeUnit.SECONDS);
          killed = true;
        }
        int c = random.nextInt(clients);
        int s = random.nextInt(servers);
        int port = 32768 + random.nextInt(28000);
        long c2s = random.nextInt(100_000);
        long s2c = random.nextInt(1_000_000);
        Instant end = Instant.now();
        Instant start = end.minusMillis(1 + random.nextInt(2000));
        connections++;
        bytesClientToServer += c2s;
        bytesServerToClient += s2c;
        FlowRecord client =
            record(
                Side.CLIENT,
                clientIp(c),
                port,
                serverIp(s),
                start,
                end,
                c2s,
                s2c,
                "client-" + (c % 20));
        producer.send(new ProducerRecord<>(flows, null, end.toEpochMilli(), clientIp(c), client));
        sent++;
        if (sent < RECORDS && random.nextInt(10) < 3) {
          // The server runs a sidecar too: the same connection, seen from its end.
          FlowRecord server =
              record(
                  Side.SERVER,
                  clientIp(c),
                  port,
                  serverIp(s),
                  start.plusMillis(1),
                  end.plusMillis(1),
                  c2s,
                  s2c,
                  "service-" + (s % 10));
          producer.send(
              new ProducerRecord<>(flows, null, end.toEpochMilli() + 1, serverIp(s), server));
          sent++;
        }
      }
      producer.flush();
    }
    assertThat(first.isAlive()).isFalse();

    // Read the aggregates until they add up (or stop growing).
    Map<String, Object> consumerConfig = stack.consumerConfig();
    consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    long seenConnections = 0;
    long seenC2s = 0;
    long seenS2c = 0;
    long rows = 0;
    long bothRows = 0;
    long unattributedServers = 0;
    FlowAggregateJsonSerde json = new FlowAggregateJsonSerde();
    Instant deadline = Instant.now().plus(Duration.ofMinutes(4));
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            consumerConfig, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(output));
      while (Instant.now().isBefore(deadline)
          && (seenConnections < connections
              || seenC2s < bytesClientToServer
              || seenS2c < bytesServerToClient)) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
          FlowAggregate a = json.deserialize(output, r.value());
          rows++;
          seenConnections += a.connections();
          seenC2s += a.bytesClientToServer();
          seenS2c += a.bytesServerToClient();
          if (a.observedBy() == ObservedBy.BOTH) {
            bothRows++;
          }
          if (a.serverAttribution() != AttributionStatus.OWNER) {
            unattributedServers++;
          }
        }
      }
      // Anything more would be a duplicate: give it a few more seconds to show up.
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (System.nanoTime() < until) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
          FlowAggregate a = json.deserialize(output, r.value());
          rows++;
          seenConnections += a.connections();
          seenC2s += a.bytesClientToServer();
          seenS2c += a.bytesServerToClient();
        }
      }
    }
    System.out.printf(
        "CollectorIT: %d records (%d connections) in, %d aggregates out (%d observed by both"
            + " ends, %d with an unattributed server)%n",
        sent, connections, rows, bothRows, unattributedServers);
    assertThat(seenConnections).isEqualTo(connections);
    assertThat(seenC2s).isEqualTo(bytesClientToServer);
    assertThat(seenS2c).isEqualTo(bytesServerToClient);
    assertThat(bothRows).isPositive();
    assertThat(unattributedServers).isZero();
    assertThat(deadLetters(stack, dlq)).isZero();
    assertThat(second.isAlive()).isTrue();
    String metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + metricsPorts.get(second) + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains("flowsight_collector_records_in_total{input=\"flows\"}")
        .contains("flowsight_collector_aggregates_out_total")
        .contains("flowsight_collector_consumer_lag_records{topic=\"" + flows + "\"}")
        .contains("flowsight_collector_attributions_total{end=\"remote\",status=\"OWNER\"}");
  }

  @Test
  void shouldRefuseToStartWhenTheInputsHaveDifferentPartitionCounts(LocalStack stack) {
    String flows = stack.createTopic("flows-raw-v1", 4);
    String identities = stack.createTopic("ip-identity-v1", 2);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        CollectorMain.run(
            new String[] {
              "--bootstrap-servers=" + stack.bootstrapServers(),
              "--registry-url=" + stack.registryUrl(),
              "--flows-topic=" + flows,
              "--identity-topic=" + identities,
              "--output-topic=" + stack.uniqueTopic("out"),
              "--dlq-topic=" + stack.uniqueTopic("dlq"),
              "--metrics-address=127.0.0.1:0"
            },
            Map.of(),
            System.out,
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(exit).isEqualTo(CollectorMain.EXIT_TOPICS);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(flows + " has 4 partitions but " + identities + " has 2")
        .contains("co-partitioned");
  }

  @Test
  void shouldCreateMissingInputsWithTheSamePartitionCount(LocalStack stack) throws Exception {
    String flows = stack.createTopic("flows-raw-v1", 3);
    String identities = stack.uniqueTopic("ip-identity-v1");
    try (Admin admin = stack.admin()) {
      int partitions =
          new TopicSetup(admin, (short) 1)
              .ensure(flows, identities, stack.uniqueTopic("out"), stack.uniqueTopic("dlq"), 6);
      assertThat(partitions).isEqualTo(3);
      assertThat(
              admin
                  .describeTopics(List.of(identities))
                  .allTopicNames()
                  .get()
                  .get(identities)
                  .partitions())
          .hasSize(3);
    }
  }

  private long deadLetters(LocalStack stack, String dlq) {
    Map<String, Object> config = stack.consumerConfig();
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    long count = 0;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(dlq));
      for (int i = 0; i < 5; i++) {
        count += consumer.poll(Duration.ofSeconds(1)).count();
      }
    }
    return count;
  }

  private Process startCollector(
      LocalStack stack,
      String appId,
      String flows,
      String identities,
      String output,
      String dlq,
      Path work,
      String name)
      throws IOException, InterruptedException {
    int metricsPort = freePort();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        List.of(
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
            "--hold-back=10s",
            "--threads=1",
            "--commit-interval=200ms",
            "--replication-factor=1",
            "--state-dir=" + work.resolve("state-" + name),
            "--metrics-address=127.0.0.1:" + metricsPort,
            "--kafka-property=session.timeout.ms=6000,heartbeat.interval.ms=1500");
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("collector-" + name + ".log").toFile())
            .start();
    processes.add(p);
    metricsPorts.put(p, metricsPort);
    // Ready when /health says RUNNING.
    return CollectorProcesses.awaitRunning(
        p, metricsPort, work.resolve("collector-" + name + ".log"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static String clientIp(int i) {
    return "10.20." + (i / 250) + "." + (1 + i % 250);
  }

  private static String serverIp(int i) {
    return "10.30.0." + (1 + i);
  }

  private static IpIdentityChange assign(String ip, String app, Instant at) {
    return IpIdentityChange.newBuilder()
        .setAddressFamily(AddressFamily.IPV4)
        .setIp(ByteBuffer.wrap(IpAddresses.parse(ip)))
        .setPrefixLength(null)
        .setAction(IdentityAction.ASSIGN)
        .setIdentity(TestFlows.app(app))
        .setEventTime(at)
        .setSource("kubernetes")
        .setSourceInstance("it")
        .build();
  }

  private static FlowRecord record(
      Side side,
      String clientIp,
      int clientPort,
      String serverIp,
      Instant start,
      Instant end,
      long c2s,
      long s2c,
      String app) {
    boolean client = side == Side.CLIENT;
    return TestFlows.flow(side, clientIp, clientPort, serverIp, 8443, start, end)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setLocalIdentity(TestFlows.app(app))
        .setBytesSent(client ? c2s : s2c)
        .setBytesReceived(client ? s2c : c2s)
        .setSegmentsSent(10)
        .setSegmentsReceived(12)
        .setSrttMicros(300)
        .build();
  }
}
