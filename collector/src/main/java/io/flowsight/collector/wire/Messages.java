package io.flowsight.collector.wire;

import io.flowsight.codec.Bin;
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
 * The values of the collector's repartition topics between the attribution and the aggregation, and
 * their serdes. Each encoding starts with a type byte and the layout version of its payload.
 */
public final class Messages {

  private Messages() {}

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

  private static final int FLOW = 1;
  private static final int CIDR = 2;
  private static final int PENDING = 3;

  // 4 and 5 are the held store's record types (see the attribution's HeldFlow): kept apart.

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
   * Avro single-object encoding of the generated class (schema fingerprint, then the body): the
   * payload of a {@link CidrChange}, and what the attribution keeps of it in its {@code cidr}
   * store.
   */
  public static byte[] avro(IpIdentityChange change) {
    try {
      ByteBuffer buffer = change.toByteBuffer();
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Decodes {@link #avro}'s bytes, from {@code offset} on. */
  public static IpIdentityChange fromAvro(byte[] bytes, int offset) {
    try {
      return IpIdentityChange.fromByteBuffer(
          ByteBuffer.wrap(bytes, offset, bytes.length - offset).slice());
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("a stored IpIdentityChange does not decode: " + e, e);
    }
  }
}
