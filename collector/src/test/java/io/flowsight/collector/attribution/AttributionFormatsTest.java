package io.flowsight.collector.attribution;

import static io.flowsight.collector.wire.FormatFixtures.PAYMENTS;
import static io.flowsight.collector.wire.FormatFixtures.T0;
import static io.flowsight.collector.wire.FormatFixtures.assertFlow;
import static io.flowsight.collector.wire.FormatFixtures.bareFlow;
import static io.flowsight.collector.wire.FormatFixtures.fullFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.codec.Bin;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.FormatFixtures;
import io.flowsight.collector.wire.FormatFixtures.Format;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.Side;
import java.io.IOException;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The values (and keys) of the attribution's stores ({@code held}, {@code connections}, {@code
 * sequences}), pinned byte for byte against the fixtures in {@code golden/attribution/} (the
 * contract: see {@link FormatFixtures}).
 */
class AttributionFormatsTest {

  static HeldFlow heldForOwner() {
    return new HeldFlow(fullFlow().withRemote(null), End.REMOTE, AttributionStatus.GAP);
  }

  static HeldFlow heldToSettle() {
    return new HeldFlow(bareFlow(), End.LOCAL, AttributionStatus.NEVER_SEEN, T0 + 37_000);
  }

  static Stream<Format> formats() {
    return Stream.of(
        // -- held store (HeldFlow) --
        new Format(
            "attribution/held-flow-v4.hex",
            () -> HeldFlow.encode(heldForOwner()),
            b -> assertHeld(HeldFlow.decode(b), heldForOwner())),
        new Format(
            "attribution/held-flow-v5.hex",
            () -> HeldFlow.encode(heldToSettle()),
            b -> assertHeld(HeldFlow.decode(b), heldToSettle())),
        // -- connections store (ConnectionEnds) --
        new Format(
            "attribution/connection-end-v1.hex",
            () ->
                ConnectionEnds.value(
                    new EndAttribution(AttributionStatus.OWNER, PAYMENTS), T0 + 60_500),
            b -> {
              assertThat(ConnectionEnds.decode(b))
                  .isEqualTo(new EndAttribution(AttributionStatus.OWNER, PAYMENTS));
              assertThat(writtenAt(b)).isEqualTo(T0 + 60_500);
            }),
        new Format(
            "attribution/connection-end-v1-unattributed.hex",
            () -> ConnectionEnds.value(new EndAttribution(AttributionStatus.GAP, null), T0),
            b -> {
              assertThat(ConnectionEnds.decode(b))
                  .isEqualTo(new EndAttribution(AttributionStatus.GAP, null));
              assertThat(writtenAt(b)).isEqualTo(T0);
            }),
        new Format(
            "attribution/connection-end-key.hex",
            () -> ConnectionEnds.key(fullFlow(), 2).get(),
            b -> {
              // What otherSideLabel reads back: side, start and kind after the 5-tuple.
              int at = fullFlow().connectionKey().get().length;
              assertThat(b).hasSize(at + 10);
              assertThat(b[at]).isEqualTo((byte) Side.SERVER.ordinal());
              assertThat(Bin.getLong8(b, at + 1)).isEqualTo(T0 + 1_000);
              assertThat(b[at + 9]).isEqualTo((byte) 2);
            }),
        // -- sequences store (SequenceTracker) --
        new Format(
            "attribution/sequence-entry-v1.hex",
            () -> SequenceTracker.encode(41_999, T0 + 60_500),
            b -> assertThat(SequenceTracker.decode(b)).containsExactly(41_999, T0 + 60_500)));
  }

  static void assertHeld(HeldFlow actual, HeldFlow expected) {
    assertThat(actual.waitingFor()).isEqualTo(expected.waitingFor());
    assertThat(actual.reason()).isEqualTo(expected.reason());
    assertThat(actual.settleAt()).isEqualTo(expected.settleAt());
    assertThat(actual.settling()).isEqualTo(expected.settling());
    assertFlow(actual.flow(), expected.flow());
  }

  /** The write time a connection end carries (read by the sweep only). */
  static long writtenAt(byte[] value) {
    Bin.In in = new Bin.In(value, "connection end");
    in.u8();
    return in.zlong();
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
            "attribution/held-flow-v4.hex",
            0,
            (Function<byte[], Object>) HeldFlow::decode,
            "held flow bytes are malformed at offset 1: record type 9 is not a held flow"),
        Arguments.of(
            "attribution/held-flow-v4.hex",
            3,
            (Function<byte[], Object>) HeldFlow::decode,
            "held flow bytes are malformed at offset 4: internal flow format version 9 is unknown"),
        Arguments.of(
            "attribution/connection-end-v1.hex",
            0,
            (Function<byte[], Object>) ConnectionEnds::decode,
            "connection end bytes are malformed at offset 1: connection end format version 9 is"
                + " unknown"),
        Arguments.of(
            "attribution/sequence-entry-v1.hex",
            0,
            (Function<byte[], Object>) SequenceTracker::decode,
            "sequence entry bytes are malformed at offset 1: sequence entry format version 9 is"
                + " unknown"));
  }

  @ParameterizedTest(name = "{0}, byte {1} = 9")
  @MethodSource("unknownVersions")
  void shouldRefuseAVersionItDoesNotKnowWithAClearError(
      String fixture, int versionAt, Function<byte[], Object> decode, String message) {
    FormatFixtures.assertRefusesAnUnknownVersion(fixture, versionAt, decode, message);
  }

  @Test
  void shouldHaveAFixtureForEveryFormatAndNoStrayOne() throws IOException {
    FormatFixtures.assertFixturesAreExactly("attribution", formats());
  }
}
