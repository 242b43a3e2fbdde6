package io.flowsight.collector;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.output.FlowAggregateJsonSerde;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Side;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One collector process, killed with SIGKILL five times while flows keep arriving, and restarted on
 * the same state directory each time: the aggregates must add up to the input exactly, per
 * aggregation key (connections and bytes both ways), nothing lost and nothing counted twice.
 *
 * <p>The end is proven by markers, not by a pause: after the last flow, one connection for every
 * path a flow can take through the topology (flows partition of its local IP, {@code by-remote-ip}
 * partition of its remote IP, {@code by-aggregation-key} partition of its aggregation key; Kafka's
 * default partitioner on the key text), in a later window. Every marker is behind the flows of its
 * path in every partition it passes, so when all markers' rows are out, every earlier window has
 * been emitted (rows of a task are emitted in window order, a row of a window already emitted at
 * the next punctuation); the output is then read to its last committed offset.
 */
@ExtendWith(LocalStackExtension.class)
class CollectorCrashIT {

  private static final int PARTITIONS = 4;
  private static final int CONNECTIONS = 3_000;
  private static final Duration PRODUCING = Duration.ofSeconds(60);
  private static final int CLIENTS = 200;
  private static final int SERVERS = 30;
  private static final int SERVICE_PORT = 8443;
  private static final int MARKER_PORT = 9999;
  private static final int KILLS = 5;

