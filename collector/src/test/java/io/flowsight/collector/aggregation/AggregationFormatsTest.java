package io.flowsight.collector.aggregation;

import static io.flowsight.collector.wire.FormatFixtures.DATACENTER;
import static io.flowsight.collector.wire.FormatFixtures.PAYMENTS;
import static io.flowsight.collector.wire.FormatFixtures.SPARSE;
import static io.flowsight.collector.wire.FormatFixtures.T0;
import static io.flowsight.collector.wire.FormatFixtures.fullFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.FormatFixtures;
import io.flowsight.collector.wire.FormatFixtures.Format;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.io.IOException;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The values (and keys) of the aggregation's stores ({@code rows}, {@code pending}, {@code
 * dedupe}), pinned byte for byte against the fixtures in {@code golden/aggregation/} (the contract:
 * see {@link FormatFixtures}). The dedupe store's key is the wire's connection key ({@code
 * WireFormatsTest}).
 */
class AggregationFormatsTest {

  /** A row with every part set: both ends attributed, RTT, ports and overflow. */
  static Row fullRow() {
    Row r = new Row();
    r.windowStart = T0;
    r.protocol = Protocol.TCP;
    r.clientIp = IpAddresses.parse("10.1.0.1");
    r.serverIp = IpAddresses.parse("10.2.0.8");
    r.servicePort = 443;
    r.client = new EndAttribution(AttributionStatus.OWNER, PAYMENTS);
    r.server = new EndAttribution(AttributionStatus.CIDR, DATACENTER);
    r.sides = Row.CLIENT_COUNTED | Row.SERVER_COUNTED | Row.SEEN_BY_BOTH;
    r.connections = 3;
    r.failedConnections = 1;
    r.bytesClientToServer = 123_456;
    r.bytesServerToClient = 654_321;
    r.segmentsClientToServer = 321;
    r.segmentsServerToClient = 456;
    r.retransmits = 7;
    r.rttMin = 180;
    r.rttMax = 900;
    r.rttSum = 1_900;
    r.rttCount = 4;
    r.ports = new int[] {40001, 40007, 51234};
    r.portsOverflow = 2;
    r.firstSeen = T0 + 1_000;
    r.lastSeen = T0 + 59_000;
    r.flowRecords = 5;
    return r;
  }

  /** A row without RTT samples or ports (the branch that writes no RTT fields), IPv6, UDP. */
  static Row noRttRow() {
    Row r = new Row();
    r.windowStart = T0 + 60_000;
    r.protocol = Protocol.UDP;
    r.clientIp = IpAddresses.parse("2001:db8::1");
    r.serverIp = IpAddresses.parse("2001:db8::2");
    r.servicePort = 53;
    r.client = new EndAttribution(AttributionStatus.CIDR, SPARSE);
    r.server = new EndAttribution(AttributionStatus.EXPIRED, null);
    r.sides = Row.SERVER_COUNTED;
    r.connections = 0;
    r.failedConnections = 0;
    r.firstSeen = T0 + 61_000;
    r.lastSeen = T0 + 61_000;
    r.flowRecords = 1;
    return r;
  }

  /**
   * Two connections of one 5-tuple in one slot: one seen by both ends (CLIENT first, the SERVER's
   * start 1.2 s later), counted in 8 windows (the most kept); one seen by the SERVER only so far,
   * with a CLIENT start 0.8 s earlier (a negative offset).
   */
  static List<Dedupe.Entry> dedupeEntries() {
    Dedupe.Entry both = new Dedupe.Entry();
    both.firstSide = Side.CLIENT;
    both.firstStart = T0 + 1_000;
    both.otherStart = T0 + 2_200;
    both.lastCountedWindow = T0 + 420_000;
    both.lastRowClientFp = 0x0123456789abcdefL;
    both.lastRowServerFp = 0xfedcba9876543210L;
    both.countedWindows = new long[8];
    for (int i = 0; i < 8; i++) {
      both.countedWindows[i] = T0 + i * 60_000L;
    }
    Dedupe.Entry serverFirst = new Dedupe.Entry();
    serverFirst.firstSide = Side.SERVER;
    serverFirst.firstStart = T0 + 30_000;
    serverFirst.otherStart = T0 + 29_200;
    serverFirst.lastCountedWindow = T0;
    serverFirst.lastRowClientFp = 1;
    serverFirst.lastRowServerFp = -1;
    serverFirst.countedWindows = new long[] {T0};
    return List.of(both, serverFirst);
  }

