package io.flowsight.collector.aggregation;

import io.flowsight.codec.Bin;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;

/**
 * An aggregate being built: the sums of one (window, protocol, client IP, server IP, service port,
 * client owner and status, server owner and status). Mutable; kept in the {@code rows} store.
 */
final class Row {

  private static final int VERSION = 1;
  static final int CLIENT_COUNTED = 1;
  static final int SERVER_COUNTED = 2;
  static final int SEEN_BY_BOTH = 4;

  long windowStart;
  Protocol protocol;
  byte[] clientIp;
  byte[] serverIp;
  int servicePort;
  EndAttribution client;
  EndAttribution server;
  int sides;
  long connections;
  long failedConnections;
  long bytesClientToServer;
  long bytesServerToClient;
  long segmentsClientToServer;
  long segmentsServerToClient;
  long retransmits;
  int rttMin = Integer.MAX_VALUE;
  int rttMax;
  long rttSum;
  long rttCount;
  int[] ports = new int[0];
  long portsOverflow;
  long firstSeen = Long.MAX_VALUE;
  long lastSeen = Long.MIN_VALUE;
  long flowRecords;

  static Row start(long windowStart, InternalFlow f) {
    Row r = new Row();
    r.windowStart = windowStart;
    r.protocol = f.protocol();
    r.clientIp = f.clientIp();
    r.serverIp = f.serverIp();
    r.servicePort = f.servicePort();
    r.client = f.client();
    r.server = f.server();
    return r;
  }

  /**
   * Adds a counted flow record. {@code newConnection}: the first record of its connection in this
   * window (connections and the port list count it; a second record of the same connection in the
   * same window adds its counters only).
   */
  void add(InternalFlow f, boolean newConnection, int maxPorts) {
    sides |= f.side() == Side.CLIENT ? CLIENT_COUNTED : SERVER_COUNTED;
    flowRecords++;
    if (f.kind() == FlowKind.FAILED_CONNECT) {
      failedConnections++;
    } else if (newConnection) {
      connections++;
      addPort(f.clientPort(), maxPorts);
    }
    // A CLIENT observer's "sent" is client to server; a SERVER observer's is server to client.
    if (f.side() == Side.CLIENT) {
      bytesClientToServer += f.bytesSent();
      bytesServerToClient += f.bytesReceived();
      segmentsClientToServer += f.segmentsSent();
      segmentsServerToClient += f.segmentsReceived();
    } else {
      bytesServerToClient += f.bytesSent();
      bytesClientToServer += f.bytesReceived();
      segmentsServerToClient += f.segmentsSent();
      segmentsClientToServer += f.segmentsReceived();
    }
    retransmits += f.retransmits();
    if (f.srttMicros() > 0) {
      rttMin = Math.min(rttMin, f.srttMicros());
      rttMax = Math.max(rttMax, f.srttMicros());
      rttSum += f.srttMicros();
      rttCount++;
    }
    firstSeen = Math.min(firstSeen, f.startTime());
    lastSeen = Math.max(lastSeen, f.endTime());
  }

  /** Distinct ports, ascending; once {@code maxPorts} are held, a new port counts as overflow. */
  private void addPort(int port, int maxPorts) {
    if (port <= 0) {
      return; // not known (a connect that failed before the kernel chose the port)
    }
    int at = Arrays.binarySearch(ports, port);
    if (at >= 0) {
      return;
    }
    if (ports.length >= maxPorts) {
      portsOverflow++;
      return;
    }
    int insert = -at - 1;
    int[] next = new int[ports.length + 1];
    System.arraycopy(ports, 0, next, 0, insert);
    next[insert] = port;
    System.arraycopy(ports, insert, next, insert + 1, ports.length - insert);
    ports = next;
  }

  void markSeenByBoth() {
    sides |= SEEN_BY_BOTH;
  }

  ObservedBy observedBy() {
    if ((sides & SEEN_BY_BOTH) != 0 || (sides & 3) == 3) {
      return ObservedBy.BOTH;
    }
    return (sides & CLIENT_COUNTED) != 0 ? ObservedBy.CLIENT : ObservedBy.SERVER;
  }

  FlowAggregate toAggregate(long windowSize) {
    List<Integer> portList = new ArrayList<>(ports.length);
    for (int p : ports) {
      portList.add(p);
    }
    return new FlowAggregate(
        windowStart,
        windowStart + windowSize,
        protocol,
        IpAddresses.family(clientIp),
        IpAddresses.toText(clientIp),
        IpAddresses.toText(serverIp),
        servicePort,
        client.owner(),
        client.status(),
        server.owner(),
        server.status(),
        observedBy(),
        connections,
        failedConnections,
        bytesClientToServer,
        bytesServerToClient,
        segmentsClientToServer,
        segmentsServerToClient,
        retransmits,
        rttCount == 0 ? null : rttMin,
        rttCount == 0 ? null : rttMax,
        rttSum,
        rttCount,
        portList,
        portsOverflow,
        firstSeen,
        lastSeen,
        flowRecords);
  }

  // ---- keys ------------------------------------------------------------------------------------

