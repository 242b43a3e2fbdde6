package io.flowsight.collector.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.codec.Bin;
import io.flowsight.collector.internals.Messages.CidrChange;
import io.flowsight.collector.internals.Messages.End;
import io.flowsight.collector.internals.Messages.FlowToAggregate;
import io.flowsight.collector.internals.Messages.FlowToRemote;
import io.flowsight.collector.internals.Messages.HeldFlow;
import io.flowsight.collector.internals.Messages.Pending;
import io.flowsight.collector.output.Owner;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every value (and key) the collector persists in its changelog and repartition topics, pinned byte
 * for byte against fixtures in {@code src/test/resources/golden/}: a hex text file per message type
 * and version, its first line saying what object it encodes, each byte group commented with the
 * field it holds, its encoding (u8, uvarint, zlong = zigzag then uvarint, nstring = uvarint length
 * + 1 then UTF-8, long8 = 8 bytes big-endian) and its value.
 *
 * <p>A collector restarted on a newer build restores its stores from the changelogs and reads the
 * repartition topics written by the build before it, so these bytes are a contract with the
 * collector's own past. <b>The fixtures are the truth: this test never regenerates them.</b> A
 * change to a format must add a new version (a new version or type byte and a new fixture) and keep
 * every older fixture here decoding (as {@code dedupe-v1.hex} still does after version 2); changing
 * or deleting a fixture to make this test pass is changing the contract, and breaks every collector
 * upgraded in place.
 *
 * <p>Every fixture is checked both ways: the current encoder writes exactly these bytes for the
 * fixed object (a fully populated one, and one with the null / unattributed branches of the
 * format), and the fixture decodes to that object, field by field. Older versions still read are
 * fixtures built by hand from the documented layout, decode only.
 */
class InternalFormatsTest {

  /** 2025-11-24T16:00:00Z: a window start (a whole minute), epoch ms. */
  static final long T0 = 1_764_000_000_000L;

  static final Owner PAYMENTS =
      new Owner(
          "payments",
          "prod-east",
          "shop",
          "Deployment",
          "payments",
          "us-east-1a",
          "us-east-1",
          "123456789012");

  static final Owner DATACENTER =
      new Owner(
          "dc-frankfurt",
          "fra1",
          "network",
          "CidrBlock",
          "fra1-core",
          "eu-central-1a",
          "eu-central-1",
          "210987654321");

  /** Nulls and an empty string: nstring keeps them apart (0 and 1). */
  static final Owner SPARSE = new Owner("internet", "", null, null, null, null, "global", null);

  /**
   * Every field set, every number distinct: a SERVER record of an INTERIM report, held back and
   * announced, both ends attributed (OWNER and CIDR).
   */
  static InternalFlow fullFlow() {
    return new InternalFlow(
        5,
        1_234_567,
        T0 + 60_200,
        FlowKind.INTERIM,
        Protocol.TCP,
        Side.SERVER,
        IpAddresses.parse("10.2.0.8"),
        443,
        IpAddresses.parse("10.1.0.1"),
        40001,
        443,
        T0 + 1_000,
        T0 + 31_000,
        T0 + 59_000,
        123_456,
        654_321,
        321,
        456,
        7,
        250,
        new EndAttribution(AttributionStatus.OWNER, PAYMENTS),
        new EndAttribution(AttributionStatus.CIDR, DATACENTER),
        T0 + 180_000,
        true);
  }

  /**
   * The other branches: IPv6, a failed connect (no port yet, equal times, zero counters and RTT),
   * neither end attributed, never held.
   */
  static InternalFlow bareFlow() {
    return new InternalFlow(
        0,
        0,
        T0 + 5_000,
        FlowKind.FAILED_CONNECT,
        Protocol.TCP,
        Side.CLIENT,
        IpAddresses.parse("2001:db8::1"),
        0,
        IpAddresses.parse("2001:db8::2"),
        8443,
        8443,
        T0 + 2_000,
        T0 + 2_000,
        T0 + 2_000,
        0,
        0,
        3,
        0,
        2,
        0,
        null,
        null,
        0,
        false);
  }

