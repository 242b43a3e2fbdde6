package io.flowsight.collector.bench;

import io.flowsight.collector.CollectorRuntime;
import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.CollectorTopology;
import io.flowsight.collector.Topics;
import io.flowsight.collector.config.CollectorConfig;
import io.flowsight.collector.config.CollectorOptions;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.output.FlowAggregateJsonSerde;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Pushes N synthetic flows ({@link FlowWorkload}) through the real broker, first through a plain
 * Kafka Streams passthrough (consume, produce; same exactly-once settings, the ceiling of this
 * broker and machine), then through the collector, both from a backlog, and prints flows per second
 * and the output/input message ratio next to 5-tuple aggregation of the same data.
 *
 * <pre>
 * java -cp ... io.flowsight.collector.bench.CollectorBenchmark [N] [bootstrap] [registry-url]
 *     [--partitions=6] [--threads=2] [--skip-passthrough] [--commit-interval=1s]
 *     [--hold-back=2m] [--kafka-property=KEY=VALUE,...]
 * </pre>
 */
public final class CollectorBenchmark {

  private CollectorBenchmark() {}

  public static void main(String[] args) throws Exception {
    List<String> positional = new ArrayList<>();
    Map<String, String> flags = new HashMap<>();
    for (String a : args) {
      if (a.startsWith("--")) {
        String[] kv = a.substring(2).split("=", 2);
        flags.put(kv[0], kv.length > 1 ? kv[1] : "true");
      } else {
        positional.add(a);
      }
    }
    long n = positional.size() > 0 ? Long.parseLong(positional.get(0).replace("_", "")) : 1_000_000;
    String bootstrap = positional.size() > 1 ? positional.get(1) : "127.0.0.1:9092";
    String registryUrl =
        positional.size() > 2 ? positional.get(2) : "http://127.0.0.1:8081/apis/ccompat/v7";
    int partitions = Integer.parseInt(flags.getOrDefault("partitions", "6"));
    int threads = Integer.parseInt(flags.getOrDefault("threads", "2"));
    boolean passthrough = !flags.containsKey("skip-passthrough");
    List<String> collectorArgs = new ArrayList<>();
    for (String option :
        List.of("commit-interval", "kafka-property", "hold-back", "settle", "boundary-margin")) {
      if (flags.containsKey(option)) {
        collectorArgs.add("--" + option + "=" + flags.get(option));
      }
    }
    new CollectorBenchmark.Run(
            n, bootstrap, registryUrl, partitions, threads, passthrough, collectorArgs)
        .run();
  }

  private static final class Run {
    final long n;
    final String bootstrap;
    final String registryUrl;
    final int partitions;
    final int threads;
    final boolean passthrough;
    final List<String> collectorArgs;
    final String id = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    final String flows = id + "-flows-raw";
    final String identities = id + "-ip-identity";
    final String output = id + "-flows-aggregated";
    final String dlq = id + "-flows-dlq";
    final String sink = id + "-passthrough";
    final Path stateRoot;

    Run(
        long n,
        String bootstrap,
        String registryUrl,
        int partitions,
        int threads,
        boolean pt,
        List<String> collectorArgs)
        throws IOException {
      this.collectorArgs = collectorArgs;
      this.n = n;
      this.bootstrap = bootstrap;
      this.registryUrl = registryUrl;
      this.partitions = partitions;
      this.threads = threads;
      this.passthrough = pt;
      this.stateRoot = Files.createTempDirectory("collector-bench");
    }

    void run() throws Exception {
      say(
          "%s: %,d flow records, %d partitions, %d stream threads, broker %s, %d cores",
          id, n, partitions, threads, bootstrap, Runtime.getRuntime().availableProcessors());
      try (Admin admin = admin()) {
        List<NewTopic> topics = new ArrayList<>();
        for (String t : List.of(flows, identities, output, sink)) {
          topics.add(new NewTopic(t, Optional.of(partitions), Optional.empty()));
        }
        topics.add(new NewTopic(dlq, Optional.of(1), Optional.empty()));
        admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        try {
          bench();
        } finally {
          List<String> mine =
              admin.listTopics().names().get().stream()
                  .filter(t -> t.startsWith(id))
                  .collect(Collectors.toList());
          admin.deleteTopics(mine).all().get(60, TimeUnit.SECONDS);
          deleteTree(stateRoot);
        }
      }
    }