  static Stream<Format> formats() {
    return Stream.of(
        // -- rows store (Row) --
        new Format(
            "aggregation/row-v1.hex",
            () -> fullRow().encode(),
            b -> assertThat(Row.decode(b)).usingRecursiveComparison().isEqualTo(fullRow())),
        new Format(
            "aggregation/row-v1-no-rtt.hex",
            () -> noRttRow().encode(),
            b -> {
              Row r = Row.decode(b);
              assertThat(r).usingRecursiveComparison().isEqualTo(noRttRow());
              assertThat(r.toAggregate(60_000).rttMinMicros()).isNull();
            }),
        new Format(
            "aggregation/row-key.hex",
            () ->
                Row.rowKey(
                        T0,
                        fullFlow().aggregationKey(),
                        fullFlow().client().fingerprint(),
                        fullFlow().server().fingerprint())
                    .get(),
            b -> {
              assertThat(Row.windowOf(Bytes.wrap(b))).isEqualTo(T0);
              assertThat(Row.aggregationKeyOf(Bytes.wrap(b), true))
                  .isEqualTo("TCP|10.1.0.1|10.2.0.8|443");
            }),
        new Format(
            "aggregation/row-window-key.hex",
            () -> Row.windowKey(T0, fullFlow().aggregationKey()).get(),
            b -> {
              assertThat(Row.windowOf(Bytes.wrap(b))).isEqualTo(T0);
              assertThat(Row.aggregationKeyOf(Bytes.wrap(b), false))
                  .isEqualTo("TCP|10.1.0.1|10.2.0.8|443");
            }),
        // -- pending store (AggregateProcessor), key: row-window-key --
        new Format(
            "aggregation/pending-count.hex",
            () -> AggregateProcessor.encodePending(3, T0 + 180_000),
            b -> assertThat(AggregateProcessor.decodePending(b)).containsExactly(3, T0 + 180_000)),
        // -- dedupe window store (Dedupe) --
        new Format(
            "aggregation/dedupe-v2.hex",
            () -> Dedupe.encode(dedupeEntries()),
            b ->
                assertThat(Dedupe.decode(b))
                    .usingRecursiveFieldByFieldElementComparator()
                    .containsExactlyElementsOf(dedupeEntries())),
        new Format("aggregation/dedupe-v1.hex", null, AggregationFormatsTest::assertDedupeV1));
  }

  /** Dedupe version 1 (no counted windows): the last counted window stands for them. */
  static void assertDedupeV1(byte[] bytes) {
    List<Dedupe.Entry> entries = Dedupe.decode(bytes);
    assertThat(entries).hasSize(2);
    Dedupe.Entry counted = entries.get(0);
    assertThat(counted.firstSide).isEqualTo(Side.CLIENT);
    assertThat(counted.firstStart).isEqualTo(T0 + 1_000);
    assertThat(counted.otherStart).isEqualTo(T0 + 2_200);
    assertThat(counted.lastCountedWindow).isEqualTo(T0 + 420_000);
    assertThat(counted.lastRowClientFp).isEqualTo(0x0123456789abcdefL);
    assertThat(counted.lastRowServerFp).isEqualTo(0xfedcba9876543210L);
    assertThat(counted.countedWindows).containsExactly(T0 + 420_000);
    Dedupe.Entry never = entries.get(1);
    assertThat(never.firstSide).isEqualTo(Side.SERVER);
    assertThat(never.firstStart).isEqualTo(T0 + 30_000);
    assertThat(never.otherStart).isEqualTo(Long.MIN_VALUE);
    assertThat(never.lastCountedWindow).isEqualTo(Long.MIN_VALUE);
    assertThat(never.lastRowClientFp).isEqualTo(0);
    assertThat(never.lastRowServerFp).isEqualTo(0);
    assertThat(never.countedWindows).isEmpty();
    // Read as version 1, written back as version 2.
    assertThat(Dedupe.encode(entries)[0]).isEqualTo((byte) 2);
    assertThat(Dedupe.decode(Dedupe.encode(entries)))
        .usingRecursiveFieldByFieldElementComparator()
        .containsExactlyElementsOf(entries);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("formats")
  void shouldWriteExactlyTheFixtureBytes(Format format) {
    format.assertWritesTheFixture();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("formats")
  void shouldDecodeTheFixtureToItsObject(Format format) {
    format.assertDecodesTheFixture();
  }

  static Stream<Arguments> unknownVersions() {
    return Stream.of(
        Arguments.of(
            "aggregation/row-v1.hex",
            0,
            (Function<byte[], Object>) Row::decode,
            "aggregate row bytes are malformed at offset 1: row format version 9 is unknown"),
        Arguments.of(
            "aggregation/dedupe-v2.hex",
            0,
            (Function<byte[], Object>) Dedupe::decode,
            "dedupe entry bytes are malformed at offset 1: dedupe format version 9 is unknown"));
  }

  @ParameterizedTest(name = "{0}, byte {1} = 9")
  @MethodSource("unknownVersions")
  void shouldRefuseAVersionItDoesNotKnowWithAClearError(
      String fixture, int versionAt, Function<byte[], Object> decode, String message) {
    FormatFixtures.assertRefusesAnUnknownVersion(fixture, versionAt, decode, message);
  }

  @Test
  void shouldHaveAFixtureForEveryFormatAndNoStrayOne() throws IOException {
    FormatFixtures.assertFixturesAreExactly("aggregation", formats());
  }
}
