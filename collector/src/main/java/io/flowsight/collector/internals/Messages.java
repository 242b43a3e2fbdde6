package io.flowsight.collector.internals;

import io.flowsight.codec.Bin;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.IpIdentityChange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The values of the collector's internal topics and stores, and their serdes. Each encoding starts
 * with a type byte (where there are several kinds) and the layout version of its payload.
 */
public final class Messages {

  private Messages() {}

  /** Which end of a flow a held flow waits for. */
  public enum End {
    LOCAL,
    REMOTE
  }

  /** A value of the remote-lookup repartition topic (keyed by the remote IP's text). */
  public sealed interface ToRemote permits FlowToRemote, CidrChange {}

  /** A flow whose local end is attributed; its remote end is looked up next. */
  public record FlowToRemote(InternalFlow flow) implements ToRemote {}

  /**
   * A CIDR block's change event, sent to every partition (a block covers IPs of all partitions),
   * where each task adds it to its copy of the CIDR tables.
   */
  public record CidrChange(IpIdentityChange change) implements ToRemote {}

  /** A value of the aggregation repartition topic (keyed by the aggregation key). */
  public sealed interface ToAggregate permits FlowToAggregate, Pending {}

  /** A flow with both ends attributed (or given up on, with the reason). */
  public record FlowToAggregate(InternalFlow flow) implements ToAggregate {}

  /**
   * A flow of this aggregation key and window is held back until {@code deadline} (wall clock,
   * epoch ms): the window must wait for it. Sent once per held flow; the flow itself, when it
   * comes, says it was held ({@link InternalFlow#wasHeld()}) and settles it.
   */
  public record Pending(long windowStart, long deadline) implements ToAggregate {}

  /**
   * A flow held back, waiting for the owner of one of its ends.
   *
   * @param reason why: the lookup's answer when it was held (NEVER_SEEN, GAP; for a flow waiting to
   *     settle, whatever the history answered then)
   * @param settleAt evidence-clock time (epoch ms) from which the end may be decided; 0 once it is
   *     settled and the flow only waits for an unknown owner
   */
  public record HeldFlow(
      InternalFlow flow, End waitingFor, AttributionStatus reason, long settleAt) {
    public HeldFlow(InternalFlow flow, End waitingFor, AttributionStatus reason) {
      this(flow, waitingFor, reason, 0);
    }

    /** Whether the flow waits for the settle delay (rather than for an unknown owner). */
    public boolean settling() {
      return settleAt != 0;
    }
  }

  private static final int FLOW = 1;
  private static final int CIDR = 2;
  private static final int PENDING = 3;
  private static final int HELD = 4;
  private static final int HELD_SETTLING = 5;

  // ---- serdes ---------------------------------------------------------------------------------

  public static Serde<ToRemote> toRemoteSerde() {
    return Serdes.serdeFrom(
        (Serializer<ToRemote>) (topic, m) -> m == null ? null : encode(m),
        (Deserializer<ToRemote>) (topic, b) -> b == null ? null : decodeToRemote(b));
  }

  public static Serde<ToAggregate> toAggregateSerde() {
    return Serdes.serdeFrom(
        (Serializer<ToAggregate>) (topic, m) -> m == null ? null : encode(m),
        (Deserializer<ToAggregate>) (topic, b) -> b == null ? null : decodeToAggregate(b));
  }

  public static Serde<HeldFlow> heldFlowSerde() {
    return Serdes.serdeFrom(
        (Serializer<HeldFlow>) (topic, m) -> m == null ? null : encode(m),
        (Deserializer<HeldFlow>) (topic, b) -> b == null ? null : decodeHeld(b));
  }

  static byte[] encode(ToRemote m) {
    Bin.Out out = new Bin.Out(256);
    if (m instanceof FlowToRemote f) {
      out.u8(FLOW);
      f.flow().writeTo(out);
    } else if (m instanceof CidrChange c) {
      out.u8(CIDR);
      out.raw(avro(c.change()));
    }
    return out.toByteArray();
  }

  static ToRemote decodeToRemote(byte[] b) {
    Bin.In in = new Bin.In(b, "remote-lookup message");
    int type = in.u8();
    if (type == FLOW) {
      InternalFlow flow = InternalFlow.readFrom(in);
      in.end();
      return new FlowToRemote(flow);
    }
    if (type == CIDR) {
      return new CidrChange(fromAvro(b, 1));
    }
    throw in.malformed("message type " + type + " is unknown");
  }

  static byte[] encode(ToAggregate m) {
    Bin.Out out = new Bin.Out(256);
    if (m instanceof FlowToAggregate f) {
      out.u8(FLOW);
      f.flow().writeTo(out);
    } else if (m instanceof Pending p) {
      out.u8(PENDING).zlong(p.windowStart()).zlong(p.deadline());
    }
    return out.toByteArray();
  }

  static ToAggregate decodeToAggregate(byte[] b) {
    Bin.In in = new Bin.In(b, "aggregation message");
    int type = in.u8();
    ToAggregate m;
    if (type == FLOW) {
      m = new FlowToAggregate(InternalFlow.readFrom(in));
    } else if (type == PENDING) {
      m = new Pending(in.zlong(), in.zlong());
    } else {
      throw in.malformed("message type " + type + " is unknown");
    }
    in.end();
    return m;
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

  static HeldFlow decodeHeld(byte[] b) {
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

  /** Avro single-object encoding of the generated class (schema fingerprint, then the body). */
  static byte[] avro(IpIdentityChange change) {
    try {
      ByteBuffer buffer = change.toByteBuffer();
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static IpIdentityChange fromAvro(byte[] bytes, int offset) {
    try {
      return IpIdentityChange.fromByteBuffer(
          ByteBuffer.wrap(bytes, offset, bytes.length - offset).slice());
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("a stored IpIdentityChange does not decode: " + e, e);
    }
  }
}
