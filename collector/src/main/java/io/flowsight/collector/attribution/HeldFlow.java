package io.flowsight.collector.attribution;

import io.flowsight.codec.Bin;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.collector.wire.Messages;
import io.flowsight.schemas.AttributionStatus;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A flow held back, waiting for the owner of one of its ends: the value of the {@value
 * AttributionState#HELD} store.
 *
 * @param reason why: the lookup's answer when it was held (NEVER_SEEN, GAP; for a flow waiting to
 *     settle, whatever the history answered then)
 * @param settleAt evidence-clock time (epoch ms) from which the end may be decided; 0 once it is
 *     settled and the flow only waits for an unknown owner
 */
record HeldFlow(InternalFlow flow, End waitingFor, AttributionStatus reason, long settleAt) {

  /**
   * Record types, numbered after the repartition topics' message types (1 to 3, {@link Messages})
   * so that no byte means two things.
   */
  private static final int HELD = 4;

  private static final int HELD_SETTLING = 5;

  /** The reason label of the held-flow metrics for a flow waiting for the settle delay. */
  private static final String SETTLING = "SETTLING";

  HeldFlow(InternalFlow flow, End waitingFor, AttributionStatus reason) {
    this(flow, waitingFor, reason, 0);
  }

  /** Whether the flow waits for the settle delay (rather than for an unknown owner). */
  boolean settling() {
    return settleAt != 0;
  }

  /** The reason label of the held-flow metrics: SETTLING, or the unknown owner's status. */
  String metricsReason() {
    return settling() ? SETTLING : reason.name();
  }

  static Serde<HeldFlow> serde() {
    return Serdes.serdeFrom(
        (Serializer<HeldFlow>) (topic, m) -> m == null ? null : encode(m),
        (Deserializer<HeldFlow>) (topic, b) -> b == null ? null : decode(b));
  }

  /**
   * Layout: u8 type (4: held for an owner; 5: waiting to settle), u8 end (0 LOCAL, 1 REMOTE), u8
   * reason (AttributionStatus ordinal), [type 5: zlong settleAt, epoch ms], the flow ({@link
   * InternalFlow#writeTo}).
   */
  static byte[] encode(HeldFlow h) {
    Bin.Out out = new Bin.Out(256);
    out.u8(h.settling() ? HELD_SETTLING : HELD)
        .u8(h.waitingFor().ordinal())
        .u8(h.reason().ordinal());
    if (h.settling()) {
      out.zlong(h.settleAt());
    }
    h.flow().writeTo(out);
    return out.toByteArray();
  }

  static HeldFlow decode(byte[] b) {
    Bin.In in = new Bin.In(b, "held flow");
    int type = in.u8();
    if (type != HELD && type != HELD_SETTLING) {
      throw in.malformed("record type " + type + " is not a held flow");
    }
    int end = in.u8();
    int reason = in.u8();
    if (end >= End.values().length || reason >= AttributionStatus.values().length) {
      throw in.malformed("end " + end + " or reason " + reason + " is unknown");
    }
    long settleAt = type == HELD_SETTLING ? in.zlong() : 0;
    InternalFlow flow = InternalFlow.readFrom(in);
    in.end();
    return new HeldFlow(flow, End.values()[end], AttributionStatus.values()[reason], settleAt);
  }
}