  static IpIdentityChange fullCidrChange() {
    return IpIdentityChange.newBuilder()
        .setAddressFamily(AddressFamily.IPV4)
        .setIp(ByteBuffer.wrap(IpAddresses.parse("10.2.0.0")))
        .setPrefixLength(16)
        .setAction(IdentityAction.ASSIGN)
        .setIdentity(
            Identity.newBuilder()
                .setApp("dc-frankfurt")
                .setCluster("fra1")
                .setNamespace("network")
                .setWorkloadKind("CidrBlock")
                .setWorkloadName("fra1-core")
                .setInstanceId("fra1-core-0")
                .setNode("rack-7")
                .setZone("eu-central-1a")
                .setRegion("eu-central-1")
                .setAccount("210987654321")
                .setLabels(Map.of("team", "network"))
                .build())
        .setEventTime(Instant.ofEpochMilli(T0 - 3_600_000))
        .setSource("static")
        .setSourceInstance("/etc/flowsight/ids.yaml")
        .build();
  }

  static IpIdentityChange sparseCidrChange() {
    return IpIdentityChange.newBuilder()
        .setAddressFamily(AddressFamily.IPV6)
        .setIp(ByteBuffer.wrap(IpAddresses.parse("2001:db8::")))
        .setPrefixLength(32)
        .setAction(IdentityAction.UNASSIGN)
        .setIdentity(Identity.newBuilder().setApp("internet").setLabels(Map.of()).build())
        .setEventTime(Instant.ofEpochMilli(T0))
        .setSource("static")
        .setSourceInstance(null)
        .build();
  }

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

  // ---- the table -------------------------------------------------------------------------------

  /**
   * One persisted form: its fixture, how the current build writes the fixed object (null for an
   * older version, read only), and what the fixture must decode to.
   */
  record Format(String fixture, Supplier<byte[]> encode, Consumer<byte[]> decodesTo) {
    @Override
    public String toString() {
      return fixture;
    }
  }

