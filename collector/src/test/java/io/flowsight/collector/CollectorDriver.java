package io.flowsight.collector;

import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.FlowRecordHeaders;
import io.flowsight.schemas.IpIdentityChange;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The topology in a {@link TopologyTestDriver}, with plain Avro input serdes (no registry) and a
 * mocked wall clock starting at {@link #T0}.
 */
final class CollectorDriver implements AutoCloseable {

  static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");

  final CollectorMetrics metrics = new CollectorMetrics();
  final Topics topics;
  final TopologyTestDriver driver;
  final TestInputTopic<byte[], byte[]> flows;
  final TestInputTopic<byte[], byte[]> identities;
  final TestOutputTopic<String, FlowAggregate> aggregates;
  final TestOutputTopic<byte[], byte[]> deadLetters;
  private final Path stateDir;

  CollectorDriver(CollectorSettings settings) {
    this(
        settings,
        Topics.of(
            Topics.DEFAULT_FLOWS,
            Topics.DEFAULT_IDENTITIES,
            Topics.DEFAULT_AGGREGATED,
            Topics.DEFAULT_DEAD_LETTERS,
            new PlainAvroSerde<>(FlowRecord.class),
            new PlainAvroSerde<>(IpIdentityChange.class)));
  }

  /** With the given input serdes (the registry's wire format, over a table of schemas). */
  CollectorDriver(CollectorSettings settings, Topics topics) {
    this.topics = topics;
    try {
      Path base = Path.of("target", "streams-state");
      Files.createDirectories(base);
      stateDir = Files.createTempDirectory(base.toAbsolutePath(), "collector-test");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "collector-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(CollectorTopology.build(topics, settings, metrics), props, T0);
    ByteArraySerializer bytes = new ByteArraySerializer();
    flows = driver.createInputTopic(topics.flows().name(), bytes, bytes);
    identities = driver.createInputTopic(topics.identities().name(), bytes, bytes);
    aggregates =
        driver.createOutputTopic(
            topics.aggregated().name(),
            Serdes.String().deserializer(),
            topics.aggregated().valueSerde().deserializer());
    deadLetters =
        driver.createOutputTopic(
            topics.deadLetters().name(),
            Serdes.ByteArray().deserializer(),
            Serdes.ByteArray().deserializer());
  }

  Instant now() {
    return T0.plusMillis(wallClockOffset);
  }

  private long wallClockOffset;

  /** Sends a flow record keyed by its local IP, produced 200 ms after its end. */
  void send(FlowRecord r) {
    send(r, r.getEndTime().plusMillis(200));
  }

  /**
   * Sends a flow record as a sidecar does: keyed by its local IP, its endTime as the Kafka
   * timestamp, {@code producedAt} in the produce-time header.
   */
  void send(FlowRecord r, Instant producedAt) {
    Headers headers = new RecordHeaders();
    headers.add(
        FlowRecordHeaders.PRODUCED_AT, FlowRecordHeaders.producedAt(producedAt.toEpochMilli()));
    flows.pipeInput(
        new TestRecord<>(
            IpAddresses.toText(r.getLocalIp()).getBytes(StandardCharsets.UTF_8),
            topics.flows().valueSerde().serializer().serialize(topics.flows().name(), r),
            headers,
            r.getEndTime()));
  }

  /** Sends raw bytes with {@code producedAt} as the Kafka timestamp and no header. */
  void sendRaw(String key, byte[] value, Instant producedAt) {
    flows.pipeInput(
        new TestRecord<>(
            key == null ? null : key.getBytes(StandardCharsets.UTF_8), value, null, producedAt));
  }

  void send(IpIdentityChange c) {
    String ip = IpAddresses.toText(c.getIp());
    sendIdentity(
        c.getPrefixLength() == null ? ip : ip + "/" + c.getPrefixLength(), c, c.getEventTime());
  }

  void sendIdentity(String key, IpIdentityChange c, Instant at) {
    identities.pipeInput(
        new TestRecord<>(
            key.getBytes(StandardCharsets.UTF_8),
            topics.identities().valueSerde().serializer().serialize(topics.identities().name(), c),
            null,
            at));
  }

  /** Advances the wall clock to {@code to} in steps of one second, as time passes for real. */
  void advanceTo(Instant to) {
    while (now().isBefore(to)) {
      long step = Math.min(1000, to.toEpochMilli() - now().toEpochMilli());
      driver.advanceWallClockTime(Duration.ofMillis(step));
      wallClockOffset += step;
    }
  }

  /** Moves the wall clock to {@code to} at once: the punctuations run once, as after a pause. */
  void jumpTo(Instant to) {
    long step = to.toEpochMilli() - now().toEpochMilli();
    if (step > 0) {
      driver.advanceWallClockTime(Duration.ofMillis(step));
      wallClockOffset += step;
    }
  }

  List<FlowAggregate> aggregates() {
    return aggregates.readValuesToList();
  }

  List<TestRecord<byte[], byte[]>> deadLetters() {
    return deadLetters.readRecordsToList();
  }

  @Override
  public void close() {
    driver.close();
    try (Stream<Path> files = Files.walk(stateDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory
    }
  }

  /**
   * A metric's value now: a counter (name with or without {@code _total}) or a gauge, summed over
   * the data points whose labels include {@code labels} (name, value, ...).
   */
  double metric(String name, String... labels) {
    String base = name.endsWith("_total") ? name.substring(0, name.length() - 6) : name;
    Labels wanted = Labels.of(labels);
    double sum = 0;
    for (MetricSnapshot snapshot : metrics.registry().scrape()) {
      if (!snapshot.getMetadata().getName().equals(base)) {
        continue;
      }
      for (DataPointSnapshot p : snapshot.getDataPoints()) {
        boolean match =
            wanted.stream().allMatch(l -> l.getValue().equals(p.getLabels().get(l.getName())));
        if (!match) {
          continue;
        }
        if (p instanceof CounterSnapshot.CounterDataPointSnapshot cp) {
          sum += cp.getValue();
        } else if (p instanceof GaugeSnapshot.GaugeDataPointSnapshot gp) {
          sum += gp.getValue();
        }
      }
    }
    return sum;
  }
}