  /** {@code long8 windowStart | aggregation key UTF-8}: the window's rows of one 4-tuple. */
  static Bytes windowKey(long windowStart, String aggregationKey) {
    byte[] k = aggregationKey.getBytes(StandardCharsets.UTF_8);
    byte[] key = new byte[8 + k.length];
    Bin.putLong8(key, 0, windowStart);
    System.arraycopy(k, 0, key, 8, k.length);
    return Bytes.wrap(key);
  }

  /**
   * {@code long8 windowStart | aggregation key | 0x00 | long8 client fingerprint | long8 server
   * fingerprint}. Window first, so the rows of the windows due are one range scan.
   */
  static Bytes rowKey(long windowStart, String aggregationKey, long clientFp, long serverFp) {
    byte[] k = aggregationKey.getBytes(StandardCharsets.UTF_8);
    byte[] key = new byte[8 + k.length + 1 + 16];
    Bin.putLong8(key, 0, windowStart);
    System.arraycopy(k, 0, key, 8, k.length);
    key[8 + k.length] = 0;
    Bin.putLong8(key, 9 + k.length, clientFp);
    Bin.putLong8(key, 17 + k.length, serverFp);
    return Bytes.wrap(key);
  }

  /** The smallest key of a window after {@code windowStart}'s: the end of a due-range scan. */
  static Bytes windowsBefore(long windowStartExclusive) {
    byte[] key = new byte[8];
    Bin.putLong8(key, 0, windowStartExclusive);
    return Bytes.wrap(key);
  }

  static long windowOf(Bytes key) {
    return Bin.getLong8(key.get(), 0);
  }

  /** The aggregation key inside a row or window key. */
  static String aggregationKeyOf(Bytes key, boolean rowKey) {
    byte[] k = key.get();
    int end = rowKey ? k.length - 17 : k.length;
    return new String(k, 8, end - 8, StandardCharsets.UTF_8);
  }

  // ---- encoding --------------------------------------------------------------------------------

  static Serde<Row> serde() {
    return Serdes.serdeFrom(
        (Serializer<Row>) (topic, r) -> r == null ? null : r.encode(),
        (Deserializer<Row>) (topic, b) -> b == null ? null : decode(b));
  }

  byte[] encode() {
    Bin.Out out = new Bin.Out(160 + ports.length * 3);
    out.u8(VERSION)
        .zlong(windowStart)
        .u8(protocol.ordinal())
        .bytes(clientIp)
        .bytes(serverIp)
        .uvarint(servicePort);
    client.writeTo(out);
    server.writeTo(out);
    out.u8(sides)
        .uvarint(connections)
        .uvarint(failedConnections)
        .uvarint(bytesClientToServer)
        .uvarint(bytesServerToClient)
        .uvarint(segmentsClientToServer)
        .uvarint(segmentsServerToClient)
        .uvarint(retransmits)
        .uvarint(rttCount);
    if (rttCount > 0) {
      out.uvarint(rttMin).uvarint(rttMax).uvarint(rttSum);
    }
    out.uvarint(ports.length);
    int previous = 0;
    for (int p : ports) {
      out.uvarint(p - previous);
      previous = p;
    }
    out.uvarint(portsOverflow).zlong(firstSeen).zlong(lastSeen - firstSeen).uvarint(flowRecords);
    return out.toByteArray();
  }

  static Row decode(byte[] bytes) {
    Bin.In in = new Bin.In(bytes, "aggregate row");
    int version = in.u8();
    if (version != VERSION) {
      throw in.malformed("row format version " + version + " is unknown");
    }
    Row r = new Row();
    r.windowStart = in.zlong();
    int protocol = in.u8();
    if (protocol >= Protocol.values().length) {
      throw in.malformed("protocol " + protocol + " is unknown");
    }
    r.protocol = Protocol.values()[protocol];
    r.clientIp = in.bytes();
    r.serverIp = in.bytes();
    r.servicePort = in.uint();
    r.client = EndAttribution.readNullable(in);
    r.server = EndAttribution.readNullable(in);
    r.sides = in.u8();
    r.connections = in.uvarint();
    r.failedConnections = in.uvarint();
    r.bytesClientToServer = in.uvarint();
    r.bytesServerToClient = in.uvarint();
    r.segmentsClientToServer = in.uvarint();
    r.segmentsServerToClient = in.uvarint();
    r.retransmits = in.uvarint();
    r.rttCount = in.uvarint();
    if (r.rttCount > 0) {
      r.rttMin = in.uint();
      r.rttMax = in.uint();
      r.rttSum = in.uvarint();
    }
    int n = in.uint();
    if (n > in.remaining()) {
      throw in.malformed("a port count of " + n + " exceeds the bytes left");
    }
    r.ports = new int[n];
    int previous = 0;
    for (int i = 0; i < n; i++) {
      previous += in.uint();
      r.ports[i] = previous;
    }
    r.portsOverflow = in.uvarint();
    r.firstSeen = in.zlong();
    r.lastSeen = r.firstSeen + in.zlong();
    r.flowRecords = in.uvarint();
    in.end();
    return r;
  }
}