  static Stream<Format> formats() {
    return Stream.of(
        // -- flows-remote-lookup repartition topic (Messages.ToRemote) --
        new Format(
            "to-remote-flow-v1.hex",
            () -> Messages.encode(new FlowToRemote(fullFlow())),
            b -> assertFlow(((FlowToRemote) Messages.decodeToRemote(b)).flow(), fullFlow())),
        new Format(
            "to-remote-flow-v1-unattributed.hex",
            () -> Messages.encode(new FlowToRemote(bareFlow())),
            b -> assertFlow(((FlowToRemote) Messages.decodeToRemote(b)).flow(), bareFlow())),
        new Format(
            "to-remote-cidr-change-v1.hex",
            () -> Messages.encode(new CidrChange(fullCidrChange())),
            b -> assertCidrChange(((CidrChange) Messages.decodeToRemote(b)).change(), true)),
        new Format(
            "to-remote-cidr-change-v1-sparse.hex",
            () -> Messages.encode(new CidrChange(sparseCidrChange())),
            b -> assertCidrChange(((CidrChange) Messages.decodeToRemote(b)).change(), false)),
        // -- flows-aggregation repartition topic (Messages.ToAggregate) --
        new Format(
            "to-aggregate-flow-v1.hex",
            () -> Messages.encode(new FlowToAggregate(fullFlow())),
            b -> assertFlow(((FlowToAggregate) Messages.decodeToAggregate(b)).flow(), fullFlow())),
        new Format(
            "to-aggregate-flow-v1-unattributed.hex",
            () -> Messages.encode(new FlowToAggregate(unattributedFlow())),
            b ->
                assertFlow(
                    ((FlowToAggregate) Messages.decodeToAggregate(b)).flow(), unattributedFlow())),
        new Format(
            "to-aggregate-pending.hex",
            () -> Messages.encode(new Pending(T0, T0 + 180_000)),
            b ->
                assertThat(Messages.decodeToAggregate(b)).isEqualTo(new Pending(T0, T0 + 180_000))),
        // -- held store (Messages.HeldFlow) --
        new Format(
            "held-flow-v4.hex",
            () -> Messages.encode(heldForOwner()),
            b -> assertHeld(Messages.decodeHeld(b), heldForOwner())),
        new Format(
            "held-flow-v5.hex",
            () -> Messages.encode(heldToSettle()),
            b -> assertHeld(Messages.decodeHeld(b), heldToSettle())),
        // -- rows store (Row) --
        new Format(
            "row-v1.hex",
            () -> fullRow().encode(),
            b -> assertThat(Row.decode(b)).usingRecursiveComparison().isEqualTo(fullRow())),
        new Format(
            "row-v1-no-rtt.hex",
            () -> noRttRow().encode(),
            b -> {
              Row r = Row.decode(b);
              assertThat(r).usingRecursiveComparison().isEqualTo(noRttRow());
              assertThat(r.toAggregate(60_000).rttMinMicros()).isNull();
            }),
        new Format(
            "row-key.hex",
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
            "row-window-key.hex",
            () -> Row.windowKey(T0, fullFlow().aggregationKey()).get(),
            b -> {
              assertThat(Row.windowOf(Bytes.wrap(b))).isEqualTo(T0);
              assertThat(Row.aggregationKeyOf(Bytes.wrap(b), false))
                  .isEqualTo("TCP|10.1.0.1|10.2.0.8|443");
            }),
        // -- pending store (AggregateProcessor), key: row-window-key --
        new Format(
            "pending-count.hex",
            () -> AggregateProcessor.encodePending(3, T0 + 180_000),
            b -> assertThat(AggregateProcessor.decodePending(b)).containsExactly(3, T0 + 180_000)),
        // -- dedupe window store (Dedupe) --
        new Format(
            "dedupe-v2.hex",
            () -> Dedupe.encode(dedupeEntries()),
            b ->
                assertThat(Dedupe.decode(b))
                    .usingRecursiveFieldByFieldElementComparator()
                    .containsExactlyElementsOf(dedupeEntries())),
        new Format("dedupe-v1.hex", null, InternalFormatsTest::assertDedupeV1),
        new Format(
            "dedupe-key.hex",
            () -> Dedupe.connectionKey(fullFlow()).get(),
            b -> assertThat(b).isEqualTo(Dedupe.connectionKey(fullFlow()).get())),
        // -- connections store (ConnectionEnds) --
        new Format(
            "connection-end-v1.hex",
            () ->
                ConnectionEnds.value(
                    new EndAttribution(AttributionStatus.OWNER, PAYMENTS), T0 + 60_500),
            b -> {
              assertThat(ConnectionEnds.decode(b))
                  .isEqualTo(new EndAttribution(AttributionStatus.OWNER, PAYMENTS));
              assertThat(writtenAt(b)).isEqualTo(T0 + 60_500);
            }),
        new Format(
            "connection-end-v1-unattributed.hex",
            () -> ConnectionEnds.value(new EndAttribution(AttributionStatus.GAP, null), T0),
            b -> {
              assertThat(ConnectionEnds.decode(b))
                  .isEqualTo(new EndAttribution(AttributionStatus.GAP, null));
              assertThat(writtenAt(b)).isEqualTo(T0);
            }),
        new Format(
            "connection-end-key.hex",
            () -> ConnectionEnds.key(fullFlow(), 2).get(),
            b -> {
              // What otherSideLabel reads back: side, start and kind after the 5-tuple.
              int at = Dedupe.connectionKey(fullFlow()).get().length;
              assertThat(b).hasSize(at + 10);
              assertThat(b[at]).isEqualTo((byte) Side.SERVER.ordinal());
              assertThat(Bin.getLong8(b, at + 1)).isEqualTo(T0 + 1_000);
              assertThat(b[at + 9]).isEqualTo((byte) 2);
            }),
        // -- sequences store (SequenceTracker) --
        new Format(
            "sequence-entry-v1.hex",
            () -> SequenceTracker.encode(41_999, T0 + 60_500),
            b -> assertThat(SequenceTracker.decode(b)).containsExactly(41_999, T0 + 60_500)));
  }