    void bench() throws Exception {
      CollectorSettings defaults = CollectorSettings.defaults(partitions);
      FlowWorkload workload =
          new FlowWorkload(
              FlowWorkload.Params.defaults(),
              n,
              Instant.now().minus(Duration.ofMinutes(10)),
              defaults.window().toMillis());

      // 1. The input, through the registry serde, timestamped with each flow's end.
      SchemaRegistryClient registry = new SchemaRegistryClient(RegistrySerdeConfig.of(registryUrl));
      Map<String, Object> pc = new HashMap<>();
      pc.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      pc.put(ProducerConfig.ACKS_CONFIG, "all");
      pc.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      pc.put(ProducerConfig.LINGER_MS_CONFIG, 50);
      pc.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
      pc.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"); // as the sidecars do
      try (KafkaProducer<String, IpIdentityChange> p =
          new KafkaProducer<>(pc, new StringSerializer(), new AvroSerializer<>(registry, false))) {
        for (Map.Entry<String, IpIdentityChange> e : workload.identityEvents()) {
          p.send(
              new ProducerRecord<>(
                  identities,
                  null,
                  e.getValue().getEventTime().toEpochMilli(),
                  e.getKey(),
                  e.getValue()));
        }
      }
      long produceStart = System.nanoTime();
      FlowWorkload.Stats stats;
      try (KafkaProducer<String, FlowRecord> p =
          new KafkaProducer<>(pc, new StringSerializer(), new AvroSerializer<>(registry, false))) {
        stats =
            workload.generate(
                n,
                (key, r) ->
                    p.send(
                        new ProducerRecord<>(flows, null, r.getEndTime().toEpochMilli(), key, r)));
      }
      double produceSeconds = (System.nanoTime() - produceStart) / 1e9;
      say(
          "input: %,d records (%,d connections, %,d seen by both ends), %,d identity events;"
              + " produced in %.1f s (%,.0f records/s)",
          stats.records(),
          stats.connections(),
          stats.bothEnds(),
          stats.identityEvents(),
          produceSeconds,
          stats.records() / produceSeconds);

      // 2. The ceiling: consume and produce, nothing else, same guarantees.
      double ceiling = passthrough ? passthrough() : Double.NaN;

      // 3. The collector.
      CollectorResult result = collector();

      // 4. The figures.
      double ratio = (double) result.rows / stats.records();
      double vsFiveTuple = 1 - (double) result.rows / stats.fiveTupleRows();
      say("");
      say(
          "RESULTS (%,d flow records, %d partitions, %d threads)",
          stats.records(), partitions, threads);
      if (passthrough) {
        say("  passthrough (consume -> produce, exactly-once) %,10.0f records/s", ceiling);
      }
      say(
          "  collector                                     %,10.0f flows/s%s",
          result.flowsPerSecond,
          passthrough
              ? String.format(" (%.0f%% of the passthrough)", 100 * result.flowsPerSecond / ceiling)
              : "");
      say(
          "  collector CPU                                 %.2f cores of this JVM; machine %.0f%% busy",
          result.cores, result.machineBusy * 100);
      say("  output aggregates                             %,10d", result.rows);
      say("  output / input messages                       %10.3f", ratio);
      say(
          "  5-tuple aggregation of the same data          %,10d rows (%,d windows)",
          stats.fiveTupleRows(), stats.windows());
      say(
          "  4-tuple + port lists vs 5-tuple               %9.1f%% fewer messages",
          vsFiveTuple * 100);
      say(
          "  connections in output / generated             %,d / %,d",
          result.connections, stats.connections() - result.failedConnections);
      say("  attribution (remote end)                      %s", result.remoteStatuses);
      say("  attribution (local end)                       %s", result.localStatuses);
      say(
          "  holds %,d, released resolved %,d, expired %,d; dead letters %,d; duplicates %,d",
          result.holds, result.resolved, result.expired, result.deadLetters, result.duplicates);
      say(
          "  flows that reached an emitted window          %,d (they went out in an extra row)",
          result.afterClose);
    }

