package io.flowsight.collector.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.collector.CollectorHealth;
import io.flowsight.collector.CollectorRuntime;
import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.CollectorTopology;
import io.flowsight.collector.DeadLetterProductionExceptionHandler;
import io.flowsight.collector.Topics;
import io.flowsight.collector.bench.AttributionScore.ArrivedRow;
import io.flowsight.collector.bench.AttributionScore.Result;
import io.flowsight.collector.bench.AttributionScore.Tally;
import io.flowsight.collector.bench.ChurnWorkload.Emission;
import io.flowsight.collector.bench.ChurnWorkload.Kind;
import io.flowsight.collector.bench.ChurnWorkload.Tenure;
import io.flowsight.collector.config.CollectorConfig;
import io.flowsight.collector.config.CollectorOptions;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.output.FlowAggregateJsonSerde;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.FlowRecordHeaders;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import io.flowsight.schemas.serde.AvroLimits;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.settings.ConfigException;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
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
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine;

/**
 * How often the collector attributes a connection's ends to the wrong workload, or leaves them
 * unattributed, under heavy IP churn with late identity events; against an exact truth.
 *
 * <p>A {@link ChurnWorkload} is produced in real time to fresh topics through the registry serde,
 * as sidecars and identity sources do (keyed by IP text, Java's default partitioner, the flows'
 * Kafka timestamp their endTime and the produce-time header on the host's skewed clock). One
 * in-process collector per <b>variant</b> (a list of collector options) reads the same input topics
 * with its own application id, output and dead-letter topics: one run compares the variants on the
 * same data. After the workload, positive end markers say when every variant's output is complete;
 * {@link AttributionScore} then scores each end of every connection-window, and the benchmark
 * prints, per variant and case: correct, wrong, unattributed though knowable, unattributable, the
 * reasons, the freshness, the counting check, the dead letters, and a diagnostic line per wrong
 * end.
 *
 * <pre>
 * java -cp ... io.flowsight.collector.bench.AttributionBenchmark [--seconds 300] [--rate 100]
 *     [--seed 1] [--settle 0s,10s,20s,35s] [--variant NAME:ARGS]... [--must-be-exact defaults]
 *     [--bootstrap-servers 127.0.0.1:9092] [--registry-url URL] [--partitions 6] [--threads 1]
 *     [--keep-topics]
 * </pre>
 *
 * Exit code 0 when every variant that must be exact has no wrong end, counted every connection once
 * with exact bytes, and dead-lettered every poison record with its reason; 1 when not; 2 for bad
 * options; 3 when the run itself failed (a collector stopped, an end marker never came).
 */
public final class AttributionBenchmark {

  static final String DEFAULTS = "defaults";

  /** One collector configuration under test. */
  record Variant(String name, List<String> args) {}

  static final class Options {
    int seconds = 300;
    double rate = 100;
    long seed = 1;
    int partitions = 6;
    int threads = 1;
    String bootstrap = "127.0.0.1:9092";
    String registryUrl = "http://127.0.0.1:8081/apis/ccompat/v7";
    final List<Variant> variants = new ArrayList<>();
    Set<String> mustBeExact = Set.of(DEFAULTS);
    boolean keepTopics;
    boolean help;