  static InternalFlow unattributedFlow() {
    return bareFlow()
        .withLocal(new EndAttribution(AttributionStatus.CONFLICT, null))
        .withRemote(new EndAttribution(AttributionStatus.NEVER_SEEN, null));
  }

  static HeldFlow heldForOwner() {
    return new HeldFlow(fullFlow().withRemote(null), End.REMOTE, AttributionStatus.GAP);
  }

  static HeldFlow heldToSettle() {
    return new HeldFlow(bareFlow(), End.LOCAL, AttributionStatus.NEVER_SEEN, T0 + 37_000);
  }

  // ---- the checks ------------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @MethodSource("formats")
  void shouldWriteExactlyTheFixtureBytes(Format format) {
    if (format.encode() == null) {
      return; // an older version: read only, no longer written
    }
    assertThat(HexFormat.of().formatHex(format.encode().get()))
        .as("bytes written for %s (a change needs a new version, see the class doc)", format)
        .isEqualTo(HexFormat.of().formatHex(golden(format.fixture())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("formats")
  void shouldDecodeTheFixtureToItsObject(Format format) {
    format.decodesTo().accept(golden(format.fixture()));
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

  static void assertFlow(InternalFlow actual, InternalFlow expected) {
    // Field by field (the IPs are byte arrays: compared by content).
    assertThat(actual).usingRecursiveComparison().isEqualTo(expected);
    assertThat(actual.localIpText()).isEqualTo(expected.localIpText());
    assertThat(actual.remoteIpText()).isEqualTo(expected.remoteIpText());
  }

  static void assertHeld(HeldFlow actual, HeldFlow expected) {
    assertThat(actual.waitingFor()).isEqualTo(expected.waitingFor());
    assertThat(actual.reason()).isEqualTo(expected.reason());
    assertThat(actual.settleAt()).isEqualTo(expected.settleAt());
    assertThat(actual.settling()).isEqualTo(expected.settling());
    assertFlow(actual.flow(), expected.flow());
  }

  static void assertCidrChange(IpIdentityChange actual, boolean full) {
    IpIdentityChange expected = full ? fullCidrChange() : sparseCidrChange();
    assertThat(actual.getAddressFamily()).isEqualTo(expected.getAddressFamily());
    assertThat(IpAddresses.toText(actual.getIp())).isEqualTo(full ? "10.2.0.0" : "2001:db8::");
    assertThat(actual.getPrefixLength()).isEqualTo(full ? 16 : 32);
    assertThat(actual.getAction()).isEqualTo(expected.getAction());
    assertThat(actual.getIdentity()).isEqualTo(expected.getIdentity());
    assertThat(actual.getEventTime()).isEqualTo(expected.getEventTime());
    assertThat(actual.getSource()).isEqualTo("static");
    assertThat(actual.getSourceInstance()).isEqualTo(expected.getSourceInstance());
    // The cidr store keeps the same Avro single-object bytes, without the message's type byte.
    byte[] fixture =
        golden(full ? "to-remote-cidr-change-v1.hex" : "to-remote-cidr-change-v1-sparse.hex");
    assertThat(Messages.avro(actual))
        .isEqualTo(java.util.Arrays.copyOfRange(fixture, 1, fixture.length));
  }

  /** The write time a connection end carries (read by the sweep only). */
  static long writtenAt(byte[] value) {
    Bin.In in = new Bin.In(value, "connection end");
    in.u8();
    return in.zlong();
  }

  // ---- versions and types this build does not know: a clear error, never a wrong value ---------

  static Stream<Arguments> unknownVersions() {
    return Stream.of(
        Arguments.of(
            "to-remote-flow-v1.hex",
            1,
            (Function<byte[], Object>) Messages::decodeToRemote,
            "remote-lookup message bytes are malformed at offset 2: internal flow format version"
                + " 9 is unknown"),
        Arguments.of(
            "to-remote-flow-v1.hex",
            0,
            (Function<byte[], Object>) Messages::decodeToRemote,
            "remote-lookup message bytes are malformed at offset 1: message type 9 is unknown"),
        Arguments.of(
            "to-aggregate-flow-v1.hex",
            1,
            (Function<byte[], Object>) Messages::decodeToAggregate,
            "aggregation message bytes are malformed at offset 2: internal flow format version 9"
                + " is unknown"),
        Arguments.of(
            "to-aggregate-pending.hex",
            0,
            (Function<byte[], Object>) Messages::decodeToAggregate,
            "aggregation message bytes are malformed at offset 1: message type 9 is unknown"),
        Arguments.of(
            "held-flow-v4.hex",
            0,
            (Function<byte[], Object>) Messages::decodeHeld,
            "held flow bytes are malformed at offset 1: record type 9 is not a held flow"),
        Arguments.of(
            "held-flow-v4.hex",
            3,
            (Function<byte[], Object>) Messages::decodeHeld,
            "held flow bytes are malformed at offset 4: internal flow format version 9 is unknown"),
        Arguments.of(
            "row-v1.hex",
            0,
            (Function<byte[], Object>) Row::decode,
            "aggregate row bytes are malformed at offset 1: row format version 9 is unknown"),
        Arguments.of(
            "dedupe-v2.hex",
            0,
            (Function<byte[], Object>) Dedupe::decode,
            "dedupe entry bytes are malformed at offset 1: dedupe format version 9 is unknown"),
        Arguments.of(
            "connection-end-v1.hex",
            0,
            (Function<byte[], Object>) ConnectionEnds::decode,
            "connection end bytes are malformed at offset 1: connection end format version 9 is"
                + " unknown"),
        Arguments.of(
            "sequence-entry-v1.hex",
            0,
            (Function<byte[], Object>) SequenceTracker::decode,
            "sequence entry bytes are malformed at offset 1: sequence entry format version 9 is"
                + " unknown"));
  }

  @ParameterizedTest(name = "{0}, byte {1} = 9")
  @MethodSource("unknownVersions")
  void shouldRefuseAVersionItDoesNotKnowWithAClearError(
      String fixture, int versionAt, Function<byte[], Object> decode, String message) {
    byte[] bytes = golden(fixture);
    bytes[versionAt] = 9;
    assertThatThrownBy(() -> decode.apply(bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessage(message);
  }

  @Test
  void shouldHaveAFixtureForEveryFormatAndNoStrayOne() throws IOException {
    List<String> listed = formats().map(Format::fixture).sorted().toList();
    // Surefire runs in the module's directory.
    try (Stream<Path> files = Files.list(Path.of("src/test/resources/golden"))) {
      assertThat(files.map(f -> f.getFileName().toString()).sorted().toList())
          .containsExactlyElementsOf(listed);
    }
  }

  // ---- fixtures --------------------------------------------------------------------------------

  /**
   * The bytes of a fixture: hex digits, whitespace ignored, {@code #} starts a comment to the end
   * of the line. Its first line must be a comment saying what it encodes.
   */
  static byte[] golden(String name) {
    try (InputStream in = resource("golden/" + name)) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(text).as("first line of %s", name).startsWith("# ");
      StringBuilder hex = new StringBuilder();
      for (String line : text.split("\n", -1)) {
        int comment = line.indexOf('#');
        hex.append((comment < 0 ? line : line.substring(0, comment)).replaceAll("\\s", ""));
      }
      return HexFormat.of().parseHex(hex);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InputStream resource(String path) {
    InputStream in = InternalFormatsTest.class.getClassLoader().getResourceAsStream(path);
    if (in == null) {
      throw new AssertionError("test resource " + path + " is missing");
    }
    return in;
  }
}
