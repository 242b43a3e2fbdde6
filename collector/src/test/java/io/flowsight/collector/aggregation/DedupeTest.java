package io.flowsight.collector.aggregation;

import static io.flowsight.collector.wire.FormatFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Counting a connection seen by both ends once (docs/collector.md, "Counting a connection seen by
 * both ends once"), with the default tolerance (2 s) and epoch (3 minutes), over the real window
 * store in Kafka Streams' test driver: each step is one flow record reaching the aggregation, and
 * the verdict the aggregation acts on, exactly as {@link AggregateProcessor} does (lookup, count in
 * the record's window, save).
 */
class DedupeTest {

  static final CollectorSettings SETTINGS = CollectorSettings.defaults(1);
  static final long WINDOW = SETTINGS.window().toMillis();

  @TempDir Path stateDir;

  private TopologyTestDriver driver;
  private TestInputTopic<String, String> records;
  private final List<String> verdicts = new ArrayList<>();

  /**
   * The dedupe store exactly as {@link AggregationStores} builds it (RocksDB, logged), in a
   * one-processor topology that runs each record given as a step (see {@link #record}) through
   * {@link Dedupe}.
   */
  @BeforeEach
  void startDriver() {
    long tolerance = SETTINGS.dedupeTolerance().toMillis();
    long epoch = SETTINGS.dedupeEpoch().toMillis();
    Topology topology = new Topology();
    topology.addSource(
        "records", Serdes.String().deserializer(), Serdes.String().deserializer(), "records");
    topology.addProcessor(
        "dedupe",
        () ->
            new Processor<String, String, Void, Void>() {
              private Dedupe dedupe;

              @Override
              public void init(ProcessorContext<Void, Void> context) {
                dedupe =
                    new Dedupe(context.getStateStore(AggregateProcessor.DEDUPE), tolerance, epoch);
              }

              @Override
              public void process(Record<String, String> step) {
                String[] s = step.value().split(" ");
                verdicts.add(
                    aggregate(dedupe, record(s[0], Long.parseLong(s[1]), Long.parseLong(s[2]))));
              }
            },
        "records");
    topology.addStateStore(
        Stores.windowStoreBuilder(
                Stores.persistentWindowStore(
                    AggregateProcessor.DEDUPE,
                    SETTINGS.dedupeRetention(),
                    Duration.ofMillis(Dedupe.bucketSize(tolerance)),
                    false),
                Serdes.Bytes(),
                Serdes.ByteArray())
            .withCachingDisabled(),
        "dedupe");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dedupe-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(topology, props, Instant.ofEpochMilli(T0));
    records =
        driver.createInputTopic(
            "records", Serdes.String().serializer(), Serdes.String().serializer());
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  /** Runs one record through the dedupe store; returns the verdict. */
  String step(String side, long start, long end) {
    records.pipeInput(null, side + " " + start + " " + end, T0 + end);
    return verdicts.get(verdicts.size() - 1);
  }

  /**
   * One record of 10.1.0.1:port -> 10.2.0.8:443: {@code C|S[:clientPort] connectionStart end}, ms
   * after T0.
   */
  static InternalFlow record(String side, long start, long end) {
    boolean client = side.startsWith("C");
    int port = side.contains(":") ? Integer.parseInt(side.substring(2)) : 40001;
    byte[] clientIp = IpAddresses.parse("10.1.0.1");
    byte[] serverIp = IpAddresses.parse("10.2.0.8");
    return new InternalFlow(
        0,
        0,
        T0 + end,
        FlowKind.INTERIM,
        Protocol.TCP,
        client ? Side.CLIENT : Side.SERVER,
        client ? clientIp : serverIp,
        client ? port : 443,
        client ? serverIp : clientIp,
        client ? 443 : port,
        443,
        T0 + start,
        T0 + start,
        T0 + end,
        100,
        100,
        1,
        1,
        0,
        0,
        new EndAttribution(AttributionStatus.GAP, null),
        new EndAttribution(AttributionStatus.GAP, null),
        0,
        false);
  }

  /**
   * What the aggregation does with the record: "new" (counted, the connection's first record in its
   * window), "counted" (counted, its connection already counted in that window: counters only) or
   * "duplicate" (the other end's record: nothing added).
   */
  static String aggregate(Dedupe dedupe, InternalFlow f) {
    long window = SETTINGS.windowStart(f.endTime());
    Dedupe.Verdict v = dedupe.lookup(f);
    String verdict;
    if (v.counted()) {
      verdict = v.entry().countIn(window) ? "new" : "counted";
      v.entry().lastCountedWindow = window;
    } else {
      verdict = "duplicate";
    }
    dedupe.save(f, v);
    return verdict;
  }

  static Stream<Arguments> scenarios() {
    return Stream.of(
        Arguments.of(
            "both ends within the tolerance: counted once",
            "C 1000 30000 new; S 2500 30000 duplicate"),
        Arguments.of(
            "both ends exactly the tolerance apart: counted once",
            "C 1000 30000 new; S 3000 30000 duplicate"),
        Arguments.of(
            "1 ms past the tolerance: two connections", "C 1000 30000 new; S 3001 30000 new"),
        Arguments.of(
            "the server's start before the client's (clocks), within the tolerance",
            "C 3000 30000 new; S 1500 30000 duplicate"),
        Arguments.of(
            "the SERVER seen first counts; the CLIENT is the duplicate",
            "S 2500 30000 new; C 1000 30000 duplicate; C 1000 40000 duplicate"),
        Arguments.of(
            "one observer's INTERIM and CLOSED in one window: one connection",
            "C 1000 30000 new; C 1000 50000 counted"),
        Arguments.of(
            "one observer, another start: another connection (the 5-tuple reused)",
            "C 1000 30000 new; C 1500 50000 new"),
        Arguments.of(
            "another client port: another connection", "C 1000 30000 new; S:40002 2500 30000 new"),
        Arguments.of(
            "the second side's first record pins its start: its later records match exactly",
            "C 1000 30000 new; S 2500 30000 duplicate; S 2500 50000 duplicate;"
                + " S 2000 50000 new"),
        Arguments.of(
            "two connections of one 5-tuple in one slot, each matched by its own other end",
            "C 1000 30000 new; C 3500 40000 new; S 3800 40000 duplicate; S 1200 30000 duplicate"),
        Arguments.of(
            "a long-lived connection: counted once per window, its entry moving with the epochs",
            "C 1000 59000 new; C 1000 119000 new; C 1000 119500 counted; C 1000 200000 new;"
                + " C 1000 400000 new; S 2500 400000 duplicate; S 2500 410000 duplicate;"
                + " C 1000 410000 counted; C 1000 470000 new"),
        Arguments.of(
            "epochs: a record past half its epoch also probes the next epoch's slot",
            "C 1000 200000 new; S 2500 100000 duplicate"),
        Arguments.of(
            "epochs: a record early in its epoch probes the previous epoch's slot",
            "C 1000 100000 new; S 2500 190000 duplicate"),
        Arguments.of(
            "out of order: a record held back reaches the aggregation after a later window's",
            "C 1000 119000 new; C 1000 59000 new; C 1000 58000 counted; C 1000 118000 counted"),
        Arguments.of(
            "out of order across epochs: the copies in both epochs' slots are merged",
            "C 1000 200000 new; C 1000 30000 new; C 1000 200500 counted; C 1000 31000 counted"),
        Arguments.of(
            "after 9 windows, the first window's late record: its epoch's copy still has it",
            "C 1000 59000 new; C 1000 119000 new; C 1000 179000 new; C 1000 239000 new;"
                + " C 1000 299000 new; C 1000 359000 new; C 1000 419000 new; C 1000 479000 new;"
                + " C 1000 539000 new; C 1000 58000 counted"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("scenarios")
  void shouldCountEachConnectionOncePerWindow(String name, String steps) {
    List<String> expected = new ArrayList<>();
    List<String> actual = new ArrayList<>();
    for (String step : steps.split(";")) {
      String[] s = step.trim().split(" ");
      expected.add(step.trim());
      actual.add(
          String.join(" ", s[0], s[1], s[2])
              + " "
              + step(s[0], Long.parseLong(s[1]), Long.parseLong(s[2])));
    }
    assertThat(actual).isEqualTo(expected);
  }

  @Test
  void shouldKeepWhatItLearnedAcrossAStoreRoundTrip() {
    assertThat(step("C", 1000, 30000)).isEqualTo("new");
    assertThat(step("S", 2500, 30000)).isEqualTo("duplicate");

    long slot = Math.floorDiv(T0 + 1000, Dedupe.bucketSize(2000)) * Dedupe.bucketSize(2000);
    List<Dedupe.Entry> stored =
        Dedupe.decode(
            driver
                .<Bytes, byte[]>getWindowStore(AggregateProcessor.DEDUPE)
                .fetch(record("C", 1000, 30000).connectionKey(), slot));
    assertThat(stored).hasSize(1);
    Dedupe.Entry e = stored.get(0);
    assertThat(e.firstSide).isEqualTo(Side.CLIENT);
    assertThat(e.firstStart).isEqualTo(T0 + 1000);
    assertThat(e.otherStart).isEqualTo(T0 + 2500);
    assertThat(e.lastCountedWindow).isEqualTo(T0);
    assertThat(e.countedWindows).containsExactly(T0);
  }

  // ---- an entry's counted windows -----------------------------------------------------------

  /** Minutes after T0 as window starts. */
  static long[] windows(String minutes) {
    return Arrays.stream(minutes.trim().split(" +"))
        .mapToLong(m -> T0 + Long.parseLong(m) * WINDOW)
        .toArray();
  }

  @ParameterizedTest(name = "[{index}] count in {0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          # windows counted in this order | countIn answers                          | windows kept after
          0 1 2 1                         | true true true false                     | 0 1 2
          2 0 1 0 2                       | true true true false false               | 0 1 2
          0 1 2 3 4 5 6 7                 | true true true true true true true true  | 0 1 2 3 4 5 6 7
          0 1 2 3 4 5 6 7 8               | true true true true true true true true true | 1 2 3 4 5 6 7 8
          0 1 2 3 4 5 6 7 8 0             | true true true true true true true true true true | 1 2 3 4 5 6 7 8
          0 1 2 3 4 5 6 7 8 1             | true true true true true true true true true false | 1 2 3 4 5 6 7 8
          8 7 6 5 4 3 2 1 0               | true true true true true true true true true | 1 2 3 4 5 6 7 8
          """)
  void shouldRememberTheLastEightCountedWindows(String counted, String answers, String kept) {
    Dedupe.Entry e = new Dedupe.Entry();
    List<String> said = new ArrayList<>();
    for (long w : windows(counted)) {
      said.add(String.valueOf(e.countIn(w)));
    }

    assertThat(String.join(" ", said)).isEqualTo(answers);
    assertThat(e.countedWindows).containsExactly(windows(kept));
  }

  @Test
  void shouldMergeTwoCopiesOfAnEntryIntoWhatBothKnow() {
    Dedupe.Entry older = new Dedupe.Entry();
    older.firstSide = Side.CLIENT;
    older.firstStart = T0 + 1000;
    older.lastCountedWindow = T0;
    older.lastRowClientFp = 11;
    older.lastRowServerFp = 12;
    older.countedWindows = windows("0 1");
    Dedupe.Entry later = new Dedupe.Entry();
    later.firstSide = Side.CLIENT;
    later.firstStart = T0 + 1000;
    later.otherStart = T0 + 2500;
    later.lastCountedWindow = T0 + 3 * WINDOW;
    later.lastRowClientFp = 21;
    later.lastRowServerFp = 22;
    later.countedWindows = windows("3");

    older.merge(later);

    assertThat(older.otherStart).isEqualTo(T0 + 2500);
    assertThat(older.lastCountedWindow).isEqualTo(T0 + 3 * WINDOW);
    assertThat(older.lastRowClientFp).isEqualTo(21);
    assertThat(older.lastRowServerFp).isEqualTo(22);
    assertThat(older.countedWindows).containsExactly(windows("0 1 3"));

    // The other way round: the later row stays the latest.
    Dedupe.Entry copy = Dedupe.decode(Dedupe.encode(List.of(older))).get(0);
    Dedupe.Entry stale = new Dedupe.Entry();
    stale.firstSide = Side.CLIENT;
    stale.firstStart = T0 + 1000;
    stale.lastCountedWindow = T0 + WINDOW;
    stale.lastRowClientFp = 99;
    stale.countedWindows = windows("1 2");
    copy.merge(stale);
    assertThat(copy.lastCountedWindow).isEqualTo(T0 + 3 * WINDOW);
    assertThat(copy.lastRowClientFp).isEqualTo(21);
    assertThat(copy.otherStart).isEqualTo(T0 + 2500);
    assertThat(copy.countedWindows).containsExactly(windows("0 1 2 3"));
  }
}
