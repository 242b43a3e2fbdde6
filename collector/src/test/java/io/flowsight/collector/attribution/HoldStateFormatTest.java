package io.flowsight.collector.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.output.Owner;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.util.HexFormat;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.junit.jupiter.api.Test;

/**
 * The persisted forms the settle delay added (held flows waiting to settle, the {@code connections}
 * store's entries), pinned byte for byte: they live in changelog topics, so a change must keep
 * reading what is there. And the evidence clock the settle delay is measured on.
 */
class HoldStateFormatTest {

  private static final Owner PAYMENTS =
      new Owner(
          "payments",
          "prod-east",
          "shop",
          "Deployment",
          "payments",
          "us-east-1a",
          "us-east-1",
          "123456789012");

  private static InternalFlow flow() {
    return new InternalFlow(
        2,
        1234,
        1_764_000_000_200L,
        FlowKind.CLOSED,
        Protocol.TCP,
        Side.CLIENT,
        new byte[] {10, 1, 0, 1},
        40001,
        new byte[] {10, 2, 0, 8},
        443,
        443,
        1_764_000_000_000L,
        1_764_000_000_000L,
        1_764_000_000_100L,
        100,
        1000,
        3,
        4,
        0,
        250,
        new EndAttribution(AttributionStatus.OWNER, PAYMENTS),
        null,
        1_764_000_120_000L,
        false);
  }

  @Test
  void shouldKeepReadingHeldFlowsOfBothTypes() {
    HeldFlow waitingForOwner = new HeldFlow(flow(), End.REMOTE, AttributionStatus.GAP);
    HeldFlow settling =
        new HeldFlow(flow(), End.REMOTE, AttributionStatus.OWNER, 1_764_000_035_000L);

    byte[] v4 = HeldFlow.encode(waitingForOwner);
    byte[] v5 = HeldFlow.encode(settling);

    // Type 4 (held for an owner): the layout before the settle delay, unchanged.
    assertThat(v4[0]).isEqualTo((byte) 4);
    // type 4, end REMOTE (1), reason GAP (its ordinal)
    assertThat(HexFormat.of().formatHex(v4, 0, 3))
        .isEqualTo("0401" + HexFormat.of().toHexDigits((byte) AttributionStatus.GAP.ordinal()));
    // Type 5: the same, with the settle time (zigzag varint) before the flow.
    assertThat(v5[0]).isEqualTo((byte) 5);
    assertThat(v5.length).isGreaterThan(v4.length);
    assertThat(java.util.Arrays.copyOfRange(v5, v5.length - (v4.length - 3), v5.length))
        .isEqualTo(java.util.Arrays.copyOfRange(v4, 3, v4.length));

    // (The flow holds byte arrays: compared by its encoding.)
    HeldFlow read4 = HeldFlow.decode(v4);
    assertThat(HeldFlow.encode(read4)).isEqualTo(v4);
    assertThat(read4.settling()).isFalse();
    assertThat(read4.reason()).isEqualTo(AttributionStatus.GAP);
    HeldFlow read5 = HeldFlow.decode(v5);
    assertThat(HeldFlow.encode(read5)).isEqualTo(v5);
    assertThat(read5.settleAt()).isEqualTo(1_764_000_035_000L);
    assertThat(read5.waitingFor()).isEqualTo(End.REMOTE);
    assertThat(read5.flow().connectionStartTime()).isEqualTo(1_764_000_000_000L);
  }

  @Test
  void shouldPinTheConnectionEntryLayout() {
    byte[] key = ConnectionEnds.key(flow(), 2).get();
    // protocol, 4-byte client IP, client port, 4-byte server IP, service port; side, start, kind
    assertThat(HexFormat.of().formatHex(key))
        .isEqualTo(
            "00"
                + "040a010001"
                + "9c41"
                + "040a020008"
                + "01bb"
                + "00"
                + "0000019ab697e800"
                + "02");
    byte[] value = ConnectionEnds.value(new EndAttribution(AttributionStatus.OWNER, PAYMENTS), 5);
    assertThat(HexFormat.of().formatHex(value, 0, 3)).isEqualTo("010a00");
    assertThat(ConnectionEnds.decode(value))
        .isEqualTo(new EndAttribution(AttributionStatus.OWNER, PAYMENTS));
    byte[] unattributed = ConnectionEnds.value(new EndAttribution(AttributionStatus.GAP, null), 5);
    assertThat(HexFormat.of().formatHex(unattributed))
        .isEqualTo("010a" + HexFormat.of().toHexDigits((byte) AttributionStatus.GAP.ordinal()));
  }

  @Test
  void shouldFollowTheRecordsReadAndTheWallClockWhileIdle() {
    MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
    EvidenceClock clock = new EvidenceClock();

    context.setCurrentSystemTimeMs(100_000);
    context.setCurrentStreamTimeMs(40_000); // a backlog: the records read are a minute old
    assertThat(clock.now(context)).isEqualTo(40_000);
    context.setCurrentSystemTimeMs(101_000);
    context.setCurrentStreamTimeMs(45_000);
    assertThat(clock.now(context)).isEqualTo(45_000);
    // Idle: it moves with the wall clock...
    context.setCurrentSystemTimeMs(103_000);
    assertThat(clock.now(context)).isEqualTo(47_000);
    // ...and never past it.
    context.setCurrentSystemTimeMs(500_000);
    assertThat(clock.now(context)).isEqualTo(444_000);
    context.setCurrentStreamTimeMs(600_000);
    assertThat(clock.now(context)).isEqualTo(500_000);
  }
}
