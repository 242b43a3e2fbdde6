package io.flowsight.collector.wire;

import static io.flowsight.collector.wire.FormatFixtures.T0;
import static io.flowsight.collector.wire.FormatFixtures.assertFlow;
import static io.flowsight.collector.wire.FormatFixtures.bareFlow;
import static io.flowsight.collector.wire.FormatFixtures.fullFlow;
import static io.flowsight.collector.wire.FormatFixtures.golden;
import static io.flowsight.collector.wire.FormatFixtures.unattributedFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.wire.FormatFixtures.Format;
import io.flowsight.collector.wire.Messages.CidrChange;
import io.flowsight.collector.wire.Messages.FlowToAggregate;
import io.flowsight.collector.wire.Messages.FlowToRemote;
import io.flowsight.collector.wire.Messages.Pending;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The messages of the repartition topics between the attribution and the aggregation ({@link
 * Messages}, with the {@link InternalFlow} and {@link EndAttribution} they carry) and the
 * connection key both sub-topologies' stores use, pinned byte for byte against the fixtures in
 * {@code golden/wire/} (the contract: see {@link FormatFixtures}).
 */
class WireFormatsTest {

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

  static Stream<Format> formats() {
    return Stream.of(
        // -- remote-lookup repartition topic (Messages.ToRemote) --
        new Format(
            "wire/to-remote-flow-v1.hex",
            () -> Messages.encode(new FlowToRemote(fullFlow())),
            b -> assertFlow(((FlowToRemote) Messages.decodeToRemote(b)).flow(), fullFlow())),
        new Format(
            "wire/to-remote-flow-v1-unattributed.hex",
            () -> Messages.encode(new FlowToRemote(bareFlow())),
            b -> assertFlow(((FlowToRemote) Messages.decodeToRemote(b)).flow(), bareFlow())),
        new Format(
            "wire/to-remote-cidr-change-v1.hex",
            () -> Messages.encode(new CidrChange(fullCidrChange())),
            b -> assertCidrChange(((CidrChange) Messages.decodeToRemote(b)).change(), true)),
        new Format(
            "wire/to-remote-cidr-change-v1-sparse.hex",
            () -> Messages.encode(new CidrChange(sparseCidrChange())),
            b -> assertCidrChange(((CidrChange) Messages.decodeToRemote(b)).change(), false)),
        // -- aggregation repartition topic (Messages.ToAggregate) --
        new Format(
            "wire/to-aggregate-flow-v1.hex",
            () -> Messages.encode(new FlowToAggregate(fullFlow())),
            b -> assertFlow(((FlowToAggregate) Messages.decodeToAggregate(b)).flow(), fullFlow())),
        new Format(
            "wire/to-aggregate-flow-v1-unattributed.hex",
            () -> Messages.encode(new FlowToAggregate(unattributedFlow())),
            b ->
                assertFlow(
                    ((FlowToAggregate) Messages.decodeToAggregate(b)).flow(), unattributedFlow())),
        new Format(
            "wire/to-aggregate-pending.hex",
            () -> Messages.encode(new Pending(T0, T0 + 180_000)),
            b ->
                assertThat(Messages.decodeToAggregate(b)).isEqualTo(new Pending(T0, T0 + 180_000))),
        // -- the dedupe store's key, the prefix of the connections store's keys --
        new Format(
            "wire/connection-key.hex",
            () -> fullFlow().connectionKey().get(),
            b -> assertThat(b).isEqualTo(fullFlow().connectionKey().get())));
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
        golden(
            full
                ? "wire/to-remote-cidr-change-v1.hex"
                : "wire/to-remote-cidr-change-v1-sparse.hex");
    assertThat(Messages.avro(actual)).isEqualTo(Arrays.copyOfRange(fixture, 1, fixture.length));
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
            "wire/to-remote-flow-v1.hex",
            1,
            (Function<byte[], Object>) Messages::decodeToRemote,
            "remote-lookup message bytes are malformed at offset 2: internal flow format version"
                + " 9 is unknown"),
        Arguments.of(
            "wire/to-remote-flow-v1.hex",
            0,
            (Function<byte[], Object>) Messages::decodeToRemote,
            "remote-lookup message bytes are malformed at offset 1: message type 9 is unknown"),
        Arguments.of(
            "wire/to-aggregate-flow-v1.hex",
            1,
            (Function<byte[], Object>) Messages::decodeToAggregate,
            "aggregation message bytes are malformed at offset 2: internal flow format version 9"
                + " is unknown"),
        Arguments.of(
            "wire/to-aggregate-pending.hex",
            0,
            (Function<byte[], Object>) Messages::decodeToAggregate,
            "aggregation message bytes are malformed at offset 1: message type 9 is unknown"));
  }

  @ParameterizedTest(name = "{0}, byte {1} = 9")
  @MethodSource("unknownVersions")
  void shouldRefuseAVersionItDoesNotKnowWithAClearError(
      String fixture, int versionAt, Function<byte[], Object> decode, String message) {
    FormatFixtures.assertRefusesAnUnknownVersion(fixture, versionAt, decode, message);
  }

  @Test
  void shouldHaveAFixtureForEveryFormatAndNoStrayOne() throws IOException {
    FormatFixtures.assertFixturesAreExactly("wire", formats());
  }
}