  private final List<Process> processes = new ArrayList<>();

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
  void shouldCountEveryConnectionOnceThroughFiveKills(LocalStack stack) throws Exception {
    String flows = stack.createTopic("flows-raw-v1", PARTITIONS);
    String identities = stack.createTopic("ip-identity-v1", PARTITIONS);
    String output = stack.createTopic("flows-aggregated-v1", PARTITIONS);
    String dlq = stack.createTopic("flows-dlq-v1", 1);
    String appId = stack.uniqueTopic("collector-crash-it");
    Path work = Files.createDirectories(Path.of("target", "it", appId)).toAbsolutePath();
    Collector collector =
        new Collector(stack, appId, flows, identities, output, dlq, work.resolve("state"), work);
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));

    // The markers: one client connection per (flows, by-remote-ip, by-aggregation-key) partition.
    List<Marker> markers = markers();
    assertThat(markers).hasSize(PARTITIONS * PARTITIONS * PARTITIONS);

    // Every IP has an owner from before the test: nothing waits for an unknown owner, so no row
    // waits for a held flow.
    try (KafkaProducer<String, IpIdentityChange> producer =
        new KafkaProducer<>(
            stack.producerConfig(),
            new StringSerializer(),
            new AvroSerializer<IpIdentityChange>(registry, false))) {
      Instant owned = Instant.now().minus(Duration.ofMinutes(10));
      Map<String, String> owners = new TreeMap<>();
      for (int c = 0; c < CLIENTS; c++) {
        owners.put(clientIp(c), clientApp(c));
      }
      for (int s = 0; s < SERVERS; s++) {
        owners.put(serverIp(s), serverApp(s));
      }
      for (Marker m : markers) {
        owners.put(m.clientIp(), "marker-client");
        owners.put(m.serverIp(), "marker-server");
      }
      owners.forEach(
          (ip, app) -> producer.send(new ProducerRecord<>(identities, ip, assign(ip, app, owned))));
      producer.flush();
    }

    Process running = collector.start();
    // Exactly-once is on: the running collector holds transactions named after its application.
    assertThat(transactionalIds(stack, appId)).isNotEmpty();

    // The truth, per aggregation key: connections, bytes client to server, server to client.
    Map<String, List<Long>> truth = new TreeMap<>();
    AtomicReference<Throwable> producerFailure = new AtomicReference<>();
    Thread producing =
        new Thread(
            () -> {
              try {
                produce(stack, registry, flows, truth);
              } catch (Throwable e) {
                producerFailure.set(e);
              }
            },
            "flow-producer");
    long startedAt = System.nanoTime();
    producing.start();

    // Five SIGKILLs at different moments: seconds into a run, shortly after one became RUNNING,
    // and once while a start is still joining the group and restoring its state.
    // (The third: as soon as its /health answers, while it is not RUNNING yet, at most 30 s.)
    long[] killAfterMillis = {8_000, 3_000, 30_000, 6_000, 2_000};
    boolean[] waitUntilRunning = {true, true, false, true, true};
    List<Integer> exitCodes = new ArrayList<>();
    for (int k = 0; k < KILLS; k++) {
      String state;
      if (waitUntilRunning[k]) {
        Thread.sleep(killAfterMillis[k]);
        state = collector.state();
      } else {
        state = collector.stateBeforeRunning(Duration.ofMillis(killAfterMillis[k]));
      }
      running.destroyForcibly(); // SIGKILL: no close, no commit, an open transaction
      assertThat(running.waitFor(30, TimeUnit.SECONDS)).isTrue();
      exitCodes.add(running.exitValue());
      System.out.printf(
          "CollectorCrashIT: kill %d at %d s, state %s%n",
          k + 1, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedAt), state);
      running = k + 1 < KILLS && !waitUntilRunning[k + 1] ? collector.launch() : collector.start();
    }
    producing.join();
    assertThat(producerFailure.get()).isNull();
    System.out.printf(
        "CollectorCrashIT: flows produced in %d s; kills done%n",
        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedAt));
    // destroyForcibly is SIGKILL on Linux: the JVM died of signal 9 (exit status 128 + 9).
    assertThat(exitCodes).hasSize(KILLS).containsOnly(137);

    // The markers, a window later than every flow.
    try (KafkaProducer<String, FlowRecord> producer =
        new KafkaProducer<>(
            stack.producerConfig(),
            new StringSerializer(),
            new AvroSerializer<FlowRecord>(registry, false))) {
      Instant end = Instant.now().plusSeconds(5);
      for (Marker m : markers) {
        FlowRecord marker =
            record(
                Side.CLIENT,
                m.clientIp(),
                40_000,
                m.serverIp(),
                MARKER_PORT,
                end.minusMillis(100),
                end,
                1,
                1,
                "marker-client");
        producer.send(new ProducerRecord<>(flows, null, end.toEpochMilli(), m.clientIp(), marker));
      }
      producer.flush();
    }

    Map<String, List<Long>> seen = readAggregatesUntilMarkers(stack, output, markers);
    Map<String, List<Long>> counted = new TreeMap<>(seen);
    for (Marker m : markers) {
      assertThat(counted.remove(m.key()))
          .as("marker row %s", m.key())
          .isEqualTo(List.of(1L, 1L, 1L));
    }
    long connections = truth.values().stream().mapToLong(v -> v.get(0)).sum();
    System.out.printf(
        "CollectorCrashIT: %d connections on %d keys in, %d connections on %d keys out, %d s%n",
        connections,
        truth.size(),
        counted.values().stream().mapToLong(v -> v.get(0)).sum(),
        counted.size(),
        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedAt));
    assertThat(connections).isEqualTo(CONNECTIONS);
    List<String> wrong = new ArrayList<>();
    Set<String> keys = new TreeSet<>(truth.keySet());
    keys.addAll(counted.keySet());
    for (String key : keys) {
      List<Long> expected = truth.getOrDefault(key, List.of(0L, 0L, 0L));
      List<Long> actual = counted.getOrDefault(key, List.of(0L, 0L, 0L));
      if (!expected.equals(actual)) {
        wrong.add(key + " [connections, bytes c2s, s2c]: " + actual + " instead of " + expected);
      }
    }
    assertThat(wrong).as("%d of %d keys wrong", wrong.size(), keys.size()).isEmpty();
    assertThat(counted).isEqualTo(truth);
    assertThat(deadLetters(stack, dlq)).isZero();
  }

  /**
   * About {@value #CONNECTIONS} connections evenly over {@link #PRODUCING}, each closed now: every
   * third one seen by both ends (the server's record 1 ms later), distinct client ports so no two
   * connections look alike. The Kafka timestamp is the record's endTime, as the sidecar sends it.
   */
  private static void produce(
      LocalStack stack, SchemaRegistryClient registry, String flows, Map<String, List<Long>> truth)
      throws InterruptedException {
    Random random = new Random(7);
    try (KafkaProducer<String, FlowRecord> producer =
        new KafkaProducer<>(
            stack.producerConfig(),
            new StringSerializer(),
            new AvroSerializer<FlowRecord>(registry, false))) {
      long startedAt = System.nanoTime();
      for (int i = 0; i < CONNECTIONS; i++) {
        long due = startedAt + PRODUCING.toNanos() * i / CONNECTIONS;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        int c = random.nextInt(CLIENTS);
        int s = random.nextInt(SERVERS);
        int port = 20_000 + i;
        long c2s = 1 + random.nextInt(100_000);
        long s2c = 1 + random.nextInt(1_000_000);
        Instant end = Instant.now();
        Instant start = end.minusMillis(1 + random.nextInt(2000));
        synchronized (truth) {
          List<Long> sums =
              truth.computeIfAbsent(
                  "TCP|" + clientIp(c) + "|" + serverIp(s) + "|" + SERVICE_PORT,
                  k -> new ArrayList<>(List.of(0L, 0L, 0L)));
          sums.set(0, sums.get(0) + 1);
          sums.set(1, sums.get(1) + c2s);
          sums.set(2, sums.get(2) + s2c);
        }
        producer.send(
            new ProducerRecord<>(
                flows,
                null,
                end.toEpochMilli(),
                clientIp(c),
                record(
                    Side.CLIENT,
                    clientIp(c),
                    port,
                    serverIp(s),
                    SERVICE_PORT,
                    start,
                    end,
                    c2s,
                    s2c,
                    clientApp(c))));
        if (i % 3 == 0) {
          Instant serverEnd = end.plusMillis(1);
          producer.send(
              new ProducerRecord<>(
                  flows,
                  null,
                  serverEnd.toEpochMilli(),
                  serverIp(s),
                  record(
                      Side.SERVER,
                      clientIp(c),
                      port,
                      serverIp(s),
                      SERVICE_PORT,
                      start.plusMillis(1),
                      serverEnd,
                      c2s,
                      s2c,
                      serverApp(s))));
        }
      }
      producer.flush();
    }
  }

  /** Sums per aggregation key over every committed row, once every marker's row is out. */
  private static Map<String, List<Long>> readAggregatesUntilMarkers(
      LocalStack stack, String output, List<Marker> markers) {
    Map<String, Object> config = stack.consumerConfig();
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    FlowAggregateJsonSerde json = new FlowAggregateJsonSerde();
    Map<String, List<Long>> sums = new TreeMap<>();
    Set<String> markersLeft = new HashSet<>();
    markers.forEach(m -> markersLeft.add(m.key()));
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(output).stream()
              .map(p -> new TopicPartition(output, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (!markersLeft.isEmpty()) {
        assertThat(System.nanoTime())
            .as("rows of %d markers still missing, e.g. %s", markersLeft.size(), markersLeft)
            .isLessThan(deadline);
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          add(sums, json.deserialize(output, r.value()), r.key());
          markersLeft.remove(r.key());
        }
      }
      // Everything committed before the markers' rows (read_committed: up to the stable offset).
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          add(sums, json.deserialize(output, r.value()), r.key());
        }
      }
    }
    return sums;
  }

  private static void add(Map<String, List<Long>> sums, FlowAggregate row, String key) {
    assertThat(key).isEqualTo(row.key());
    List<Long> s = sums.computeIfAbsent(key, k -> new ArrayList<>(List.of(0L, 0L, 0L)));
    s.set(0, s.get(0) + row.connections());
    s.set(1, s.get(1) + row.bytesClientToServer());
    s.set(2, s.get(2) + row.bytesServerToClient());
  }

  private static long deadLetters(LocalStack stack, String dlq) {
    Map<String, Object> config = stack.consumerConfig();
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition p = new TopicPartition(dlq, 0);
      consumer.assign(List.of(p));
      consumer.seekToBeginning(List.of(p));
      long end = consumer.endOffsets(List.of(p)).get(p);
      long count = 0;
      while (consumer.position(p) < end) {
        count += consumer.poll(Duration.ofMillis(500)).count();
      }
      return count;
    }
  }

  private static List<String> transactionalIds(LocalStack stack, String appId) throws Exception {
    try (Admin admin = stack.admin()) {
      return admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
          .map(TransactionListing::transactionalId)
          .filter(id -> id.startsWith(appId))
          .toList();
    }
  }

  /** A marker connection and the partitions its records pass. */
  private record Marker(String clientIp, String serverIp) {
    String key() {
      return "TCP|" + clientIp + "|" + serverIp + "|" + MARKER_PORT;
    }
  }

  /** One marker for every (flows, by-remote-ip, by-aggregation-key) partition triple. */
  private static List<Marker> markers() {
    Map<List<Integer>, Marker> byPath = new HashMap<>();
    for (int c = 1; c < 250 && byPath.size() < PARTITIONS * PARTITIONS * PARTITIONS; c++) {
      for (int s = 1; s < 250; s++) {
        Marker m = new Marker("10.99.0." + c, "10.98.0." + s);
        byPath.putIfAbsent(
            List.of(partition(m.clientIp()), partition(m.serverIp()), partition(m.key())), m);
      }
    }
    return new ArrayList<>(byPath.values());
  }

  /** Kafka's default partitioner for a String key. */
  private static int partition(String key) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
  }

  private static String clientIp(int i) {
    return "10.21." + (i / 250) + "." + (1 + i % 250);
  }

  private static String serverIp(int i) {
    return "10.31.0." + (1 + i);
  }

  private static String clientApp(int c) {
    return "client-" + (c % 20);
  }

  private static String serverApp(int s) {
    return "service-" + (s % 10);
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
        .setSourceInstance("crash-it")
        .build();
  }

  private static FlowRecord record(
      Side side,
      String clientIp,
      int clientPort,
      String serverIp,
      int servicePort,
      Instant start,
      Instant end,
      long c2s,
      long s2c,
      String app) {
    boolean client = side == Side.CLIENT;
    return TestFlows.flow(side, clientIp, clientPort, serverIp, servicePort, start, end)
        .setKind(FlowKind.CLOSED)
        .setLocalIdentity(TestFlows.app(app))
        .setBytesSent(client ? c2s : s2c)
        .setBytesReceived(client ? s2c : c2s)
        .setSegmentsSent(10)
        .setSegmentsReceived(12)
        .setSrttMicros(300)
        .build();
  }

  /** The collector as a process of its own; every start on the same state directory. */
  private final class Collector {
    private final List<String> arguments;
    private final Path work;
    private int starts;
    private int metricsPort;

    Collector(
        LocalStack stack,
        String appId,
        String flows,
        String identities,
        String output,
        String dlq,
        Path stateDir,
        Path work) {
      this.work = work;
      this.arguments =
          List.of(
              "--bootstrap-servers=" + stack.bootstrapServers(),
              "--registry-url=" + stack.registryUrl(),
              "--flows-topic=" + flows,
              "--identity-topic=" + identities,
              "--output-topic=" + output,
              "--dlq-topic=" + dlq,
              "--application-id=" + appId,
              "--window=5s",
              "--grace=2s",
              "--hold-back=5s",
              "--threads=1",
              "--commit-interval=200ms",
              "--replication-factor=1",
              "--state-dir=" + stateDir,
              // A killed member's partitions move after the session timeout; its open transaction
              // is aborted when the next start fences it or after the transaction timeout.
              "--kafka-property=session.timeout.ms=6000,heartbeat.interval.ms=1500");
    }

    /** Starts the process; returns at once. */
    Process launch() throws IOException {
      starts++;
      metricsPort = freePort();
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<String> command = new ArrayList<>();
      command.addAll(
          List.of(
              java,
              "-Xmx256m",
              "-XX:+UseSerialGC",
              "-cp",
              System.getProperty("java.class.path"),
              CollectorMain.class.getName()));
      command.addAll(arguments);
      command.add("--metrics-address=127.0.0.1:" + metricsPort);
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log().toFile())
              .start();
      processes.add(p);
      return p;
    }

    /** Starts the process and waits until /health says RUNNING. */
    Process start() throws IOException, InterruptedException {
      Process p = launch();
      return CollectorProcesses.awaitRunning(p, metricsPort, log());
    }

    /**
     * Waits (at most {@code timeout}) for /health to answer with a state other than RUNNING and
     * returns it: a start that is joining the group or restoring its state.
     */
    String stateBeforeRunning(Duration timeout) throws InterruptedException {
      long until = System.nanoTime() + timeout.toNanos();
      String state = state();
      while (System.nanoTime() < until
          && (state.startsWith("no answer") || state.contains("CREATED"))) {
        Thread.sleep(50);
        state = state();
      }
      return state;
    }

    /** What /health says now (the Kafka Streams state), or why it says nothing. */
    String state() {
      try {
        return HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/health"))
                    .timeout(Duration.ofSeconds(2))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
      } catch (IOException e) {
        return "no answer (" + e.getClass().getSimpleName() + ")";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted";
      }
    }

    private Path log() {
      return work.resolve("collector-" + starts + ".log");
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