    static Options parse(String[] args) {
      Options o = new Options();
      o.variants.add(new Variant(DEFAULTS, List.of()));
      List<Variant> extra = new ArrayList<>();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("-h") || a.equals("--help")) {
          o.help = true;
          continue;
        }
        if (!a.startsWith("--")) {
          throw new IllegalArgumentException("unexpected argument '" + a + "' (see --help)");
        }
        String name = a.substring(2);
        String value = null;
        int eq = name.indexOf('=');
        if (eq >= 0) {
          value = name.substring(eq + 1);
          name = name.substring(0, eq);
        }
        if (name.equals("keep-topics")) {
          o.keepTopics = true;
          continue;
        }
        if (value == null) {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException("--" + name + " needs a value (see --help)");
          }
          value = args[++i];
        }
        switch (name) {
          case "seconds" -> o.seconds = positiveInt(name, value);
          case "rate" -> o.rate = positiveDouble(name, value);
          case "seed" -> o.seed = parseLong(name, value);
          case "partitions" -> o.partitions = positiveInt(name, value);
          case "threads" -> o.threads = positiveInt(name, value);
          case "bootstrap-servers" -> o.bootstrap = value;
          case "registry-url" -> o.registryUrl = value;
          case "must-be-exact" -> o.mustBeExact = new LinkedHashSet<>(List.of(value.split(",")));
          case "settle" -> {
            for (String s : value.split(",")) {
              String d = s.trim();
              if (d.isEmpty()) {
                continue;
              }
              extra.add(new Variant("settle-" + d, List.of("--settle=" + d)));
            }
          }
          case "variant" -> extra.add(variant(value));
          default ->
              throw new IllegalArgumentException("unknown option --" + name + " (see --help)");
        }
      }
      Set<String> names = new LinkedHashSet<>();
      names.add(DEFAULTS);
      for (Variant v : extra) {
        if (!names.add(v.name())) {
          throw new IllegalArgumentException(
              "two variants are named '" + v.name() + "': give each a name of its own");
        }
      }
      o.variants.addAll(extra);
      for (String exact : o.mustBeExact) {
        if (!exact.isBlank() && !names.contains(exact)) {
          throw new IllegalArgumentException(
              "--must-be-exact names '" + exact + "', which is not a variant (" + names + ")");
        }
      }
      return o;
    }

    /** {@code NAME:ARGS}, e.g. {@code hold-back-30s:--hold-back=30s --grace=30s}. */
    static Variant variant(String spec) {
      int colon = spec.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException(
            "--variant '"
                + spec
                + "': use NAME:ARGS, e.g. --variant 'hold-back-30s:--hold-back=30s'");
      }
      String name = spec.substring(0, colon).trim();
      if (!name.matches("[A-Za-z0-9._-]+")) {
        throw new IllegalArgumentException(
            "--variant name '" + name + "': use letters, digits, '.', '_' and '-' (a topic name)");
      }
      String rest = spec.substring(colon + 1).trim();
      List<String> args = rest.isEmpty() ? List.of() : List.of(rest.split("\\s+"));
      return new Variant(name, args);
    }

    private static int positiveInt(String name, String v) {
      try {
        int n = Integer.parseInt(v.replace("_", ""));
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException e) {
        // below
      }
      throw new IllegalArgumentException("--" + name + " '" + v + "': use a positive integer");
    }

    private static double positiveDouble(String name, String v) {
      try {
        double d = Double.parseDouble(v);
        if (d > 0) {
          return d;
        }
      } catch (NumberFormatException e) {
        // below
      }
      throw new IllegalArgumentException("--" + name + " '" + v + "': use a positive number");
    }

    private static long parseLong(String name, String v) {
      try {
        return Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--" + name + " '" + v + "': use an integer");
      }
    }
  }

  static final String USAGE =
      """
      Usage: ./flowsight bench attribution [options]

      IP churn with late identity events through the real broker and one in-process collector per
      variant; every end of every connection-window is scored against the exact truth.

        --seconds N        how long connections are made (default 300); the run lasts about
                           N + 5 minutes (late records) + the hold-back + a window
        --rate R           connections per second (default 100)
        --seed S           the workload's seed (default 1); the same seed, the same workload
        --settle LIST      adds a variant per value, with the collector option --settle=VALUE
                           (e.g. 0s,10s,20s,35s)
        --variant NAME:ARGS  adds a variant: a name and collector options, e.g.
                           --variant 'hold-back-30s:--hold-back=30s'; repeatable
        --must-be-exact LIST  variants whose wrong ends fail the run (default: defaults)
        --bootstrap-servers B, --registry-url U   Kafka and the schema registry
        --partitions N     partitions of the input topics (default 6)
        --threads N        stream threads per collector (default 1)
        --keep-topics      leave the run's topics for inspection

      The variant "defaults" (the collector's defaults) is always run.
      Exit code 0: every must-be-exact variant has no wrong end, counted every connection once
      with exact bytes and dead-lettered every poison record with its reason; 1 otherwise;
      2 bad options; 3 the run failed.
      """;

  public static void main(String[] args) throws Exception {
    // As the collector's main does, before any Avro class reads them.
    AvroLimits.install();
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench attribution: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (options.help) {
      System.out.print(USAGE);
      return;
    }
    System.exit(new AttributionBenchmark(options).run());
  }

  // ---- the run -------------------------------------------------------------------------------

  /** The marker sidecar's IP: its rows are the end markers, not scored. */
  static final String MARKER_CLIENT = "10.255.0.1";

  /** A marker server whose owner is published at the start: its flows are never held. */
  static final String MARKER_SINK = "10.255.1.1";

  private final Options o;
  private final String id = "attr-" + UUID.randomUUID().toString().substring(0, 8);
  private final String flowsTopic = id + "-flows-raw";
  private final String identityTopic = id + "-ip-identity";
  private final List<Collector> collectors = new ArrayList<>();
  private Path stateRoot;
  private OutputReader reader;
  private final Identity markerIdentity =
      Identity.newBuilder()
          .setApp("flowsight-bench-marker")
          .setWorkloadKind("VirtualMachine")
          .setWorkloadName("flowsight-bench-marker")
          .setInstanceId("marker")
          .build();
  private final String markerRun = UUID.randomUUID().toString();
  private long markerSequence;

  AttributionBenchmark(Options options) {
    this.o = options;
  }

  /** One variant's collector, running in this JVM. */
  private static final class Collector {
    final Variant variant;
    final CollectorConfig config;
    final CollectorSettings settings;
    final CollectorMetrics metrics = new CollectorMetrics();
    final boolean exact;
    KafkaStreams streams;
    final AtomicReference<KafkaStreams.State> state = new AtomicReference<>();
    Map<String, Double> finalMetrics = Map.of();

    Collector(Variant variant, CollectorConfig config, int partitions, boolean exact) {
      this.variant = variant;
      this.config = config;
      this.settings = config.settings(partitions);
      this.exact = exact;
    }
  }

  int run() throws Exception {
    stateRoot = Files.createTempDirectory("attribution-bench");
    for (Variant v : o.variants) {
      List<String> args = new ArrayList<>(baseArgs(v));
      args.addAll(v.args());
      try {
        CollectorConfig config =
            CollectorOptions.parse(args.toArray(String[]::new), Map.of()).toConfig();
        collectors.add(new Collector(v, config, o.partitions, o.mustBeExact.contains(v.name())));
      } catch (CommandLine.ParameterException | ConfigException e) {
        System.err.printf(
            "bench attribution: variant %s (%s): %s (the collector's options: ./flowsight collector --help)%n",
            v.name(), String.join(" ", v.args()), e.getMessage());
        return 2;
      }
    }
    long windowMs = collectors.get(0).settings.window().toMillis();
    say(
        "%s: %d s of connections at %.0f/s, seed %d; %d variant(s) (%s); broker %s, %d partitions,"
            + " %d stream thread(s) per collector",
        id,
        o.seconds,
        o.rate,
        o.seed,
        collectors.size(),
        collectors.stream().map(c -> c.variant.name()).collect(Collectors.joining(", ")),
        o.bootstrap,
        o.partitions,
        o.threads);
    try (Admin admin = admin()) {
      createTopics(admin);
      int code;
      try {
        code = runAndScore(windowMs);
      } catch (Exception e) {
        System.err.println("bench attribution: the run failed: " + e);
        e.printStackTrace();
        code = 3;
      } finally {
        stopCollectors();
        if (reader != null) {
          reader.close();
        }
        if (o.keepTopics) {
          say("topics kept: %s-*", id);
        } else {
          deleteTopics(admin);
        }
        CollectorBenchmark.deleteTree(stateRoot);
      }
      return code;
    }
  }

  private int runAndScore(long windowMs) throws Exception {
    startCollectors();
    List<String> outputs = new ArrayList<>();
    for (Collector c : collectors) {
      outputs.add(c.config.outputTopic());
      outputs.add(c.config.deadLetterTopic());
    }
    reader = new OutputReader(o.bootstrap, id + "-reader", outputs);

    // True time 0 on a window boundary: the workload (and where its reports fall) is then the
    // same for a seed whatever the hour.
    long start = (Math.floorDiv(System.currentTimeMillis() + 5_000, windowMs) + 1) * windowMs;
    ChurnWorkload world =
        new ChurnWorkload(new ChurnWorkload.Params(o.seconds, o.rate, o.seed, windowMs), start);
    describe(world);

    SchemaRegistryClient registry = new SchemaRegistryClient(RegistrySerdeConfig.of(o.registryUrl));
    try (Sender sender = new Sender(registry)) {
      sender.send(markerSinkAssign(start), false);
      long lastProgress = System.currentTimeMillis();
      long flows = 0;
      long changes = 0;
      for (Emission e : world.emissions) {
        long wait = e.scheduledAt - System.currentTimeMillis();
        if (wait > 0) {
          Thread.sleep(wait);
        }
        sender.send(e, true);
        if (e.target == Emission.Target.FLOWS) {
          flows++;
        } else {
          changes++;
        }
        long now = System.currentTimeMillis();
        if (now - lastProgress >= 30_000) {
          lastProgress = now;
          say(
              "  %s: %,d flow records and %,d identity changes produced (of %,d); %s",
              world.relative(now), flows, changes, world.emissions.size(), progress());
          checkCollectors();
        }
      }
      sender.flush();
      say(
          "workload produced: %,d flow records, %,d identity changes; last at %s",
          flows, changes, world.relative(System.currentTimeMillis()));

      // End marker 1: a flow per attribution task whose server is never seen. It is held for the
      // whole hold-back, later than every flow held before it in its task; its row goes out once
      // it is released and its window has closed.
      Map<String, Integer> heldMarkers = new LinkedHashMap<>();
      for (int p = 0; p < o.partitions; p++) {
        String server = ipInPartition("192.0.2.", p, Set.of(77, 250, 251));
        heldMarkers.put(server, 9);
        sender.send(markerFlow(server, 9, 50_000 + p, System.currentTimeMillis() - 200), false);
      }
      sender.flush();
      long maxHold =
          collectors.stream().mapToLong(c -> c.settings.holdBack().toMillis()).max().orElse(0);
      long maxGrace =
          collectors.stream().mapToLong(c -> c.settings.grace().toMillis()).max().orElse(0);
      say(
          "end marker 1 (held, one per attribution task) produced; waiting for its rows"
              + " (hold-back up to %s, then the window)",
          Duration.ofMillis(maxHold));
      if (!awaitMarkers(
          r -> heldMarkers.containsKey(r.serverIp()),
          o.partitions,
          maxHold + 2 * windowMs + maxGrace + 180_000)) {
        return 3;
      }
      // End marker 2: a flow per aggregation task into the first window of the run, long closed:
      // it goes out in an extra row at the task's next emission, after everything its task read
      // before it (the flows released with the held markers included).
      Map<Integer, Integer> sinkPorts = new TreeMap<>();
      for (int q = 0, port = 20_000; q < o.partitions; port++) {
        String key = "TCP|" + MARKER_CLIENT + "|" + MARKER_SINK + "|" + port;
        if (partitionOf(key, o.partitions) == q) {
          sinkPorts.put(port, q);
          q++;
        }
      }
      for (int port : sinkPorts.keySet()) {
        sender.send(
            markerFlow(MARKER_SINK, port, 51_000 + sinkPorts.get(port), start + 1_000), false);
      }
      sender.flush();
      say("end marker 2 (one per aggregation task, into a closed window) produced");
      if (!awaitMarkers(
          r -> r.serverIp().equals(MARKER_SINK) && sinkPorts.containsKey(r.servicePort()),
          o.partitions,
          180_000)) {
        return 3;
      }
      reader.drain(Duration.ofMinutes(2));
      say("every variant's output is complete at %s", world.relative(System.currentTimeMillis()));
    }
    for (Collector c : collectors) {
      c.finalMetrics = snapshot(c.metrics);
    }
    stopCollectors();
    return report(world);
  }

  // ---- collectors ----------------------------------------------------------------------------

  private List<String> baseArgs(Variant v) {
    String appId = id + "-" + v.name();
    return List.of(
        "--bootstrap-servers=" + o.bootstrap,
        "--registry-url=" + o.registryUrl,
        "--flows-topic=" + flowsTopic,
        "--identity-topic=" + identityTopic,
        "--output-topic=" + appId + "-out",
        "--dlq-topic=" + appId + "-dlq",
        "--application-id=" + appId,
        "--threads=" + o.threads,
        "--partitions=" + o.partitions,
        "--state-dir=" + stateRoot.resolve(appId),
        "--metrics-address=127.0.0.1:0");
  }

  private void createTopics(Admin admin) throws Exception {
    List<NewTopic> topics = new ArrayList<>();
    topics.add(new NewTopic(flowsTopic, Optional.of(o.partitions), Optional.empty()));
    topics.add(new NewTopic(identityTopic, Optional.of(o.partitions), Optional.empty()));
    for (Collector c : collectors) {
      topics.add(new NewTopic(c.config.outputTopic(), Optional.of(o.partitions), Optional.empty()));
      topics.add(new NewTopic(c.config.deadLetterTopic(), Optional.of(1), Optional.empty()));
    }
    admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
  }

  private void deleteTopics(Admin admin) {
    try {
      List<String> mine =
          admin.listTopics().names().get(60, TimeUnit.SECONDS).stream()
              .filter(t -> t.startsWith(id))
              .collect(Collectors.toList());
      admin.deleteTopics(mine).all().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println("bench attribution: could not delete the topics " + id + "-*: " + e);
    }
  }

  private void startCollectors() throws InterruptedException {
    for (Collector c : collectors) {
      SchemaRegistryClient registry =
          new SchemaRegistryClient(RegistrySerdeConfig.of(c.config.registryUrl()));
      Topics topics =
          Topics.withRegistry(
              registry,
              c.config.flowsTopic(),
              c.config.identityTopic(),
              c.config.outputTopic(),
              c.config.deadLetterTopic());
      Properties props = CollectorRuntime.streamsProperties(c.config);
      props.put(DeadLetterProductionExceptionHandler.METRICS, c.metrics);
      c.streams = new KafkaStreams(CollectorTopology.build(topics, c.settings, c.metrics), props);
      CollectorRuntime.handleThreadFailures(c.streams, new CollectorHealth(), c.metrics);
      CollectorRuntime.bridgeMetrics(c.streams, c.metrics);
      c.streams.setStateListener((now, before) -> c.state.set(now));
      c.streams.start();
    }
    long deadline = System.currentTimeMillis() + 180_000;
    for (Collector c : collectors) {
      while (c.streams.state() != KafkaStreams.State.RUNNING) {
        if (System.currentTimeMillis() > deadline || c.streams.state().hasCompletedShutdown()) {
          throw new IllegalStateException(
              "the collector of variant "
                  + c.variant.name()
                  + " is "
                  + c.streams.state()
                  + ", not RUNNING, after 3 minutes");
        }
        Thread.sleep(200);
      }
    }
    say("%d collectors RUNNING", collectors.size());
  }

  private void checkCollectors() {
    for (Collector c : collectors) {
      KafkaStreams.State s = c.streams.state();
      if (s == KafkaStreams.State.ERROR || s.hasCompletedShutdown()) {
        throw new IllegalStateException(
            "the collector of variant " + c.variant.name() + " stopped: " + s);
      }
    }
  }

  private void stopCollectors() {
    for (Collector c : collectors) {
      if (c.streams != null) {
        c.streams.close(Duration.ofSeconds(30));
        c.streams.cleanUp();
        c.streams = null;
      }
    }
  }

  private String progress() {
    StringBuilder s = new StringBuilder();
    for (Collector c : collectors) {
      s.append(s.length() == 0 ? "" : "; ")
          .append(c.variant.name())
          .append(
              String.format(
                  ": %,d read", (long) total(c.metrics, "flowsight_collector_records_in")))
          .append(
              String.format(
                  ", %,d held", (long) total(c.metrics, "flowsight_collector_held_flows")))
          .append(String.format(", %,d rows", reader.rows(c.config.outputTopic()).size()));
    }
    return s.toString();
  }

  // ---- markers -------------------------------------------------------------------------------

  private boolean awaitMarkers(Predicate<FlowAggregate> marker, int perVariant, long timeoutMs)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      checkCollectors();
      List<String> waiting = new ArrayList<>();
      for (Collector c : collectors) {
        long seen =
            reader.rows(c.config.outputTopic()).stream()
                .map(ArrivedRow::row)
                .filter(r -> r.clientIp().equals(MARKER_CLIENT) && marker.test(r))
                .map(FlowAggregate::key)
                .distinct()
                .count();
        if (seen < perVariant) {
          waiting.add(c.variant.name() + " " + seen + "/" + perVariant);
        }
      }
      if (waiting.isEmpty()) {
        return true;
      }
      if (System.currentTimeMillis() > deadline) {
        System.err.println(
            "bench attribution: the end markers did not all arrive in "
                + Duration.ofMillis(timeoutMs)
                + ": "
                + waiting);
        return false;
      }
      Thread.sleep(500);
    }
  }

  private Emission markerFlow(String server, int servicePort, int clientPort, long startMs) {
    long end = startMs + 100;
    FlowRecord r =
        FlowRecord.newBuilder()
            .setObserverId("flowsight-bench-marker")
            .setSidecarRunId(markerRun)
            .setSequence(markerSequence++)
            .setKind(FlowKind.CLOSED)
            .setProtocol(Protocol.TCP)
            .setAddressFamily(AddressFamily.IPV4)
            .setLocalIp(ByteBuffer.wrap(IpAddresses.parse(MARKER_CLIENT)))
            .setLocalPort(clientPort)
            .setRemoteIp(ByteBuffer.wrap(IpAddresses.parse(server)))
            .setRemotePort(servicePort)
            .setSide(Side.CLIENT)
            .setServicePort(servicePort)
            .setConnectionStartTime(Instant.ofEpochMilli(startMs))
            .setStartTime(Instant.ofEpochMilli(startMs))
            .setEndTime(Instant.ofEpochMilli(end))
            .setBytesSent(1)
            .setBytesReceived(1)
            .setSegmentsSent(3)
            .setSegmentsReceived(3)
            .setRetransmits(0)
            .setSrttMicros(100)
            .setRttVarMicros(25)
            .setCongestionWindow(10)
            .setLocalIdentity(markerIdentity)
            .build();
    return Emission.flow(MARKER_CLIENT, r, new ChurnWorkload.Host("marker", markerRun, 0, null), 0);
  }

  private Emission markerSinkAssign(long start) {
    return Emission.change(
        IpIdentityChange.newBuilder()
            .setAddressFamily(AddressFamily.IPV4)
            .setIp(ByteBuffer.wrap(IpAddresses.parse(MARKER_SINK)))
            .setAction(IdentityAction.ASSIGN)
            .setIdentity(
                Identity.newBuilder()
                    .setApp("flowsight-bench-marker-sink")
                    .setWorkloadName("flowsight-bench-marker-sink")
                    .build())
            .setEventTime(Instant.ofEpochMilli(start - 3_600_000))
            .setSource("static")
            .build(),
        0);
  }

  /** An IP {@code prefix + k} whose text the default partitioner puts in partition {@code p}. */
  private String ipInPartition(String prefix, int p, Set<Integer> taken) {
    for (int k = 1; k < 255; k++) {
      if (!taken.contains(k) && partitionOf(prefix + k, o.partitions) == p) {
        return prefix + k;
      }
    }
    throw new IllegalStateException("no address of " + prefix + "0/24 falls in partition " + p);
  }

  /** The partition Kafka's default partitioner (and Kafka Streams') gives a String key. */
  static int partitionOf(String key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  // ---- producing -----------------------------------------------------------------------------

  /** Produces emissions as their sidecar or source would, and notes when and where each went. */
  private final class Sender implements AutoCloseable {
    final KafkaProducer<String, byte[]> producer;
    final AvroSerializer<FlowRecord> flows;
    final AvroSerializer<IpIdentityChange> changes;
    final AtomicReference<Exception> failure = new AtomicReference<>();

    Sender(SchemaRegistryClient registry) {
      Map<String, Object> pc = new HashMap<>();
      pc.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap);
      pc.put(ProducerConfig.ACKS_CONFIG, "all");
      pc.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      pc.put(ProducerConfig.LINGER_MS_CONFIG, 50); // as the sidecars
      pc.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
      producer = new KafkaProducer<>(pc, new StringSerializer(), new ByteArraySerializer());
      flows = new AvroSerializer<>(registry, false);
      changes = new AvroSerializer<>(registry, false);
    }

    void send(Emission e, boolean noteOffsets) {
      Exception failed = failure.get();
      if (failed != null) {
        throw new IllegalStateException("a send failed: " + failed, failed);
      }
      String topic = e.target == Emission.Target.FLOWS ? flowsTopic : identityTopic;
      byte[] value;
      if (e.tombstone) {
        value = null;
      } else if (e.raw != null) {
        value = e.raw;
      } else if (e.flow != null) {
        value = flows.serialize(topic, e.flow);
      } else {
        value = changes.serialize(topic, e.change);
      }
      long now = System.currentTimeMillis();
      ProducerRecord<String, byte[]> record =
          new ProducerRecord<>(topic, null, e.timestamp, e.key, value);
      if (e.host != null) {
        // The sidecar's clock: the true send time plus its error.
        record
            .headers()
            .add(
                FlowRecordHeaders.PRODUCED_AT, FlowRecordHeaders.producedAt(now + e.host.skewMs()));
      }
      e.sentAt = now;
      producer.send(
          record,
          (metadata, exception) -> {
            if (exception != null) {
              failure.compareAndSet(null, exception);
            } else if (noteOffsets) {
              e.partition = metadata.partition();
              e.offset = metadata.offset();
            }
          });
    }

    void flush() {
      producer.flush();
      Exception failed = failure.get();
      if (failed != null) {
        throw new IllegalStateException("a send failed: " + failed, failed);
      }
    }

    @Override
    public void close() {
      producer.close(Duration.ofSeconds(30));
    }
  }

  // ---- reading the outputs -------------------------------------------------------------------

  /** Reads every variant's output and dead-letter topics (read_committed) while the run goes on. */
  static final class OutputReader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<String, List<ArrivedRow>> rows = new HashMap<>();
    private final Map<String, List<JsonNode>> letters = new HashMap<>();
    private final FlowAggregateJsonSerde json = new FlowAggregateJsonSerde();
    private final ObjectMapper mapper = new ObjectMapper();
    private final Thread thread;
    private volatile boolean closed;
    private volatile CompletableFuture<Void> drainRequest;
    private volatile Exception failure;

    OutputReader(String bootstrap, String group, List<String> topics) {
      Map<String, Object> cc = new HashMap<>();
      cc.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      cc.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      cc.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      consumer = new KafkaConsumer<>(cc, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      List<TopicPartition> partitions = new ArrayList<>();
      for (String t : topics) {
        consumer.partitionsFor(t, Duration.ofSeconds(30)).stream()
            .map(p -> new TopicPartition(t, p.partition()))
            .forEach(partitions::add);
        rows.put(t, new ArrayList<>());
        letters.put(t, new ArrayList<>());
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      thread = new Thread(this::loop, "attribution-bench-reader");
      thread.setDaemon(true);
      thread.start();
    }

    private void loop() {
      Map<TopicPartition, Long> targets = null;
      try {
        while (!closed) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            if (r.topic().endsWith("-dlq")) {
              JsonNode letter = mapper.readTree(r.value());
              synchronized (this) {
                letters.get(r.topic()).add(letter);
              }
            } else {
              FlowAggregate a = json.deserialize(r.topic(), r.value());
              synchronized (this) {
                rows.get(r.topic()).add(new ArrivedRow(a, r.timestamp()));
              }
            }
          }
          CompletableFuture<Void> drain = drainRequest;
          if (drain != null && !drain.isDone()) {
            if (targets == null) {
              // Under read_committed: the last stable offsets, so everything committed by now.
              targets = consumer.endOffsets(consumer.assignment());
            }
            boolean done = true;
            for (Map.Entry<TopicPartition, Long> t : targets.entrySet()) {
              if (consumer.position(t.getKey()) < t.getValue()) {
                done = false;
              }
            }
            if (done) {
              targets = null;
              drain.complete(null);
            }
          }
        }
      } catch (Exception e) {
        failure = e;
        CompletableFuture<Void> drain = drainRequest;
        if (drain != null) {
          drain.completeExceptionally(e);
        }
      } finally {
        consumer.close();
      }
    }

    /** Returns once everything committed to the topics by now has been read. */
    void drain(Duration timeout) throws Exception {
      if (failure != null) {
        throw failure;
      }
      CompletableFuture<Void> f = new CompletableFuture<>();
      drainRequest = f;
      f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    synchronized List<ArrivedRow> rows(String topic) {
      return new ArrayList<>(rows.getOrDefault(topic, List.of()));
    }

    synchronized List<JsonNode> letters(String topic) {
      return new ArrayList<>(letters.getOrDefault(topic, List.of()));
    }

    @Override
    public void close() {
      closed = true;
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- the report ----------------------------------------------------------------------------

  private void describe(ChurnWorkload w) {
    Map<Kind, Integer> tenuresByKind = new EnumMap<>(Kind.class);
    int churning = 0;
    for (List<Tenure> list : w.tenures.values()) {
      if (list.size() > 1) {
        churning++;
      }
      for (Tenure t : list) {
        tenuresByKind.merge(t.app.kind(), 1, Integer::sum);
      }
    }
    long changes =
        w.emissions.stream().filter(e -> e.target == Emission.Target.IDENTITIES).count()
            - w.poison.stream().filter(e -> e.target == Emission.Target.IDENTITIES).count();
    long records =
        w.emissions.stream().filter(e -> e.flow != null && e.expectedDeadLetter == null).count();
    Map<String, Long> cases = new LinkedHashMap<>();
    for (ChurnWorkload.Connection c : w.connections) {
      cases.merge(c.sides.label, 1L, Long::sum);
      if (c.longLived) {
        cases.merge("long-lived", 1L, Long::sum);
      }
      if (c.late) {
        cases.merge("late", 1L, Long::sum);
      }
    }
    long lastSend = w.emissions.get(w.emissions.size() - 1).scheduledAt;
    say(
        "workload: start %s (a window boundary), %d IPs (%d IPv6), %d changing owner;"
            + " tenures %s; %,d identity changes",
        Instant.ofEpochMilli(w.start),
        w.tenures.size(),
        w.tenures.keySet().stream().filter(ip -> ip.contains(":")).count(),
        churning,
        tenuresByKind,
        changes);
    say(
        "  %,d connections %s, %d not made (no owners that fit); %,d flow records;"
            + " %d poison records; production ends at %s",
        w.connections.size(), cases, w.skipped, records, w.poison.size(), w.relative(lastSend));
  }

  private int report(ChurnWorkload world) {
    boolean failed = false;
    List<String> summary = new ArrayList<>();
    for (Collector c : collectors) {
      List<ArrivedRow> rows =
          reader.rows(c.config.outputTopic()).stream()
              .filter(r -> !r.row().clientIp().equals(MARKER_CLIENT))
              .collect(Collectors.toList());
      Result r =
          AttributionScore.of(
                  world, c.settings.window().toMillis(), c.settings.holdBack().toMillis())
              .score(rows);
      DeadLetterCheck dlq = checkDeadLetters(world, reader.letters(c.config.deadLetterTopic()));
      say("");
      say(
          "== variant %s: %s; hold-back %s, window %s, grace %s%s",
          c.variant.name(),
          c.variant.args().isEmpty()
              ? "the collector's defaults"
              : String.join(" ", c.variant.args()),
          c.settings.holdBack(),
          c.settings.window(),
          c.settings.grace(),
          c.exact ? "; must be exact" : "");
      say(
          "  %-42s %9s %9s %9s %7s %9s %9s %7s  %s",
          "case",
          "conn-win",
          "ends",
          "correct",
          "WRONG",
          "knowable",
          "unattrib",
          "missing",
          "unattributed ends: status");
      for (Map.Entry<String, Tally> e : r.cases.entrySet()) {
        Tally t = e.getValue();
        if (t.connectionWindows == 0 && t.missing == 0) {
          continue;
        }
        say(
            "  %-42s %,9d %,9d %,9d %,7d %,9d %,9d %,7d  %s",
            e.getKey(),
            t.connectionWindows,
            t.ends,
            t.correct,
            t.wrong,
            t.knowable,
            t.unattributable,
            t.missing,
            t.reasonsText());
      }
      Tally all = r.all();
      say(
          "  connection-windows with a wrong end: %,d of %,d (%,d connections)",
          all.wrongConnectionWindows, all.connectionWindows, r.connections);
      r.wrongKinds.forEach((kind, n) -> say("    wrong ends naming %s: %,d", kind, n));
      say(
          "  counting: %s",
          r.countsExact()
              ? String.format(
                  "exact: every connection in its windows once, connections and bytes of every"
                      + " (window, 4-tuple) equal to the truth (%,d rows)",
                  rows.size())
              : String.format(
                  "NOT exact: %,d connection-windows missing, %,d connections in a window they"
                      + " did not report in, %,d (window, 4-tuple)s with other counts or bytes"
                      + " (%,d connections too many, %,d too few), %,d rows of unknown 4-tuples",
                  r.missing,
                  r.duplicated,
                  r.countMismatches,
                  r.extraConnections,
                  r.missingConnections,
                  r.unexpectedRows));
      r.countDiagnostics.forEach(d -> say("    %s", d));
      if (r.portOverflow > 0) {
        say("  %,d connections not in a row's port list (overflow): not locatable", r.portOverflow);
      }
      say(
          "  freshness (close -> its row on the output topic, %,d connections without late"
              + " records): p50 %s, p95 %s",
          r.freshnessMs.size(),
          seconds(r.freshnessPercentile(50)),
          seconds(r.freshnessPercentile(95)));
      say("  dead letters: %s", dlq.summary());
      dlq.problems.forEach(p -> say("    %s", p));
      say("  collector: %s", metricsLine(c.finalMetrics));
      if (!r.wrongDiagnostics.isEmpty()) {
        say(
            "  wrong ends (%s of %,d):",
            r.wrongDiagnostics.size() < r.wrongEnds()
                ? "first " + r.wrongDiagnostics.size()
                : "all",
            r.wrongEnds());
        r.wrongDiagnostics.forEach(d -> say("    %s", d));
      }
      if (!r.knowableDiagnostics.isEmpty()) {
        say(
            "  unattributed though knowable (%s of %,d):",
            r.knowableDiagnostics.size() < all.knowable
                ? "first " + r.knowableDiagnostics.size()
                : "all",
            all.knowable);
        r.knowableDiagnostics.forEach(d -> say("    %s", d));
      }
      boolean bad = r.wrongEnds() > 0 || !r.countsExact() || !dlq.ok();
      if (c.exact && bad) {
        failed = true;
      }
      summary.add(
          String.format(
              "  %-24s %9d %9d %9d %9d %9s %9s %7s  %s",
              c.variant.name(),
              all.wrong,
              all.wrongConnectionWindows,
              all.knowable,
              all.unattributable,
              r.countsExact() ? "exact" : "NOT",
              seconds(r.freshnessPercentile(50)),
              seconds(r.freshnessPercentile(95)),
              c.exact ? (bad ? "must be exact: FAILS" : "must be exact: ok") : ""));
    }
    say("");
    say(
        "SUMMARY (%s, %d s at %.0f/s, seed %d; ends of %,d connections)",
        id, o.seconds, o.rate, o.seed, world.connections.size());
    say(
        "  %-24s %9s %9s %9s %9s %9s %9s %7s",
        "variant", "wrong", "wrong-cw", "knowable", "unattrib", "counting", "fresh-p50", "p95");
    summary.forEach(s -> say("%s", s));
    return failed ? 1 : 0;
  }

  /** The dead letters of one variant against the poison produced. */
  private record DeadLetterCheck(
      int expected, int found, Map<String, Long> reasons, List<String> problems) {
    boolean ok() {
      return problems.isEmpty();
    }

    String summary() {
      return String.format(
          "%d of %d poison records with their reason %s%s",
          found, expected, reasons, problems.isEmpty() ? "; nothing else" : "");
    }
  }

  private DeadLetterCheck checkDeadLetters(ChurnWorkload world, List<JsonNode> letters) {
    Map<String, JsonNode> byPlace = new HashMap<>();
    for (JsonNode l : letters) {
      byPlace.put(
          l.path("sourceTopic").asText()
              + "/"
              + l.path("partition").asInt()
              + "/"
              + l.path("offset").asLong(),
          l);
    }
    List<String> problems = new ArrayList<>();
    Map<String, Long> reasons = new TreeMap<>();
    int found = 0;
    Set<String> expectedPlaces = new LinkedHashSet<>();
    for (Emission p : world.poison) {
      String topic = p.target == Emission.Target.FLOWS ? flowsTopic : identityTopic;
      String place = topic + "/" + p.partition + "/" + p.offset;
      expectedPlaces.add(place);
      JsonNode l = byPlace.get(place);
      if (l == null) {
        problems.add("no dead letter for " + p.description + " (" + place + ")");
      } else if (!p.expectedDeadLetter.equals(l.path("reason").asText())) {
        problems.add(
            p.description
                + ": reason "
                + l.path("reason").asText()
                + ", expected "
                + p.expectedDeadLetter
                + " ("
                + l.path("detail").asText()
                + ")");
      } else {
        found++;
        reasons.merge(p.expectedDeadLetter, 1L, Long::sum);
      }
    }
    for (Map.Entry<String, JsonNode> e : byPlace.entrySet()) {
      if (!expectedPlaces.contains(e.getKey())) {
        problems.add(
            "an unexpected dead letter, "
                + e.getValue().path("reason").asText()
                + ": "
                + e.getValue().path("detail").asText()
                + " ("
                + e.getKey()
                + ")");
      }
    }
    return new DeadLetterCheck(world.poison.size(), found, reasons, problems);
  }

  // ---- metrics -------------------------------------------------------------------------------

  private static Map<String, Double> snapshot(CollectorMetrics metrics) {
    Map<String, Double> out = new TreeMap<>();
    for (MetricSnapshot s : metrics.registry().scrape()) {
      String name = s.getMetadata().getName().replace("flowsight_collector_", "");
      for (DataPointSnapshot p : s.getDataPoints()) {
        double v;
        if (p instanceof CounterSnapshot.CounterDataPointSnapshot c) {
          v = c.getValue();
        } else if (p instanceof GaugeSnapshot.GaugeDataPointSnapshot g) {
          v = g.getValue();
        } else {
          continue;
        }
        StringBuilder key = new StringBuilder(name);
        p.getLabels()
            .forEach(l -> key.append(' ').append(l.getName()).append('=').append(l.getValue()));
        out.merge(key.toString(), v, Double::sum);
      }
    }
    return out;
  }

  private static String metricsLine(Map<String, Double> m) {
    return String.format(
        "holds %s; hold releases %s; remote ends %s; local ends %s; sequence gaps %.0f;"
            + " flows after their window closed %.0f; duplicates %.0f; thread replacements %.0f",
        grouped(m, "holds ", "reason"),
        grouped(m, "hold_releases ", "outcome"),
        grouped(m, "attributions end=remote", "status"),
        grouped(m, "attributions end=local", "status"),
        sum(m, "sequence_gaps"),
        sum(m, "records_after_close"),
        sum(m, "duplicate_observations"),
        sum(m, "thread_replacements"));
  }

  private static String grouped(Map<String, Double> m, String prefix, String label) {
    Map<String, Long> out = new TreeMap<>();
    m.forEach(
        (k, v) -> {
          if (k.startsWith(prefix) && v > 0) {
            int i = k.indexOf(label + "=");
            String value = i < 0 ? "all" : k.substring(i + label.length() + 1).split(" ")[0];
            out.merge(value, Math.round(v), Long::sum);
          }
        });
    return out.toString();
  }

  private static double sum(Map<String, Double> m, String name) {
    double s = 0;
    for (Map.Entry<String, Double> e : m.entrySet()) {
      String k = e.getKey();
      if (k.equals(name) || k.startsWith(name + " ")) {
        s += e.getValue();
      }
    }
    return s;
  }

  private static double total(CollectorMetrics metrics, String name) {
    return CollectorBenchmark.value(metrics, name, null, null);
  }

  private static String seconds(long ms) {
    return ms < 0 ? "-" : String.format("%.1f s", ms / 1000.0);
  }

  private Admin admin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap);
    return Admin.create(p);
  }

  private static void say(String format, Object... args) {
    System.out.println(String.format(format, args));
  }
}
