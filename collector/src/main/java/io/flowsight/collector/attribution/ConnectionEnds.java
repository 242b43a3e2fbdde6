package io.flowsight.collector.attribution;

import io.flowsight.codec.Bin;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.InternalFlow;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * What the attribution side knows per connection, in the {@value AttributionState#CONNECTIONS}
 * store of the task that owns an IP:
 *
 * <ul>
 *   <li>the <b>label</b> a sidecar gave its own end of a connection (its record's localIdentity),
 *       written where its local IP is attributed. The other end's record of the same connection
 *       looks its remote IP up in that very task, and takes this label: first-hand, for exactly
 *       this connection, better than any history;
 *   <li>the <b>ends decided</b> from the histories for one observer's connection (its 5-tuple, side
 *       and connectionStartTime), so that every later record of a long-lived connection (INTERIM,
 *       CLOSED) keeps the owners decided for its start, in every window, even once the histories no
 *       longer hold that start.
 * </ul>
 *
 * <p>Key: {@link InternalFlow#connectionKey} (protocol, client IP and port, server IP, service
 * port), u8 side of the record, long8 connectionStartTime (epoch ms, big-endian), u8 kind (0 label,
 * 1 local end decided, 2 remote end decided). Value: u8 version 1, zlong when it was last written
 * (wall clock, epoch ms), the {@link EndAttribution}. Entries not written for {@code retention} are
 * dropped by {@link #forgetOlderThan}: every record of a connection renews its entries, and a
 * sidecar reports an open connection at least every interim interval.
 */
final class ConnectionEnds {

  private static final int LABEL = 0;
  private static final int VERSION = 1;

  private final KeyValueStore<Bytes, byte[]> store;

  ConnectionEnds(KeyValueStore<Bytes, byte[]> store) {
    this.store = store;
  }

  /** The sidecar's own label for the local end of {@code flow}. */
  void putLabel(InternalFlow flow, EndAttribution label, long now) {
    store.put(key(flow, LABEL), value(label, now));
  }

  /**
   * The label the other side's sidecar gave its end of this connection (this flow's remote end):
   * the other side's record with a connectionStartTime at most {@code toleranceMs} from this one's
   * (the client's start is its SYN, the server's the handshake's end, on two hosts' clocks); the
   * nearest when there are several. Null when the other side has not reported it.
   */
  EndAttribution otherSideLabel(InternalFlow flow, long toleranceMs) {
    Bytes prefix = flow.connectionKey();
    int sideAt = prefix.get().length;
    EndAttribution best = null;
    long bestDistance = Long.MAX_VALUE;
    try (KeyValueIterator<Bytes, byte[]> it =
        store.prefixScan(prefix, Serdes.Bytes().serializer())) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> e = it.next();
        byte[] k = e.key.get();
        if (k.length != sideAt + 10 || k[sideAt + 9] != LABEL) {
          continue;
        }
        if ((k[sideAt] & 0xff) == flow.side().ordinal()) {
          continue; // this side's own label
        }
        long distance = Math.abs(Bin.getLong8(k, sideAt + 1) - flow.connectionStartTime());
        if (distance <= toleranceMs && distance < bestDistance) {
          best = decode(e.value);
          bestDistance = distance;
        }
      }
    }
    return best;
  }

  /** The end of this observer's connection decided earlier, or null. */
  EndAttribution decided(InternalFlow flow, End end) {
    byte[] v = store.get(key(flow, kind(end)));
    return v == null ? null : decode(v);
  }

  /** Keeps a decided end for the connection's later records. */
  void putDecided(InternalFlow flow, End end, EndAttribution attribution, long now) {
    store.put(key(flow, kind(end)), value(attribution, now));
  }

  /** Drops the entries last written before {@code cutoff} (wall clock, epoch ms). */
  int forgetOlderThan(long cutoff) {
    List<Bytes> old = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> e = it.next();
        Bin.In in = new Bin.In(e.value, "connection end");
        in.u8();
        if (in.zlong() < cutoff) {
          old.add(e.key);
        }
      }
    }
    old.forEach(store::delete);
    return old.size();
  }

  private static int kind(End end) {
    return end == End.LOCAL ? 1 : 2;
  }

  static Bytes key(InternalFlow flow, int kind) {
    byte[] connection = flow.connectionKey().get();
    byte[] key = new byte[connection.length + 10];
    System.arraycopy(connection, 0, key, 0, connection.length);
    key[connection.length] = (byte) flow.side().ordinal();
    Bin.putLong8(key, connection.length + 1, flow.connectionStartTime());
    key[connection.length + 9] = (byte) kind;
    return Bytes.wrap(key);
  }

  static byte[] value(EndAttribution attribution, long now) {
    Bin.Out out = new Bin.Out(64);
    out.u8(VERSION).zlong(now);
    attribution.writeTo(out);
    return out.toByteArray();
  }

  static EndAttribution decode(byte[] bytes) {
    Bin.In in = new Bin.In(bytes, "connection end");
    int version = in.u8();
    if (version != VERSION) {
      throw in.malformed("connection end format version " + version + " is unknown");
    }
    in.zlong();
    EndAttribution a = EndAttribution.readNullable(in);
    in.end();
    if (a == null) {
      throw in.malformed("a connection end without an attribution");
    }
    return a;
  }
}