    double passthrough() throws Exception {
      StreamsBuilder b = new StreamsBuilder();
      AtomicLong count = new AtomicLong();
      AtomicLong firstAt = new AtomicLong();
      b.stream(flows, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
          .peek(
              (k, v) -> {
                if (count.getAndIncrement() == 0) {
                  firstAt.set(System.nanoTime());
                }
              })
          .to(sink, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
      Properties props = CollectorRuntime.streamsProperties(config(id + "-passthrough"));
      long done;
      try (KafkaStreams streams = new KafkaStreams(b.build(), props)) {
        streams.start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (count.get() < n && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        done = System.nanoTime();
        streams.close(Duration.ofSeconds(30));
        streams.cleanUp();
      }
      double rate = count.get() / ((done - firstAt.get()) / 1e9);
      say(
          "passthrough: %,d records in %.1f s: %,.0f records/s",
          count.get(), (done - firstAt.get()) / 1e9, rate);
      return rate;
    }

    record CollectorResult(
        double flowsPerSecond,
        double cores,
        double machineBusy,
        long rows,
        long connections,
        long failedConnections,
        Map<String, Long> remoteStatuses,
        Map<String, Long> localStatuses,
        long holds,
        long resolved,
        long expired,
        long deadLetters,
        long duplicates,
        long afterClose) {}

    CollectorResult collector() throws Exception {
      String appId = id + "-collector";
      CollectorConfig config = config(appId);
      CollectorMetrics metrics = new CollectorMetrics();
      SchemaRegistryClient registry = new SchemaRegistryClient(RegistrySerdeConfig.of(registryUrl));
      Topics topics = Topics.withRegistry(registry, flows, identities, output, dlq);
      CollectorSettings settings = config.settings(partitions);
      KafkaStreams streams =
          new KafkaStreams(
              CollectorTopology.build(topics, settings, metrics),
              CollectorRuntime.streamsProperties(config));
      long cpuBefore = 0;
      long[] machineBefore = null;
      long first = 0;
      long done = 0;
      try {
        streams.start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
        while (System.nanoTime() < deadline) {
          double in = value(metrics, "flowsight_collector_records_in", "input", "flows");
          if (first == 0 && in > 0) {
            first = System.nanoTime();
            cpuBefore = processCpuNanos();
            machineBefore = machineTicks();
          }
          double settled =
              value(metrics, "flowsight_collector_flows_aggregated", null, null)
                  + value(metrics, "flowsight_collector_held_flows", null, null)
                  + value(metrics, "flowsight_collector_dead_letters", null, null);
          if (in >= n && settled >= n) {
            done = System.nanoTime();
            break;
          }
          Thread.sleep(50);
        }
        if (done == 0) {
          throw new IllegalStateException("the collector did not process the input in 15 minutes");
        }
        double seconds = (done - first) / 1e9;
        double cores = (processCpuNanos() - cpuBefore) / 1e9 / seconds;
        long[] machineAfter = machineTicks();
        double busy =
            machineBefore == null || machineAfter == null
                ? Double.NaN
                : 1
                    - (double) (machineAfter[1] - machineBefore[1])
                        / Math.max(1, machineAfter[0] - machineBefore[0]);
        double rate = n / seconds;
        say("collector: %,d flows processed in %.1f s: %,.0f flows/s", n, seconds, rate);

        // The held flows go out when their hold-back ends; then the last windows close.
        say(
            "waiting for the held flows (hold-back %s) and the last windows...",
            settings.holdBack());
        long quietSince = System.nanoTime();
        double lastOut = -1;
        long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(6);
        while (System.nanoTime() < until) {
          double out = value(metrics, "flowsight_collector_aggregates_out", null, null);
          double held = value(metrics, "flowsight_collector_held_flows", null, null);
          if (out != lastOut || held > 0) {
            lastOut = out;
            quietSince = System.nanoTime();
          } else if (System.nanoTime() - quietSince > TimeUnit.SECONDS.toNanos(20)) {
            break;
          }
          Thread.sleep(500);
        }
        long[] totals = readOutput();
        return new CollectorResult(
            rate,
            cores,
            busy,
            totals[0],
            totals[1],
            totals[2],
            byLabel(metrics, "flowsight_collector_attributions", "end", "remote", "status"),
            byLabel(metrics, "flowsight_collector_attributions", "end", "local", "status"),
            (long) value(metrics, "flowsight_collector_holds", null, null),
            (long) value(metrics, "flowsight_collector_hold_releases", "outcome", "resolved"),
            (long) value(metrics, "flowsight_collector_hold_releases", "outcome", "expired"),
            (long) value(metrics, "flowsight_collector_dead_letters", null, null),
            (long) value(metrics, "flowsight_collector_duplicate_observations", null, null),
            (long) value(metrics, "flowsight_collector_records_after_close", null, null));
      } finally {
        streams.close(Duration.ofSeconds(30));
        streams.cleanUp();
      }
    }

    /** Output rows, their connections and failed connections (read_committed). */
    long[] readOutput() {
      Map<String, Object> cc = new HashMap<>();
      cc.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      cc.put(ConsumerConfig.GROUP_ID_CONFIG, id + "-reader");
      cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      cc.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
      long rows = 0;
      long connections = 0;
      long failed = 0;
      FlowAggregateJsonSerde json = new FlowAggregateJsonSerde();
      try (KafkaConsumer<byte[], byte[]> c =
          new KafkaConsumer<>(cc, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        c.subscribe(List.of(output));
        int emptyPolls = 0;
        while (emptyPolls < 5) {
          var records = c.poll(Duration.ofSeconds(1));
          if (records.isEmpty()) {
            emptyPolls++;
          } else {
            emptyPolls = 0;
          }
          for (ConsumerRecord<byte[], byte[]> r : records) {
            FlowAggregate a = json.deserialize(output, r.value());
            rows++;
            connections += a.connections();
            failed += a.failedConnections();
          }
        }
      }
      return new long[] {rows, connections, failed};
    }

    CollectorConfig config(String appId) {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "--bootstrap-servers=" + bootstrap,
                  "--registry-url=" + registryUrl,
                  "--flows-topic=" + flows,
                  "--identity-topic=" + identities,
                  "--output-topic=" + output,
                  "--dlq-topic=" + dlq,
                  "--application-id=" + appId,
                  "--threads=" + threads,
                  "--state-dir=" + stateRoot.resolve(appId),
                  "--metrics-address=127.0.0.1:0"));
      args.addAll(collectorArgs);
      return CollectorOptions.parse(args.toArray(String[]::new), Map.of()).toConfig();
    }

    Admin admin() {
      Properties p = new Properties();
      p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      return Admin.create(p);
    }
  }

  // ---- measurements ----------------------------------------------------------------------------

  static double value(CollectorMetrics metrics, String name, String label, String labelValue) {
    double sum = 0;
    for (MetricSnapshot s : metrics.registry().scrape()) {
      if (!s.getMetadata().getName().equals(name)) {
        continue;
      }
      for (DataPointSnapshot p : s.getDataPoints()) {
        if (label != null && !labelValue.equals(p.getLabels().get(label))) {
          continue;
        }
        if (p instanceof CounterSnapshot.CounterDataPointSnapshot c) {
          sum += c.getValue();
        } else if (p instanceof GaugeSnapshot.GaugeDataPointSnapshot g) {
          sum += g.getValue();
        }
      }
    }
    return sum;
  }

  static Map<String, Long> byLabel(
      CollectorMetrics metrics, String name, String label, String labelValue, String by) {
    Map<String, Long> out = new TreeMap<>();
    for (MetricSnapshot s : metrics.registry().scrape()) {
      if (!s.getMetadata().getName().equals(name)) {
        continue;
      }
      for (DataPointSnapshot p : s.getDataPoints()) {
        if (!labelValue.equals(p.getLabels().get(label))) {
          continue;
        }
        long v = (long) ((CounterSnapshot.CounterDataPointSnapshot) p).getValue();
        if (v > 0) {
          out.put(p.getLabels().get(by), v);
        }
      }
    }
    return out;
  }

  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** Total and idle jiffies of the machine (/proc/stat), or null where there is none. */
  static long[] machineTicks() {
    try {
      String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = cpu.trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total, idle};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static void say(String format, Object... args) {
    System.out.println(String.format(format, args));
  }
}
