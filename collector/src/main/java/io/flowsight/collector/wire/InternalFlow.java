package io.flowsight.collector.wire;

import io.flowsight.codec.Bin;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import org.apache.kafka.common.utils.Bytes;

/**
 * A flow record on its way through the collector: the facts of the raw {@link FlowRecord} the
 * aggregates need (identities reduced to {@link Owner}s), where it came from, and the attribution
 * of each end as far as it got.
 *
 * @param originPartition partition of the raw record in the flows topic
 * @param originOffset offset of the raw record: with the partition, the flow's unique id (the key
 *     of a held flow, the same again when a restart replays the record)
 * @param sourceTimestamp the raw record's Kafka timestamp (when the sidecar produced it), epoch ms
 * @param local attribution of the local end, null until attributed
 * @param remote attribution of the remote end, null until attributed
 * @param holdDeadline wall-clock time (epoch ms) when holding this flow back ends; 0 when it was
 *     never held
 * @param pendingAnnounced whether the aggregation side was told that this flow is held back (so
 *     that it keeps the flow's window open for it)
 */
public record InternalFlow(
    int originPartition,
    long originOffset,
    long sourceTimestamp,
    FlowKind kind,
    Protocol protocol,
    Side side,
    byte[] localIp,
    int localPort,
    byte[] remoteIp,
    int remotePort,
    int servicePort,
    long connectionStartTime,
    long startTime,
    long endTime,
    long bytesSent,
    long bytesReceived,
    long segmentsSent,
    long segmentsReceived,
    long retransmits,
    int srttMicros,
    EndAttribution local,
    EndAttribution remote,
    long holdDeadline,
    boolean pendingAnnounced) {

  static final int VERSION = 1;

  /** The facts of a validated raw record, nothing attributed yet. */
  public static InternalFlow of(
      FlowRecord r, int originPartition, long originOffset, long sourceTimestamp) {
    return new InternalFlow(
        originPartition,
        originOffset,
        sourceTimestamp,
        r.getKind(),
        r.getProtocol(),
        r.getSide(),
        IpAddresses.bytes(r.getLocalIp()),
        r.getLocalPort(),
        IpAddresses.bytes(r.getRemoteIp()),
        r.getRemotePort(),
        r.getServicePort(),
        r.getConnectionStartTime().toEpochMilli(),
        r.getStartTime().toEpochMilli(),
        r.getEndTime().toEpochMilli(),
        r.getBytesSent(),
        r.getBytesReceived(),
        r.getSegmentsSent(),
        r.getSegmentsReceived(),
        r.getRetransmits(),
        r.getSrttMicros(),
        null,
        null,
        0,
        false);
  }

  public InternalFlow withLocal(EndAttribution a) {
    return new InternalFlow(
        originPartition,
        originOffset,
        sourceTimestamp,
        kind,
        protocol,
        side,
        localIp,
        localPort,
        remoteIp,
        remotePort,
        servicePort,
        connectionStartTime,
        startTime,
        endTime,
        bytesSent,
        bytesReceived,
        segmentsSent,
        segmentsReceived,
        retransmits,
        srttMicros,
        a,
        remote,
        holdDeadline,
        pendingAnnounced);
  }

  public InternalFlow withRemote(EndAttribution a) {
    return new InternalFlow(
        originPartition,
        originOffset,
        sourceTimestamp,
        kind,
        protocol,
        side,
        localIp,
        localPort,
        remoteIp,
        remotePort,
        servicePort,
        connectionStartTime,
        startTime,
        endTime,
        bytesSent,
        bytesReceived,
        segmentsSent,
        segmentsReceived,
        retransmits,
        srttMicros,
        local,
        a,
        holdDeadline,
        pendingAnnounced);
  }

  public InternalFlow withHold(long deadline, boolean announced) {
    return new InternalFlow(
        originPartition,
        originOffset,
        sourceTimestamp,
        kind,
        protocol,
        side,
        localIp,
        localPort,
        remoteIp,
        remotePort,
        servicePort,
        connectionStartTime,
        startTime,
        endTime,
        bytesSent,
        bytesReceived,
        segmentsSent,
        segmentsReceived,
        retransmits,
        srttMicros,
        local,
        remote,
        deadline,
        announced);
  }

  public boolean wasHeld() {
    return holdDeadline != 0;
  }

  public String localIpText() {
    return IpAddresses.toText(localIp);
  }

  public String remoteIpText() {
    return IpAddresses.toText(remoteIp);
  }

  public byte[] clientIp() {
    return side == Side.CLIENT ? localIp : remoteIp;
  }

  public byte[] serverIp() {
    return side == Side.CLIENT ? remoteIp : localIp;
  }

  /** The client's ephemeral port: the local port of a CLIENT record, the remote one otherwise. */
  public int clientPort() {
    return side == Side.CLIENT ? localPort : remotePort;
  }

  public EndAttribution client() {
    return side == Side.CLIENT ? local : remote;
  }

  public EndAttribution server() {
    return side == Side.CLIENT ? remote : local;
  }

  /**
   * The aggregation key, {@code PROTOCOL|clientIp|serverIp|servicePort}, IPs in canonical text: the
   * key of the aggregation repartition topic and the output topic.
   */
  public String aggregationKey() {
    return protocol.name()
        + '|'
        + IpAddresses.toText(clientIp())
        + '|'
        + IpAddresses.toText(serverIp())
        + '|'
        + servicePort;
  }

  /**
   * The connection's 5-tuple as a store key: u8 protocol (ordinal), u8 client IP length, the client
   * IP, u16 client port (big-endian), u8 server IP length, the server IP, u16 service port
   * (big-endian). The key of the aggregation's {@code dedupe} store, and the prefix of the keys of
   * the attribution's {@code connections} store.
   */
  public Bytes connectionKey() {
    byte[] c = clientIp();
    byte[] s = serverIp();
    byte[] key = new byte[1 + 1 + c.length + 2 + 1 + s.length + 2];
    int i = 0;
    key[i++] = (byte) protocol.ordinal();
    key[i++] = (byte) c.length;
    System.arraycopy(c, 0, key, i, c.length);
    i += c.length;
    key[i++] = (byte) (clientPort() >>> 8);
    key[i++] = (byte) clientPort();
    key[i++] = (byte) s.length;
    System.arraycopy(s, 0, key, i, s.length);
    i += s.length;
    key[i++] = (byte) (servicePort >>> 8);
    key[i] = (byte) servicePort;
    return Bytes.wrap(key);
  }

  /** A stable id of the raw record: partition and offset in the flows topic. */
  public String originId() {
    return originPartition + ":" + originOffset;
  }

  // ---- encoding --------------------------------------------------------------------------------

  /**
   * Layout, version 1: u8 version; uvarint originPartition, originOffset; zlong sourceTimestamp; u8
   * kind, protocol, side; bytes localIp; uvarint localPort; bytes remoteIp; uvarint remotePort,
   * servicePort; zlong connectionStartTime; zlong startTime - connectionStartTime; zlong endTime -
   * startTime; uvarint bytesSent, bytesReceived, segmentsSent, segmentsReceived, retransmits,
   * srttMicros; local and remote attribution (u8 status, 255 = none; then the owner's 8 nstrings
   * for OWNER and CIDR); zlong holdDeadline; u8 flags (bit 0: pendingAnnounced).
   */
  public void writeTo(Bin.Out out) {
    out.u8(VERSION)
        .uvarint(originPartition)
        .uvarint(originOffset)
        .zlong(sourceTimestamp)
        .u8(kind.ordinal())
        .u8(protocol.ordinal())
        .u8(side.ordinal())
        .bytes(localIp)
        .uvarint(localPort)
        .bytes(remoteIp)
        .uvarint(remotePort)
        .uvarint(servicePort)
        .zlong(connectionStartTime)
        .zlong(startTime - connectionStartTime)
        .zlong(endTime - startTime)
        .uvarint(bytesSent)
        .uvarint(bytesReceived)
        .uvarint(segmentsSent)
        .uvarint(segmentsReceived)
        .uvarint(retransmits)
        .uvarint(srttMicros);
    EndAttribution.writeNullable(out, local);
    EndAttribution.writeNullable(out, remote);
    out.zlong(holdDeadline).u8(pendingAnnounced ? 1 : 0);
  }

  /** Reads what {@link #writeTo} wrote. */
  public static InternalFlow readFrom(Bin.In in) {
    int version = in.u8();
    if (version != VERSION) {
      throw in.malformed("internal flow format version " + version + " is unknown");
    }
    int partition = in.uint();
    long offset = in.uvarint();
    long ts = in.zlong();
    FlowKind kind = pick(in, FlowKind.values(), "kind");
    Protocol protocol = pick(in, Protocol.values(), "protocol");
    Side side = pick(in, Side.values(), "side");
    byte[] localIp = in.bytes();
    int localPort = in.uint();
    byte[] remoteIp = in.bytes();
    int remotePort = in.uint();
    int servicePort = in.uint();
    long connStart = in.zlong();
    long start = connStart + in.zlong();
    long end = start + in.zlong();
    long bytesSent = in.uvarint();
    long bytesReceived = in.uvarint();
    long segmentsSent = in.uvarint();
    long segmentsReceived = in.uvarint();
    long retransmits = in.uvarint();
    int srtt = in.uint();
    EndAttribution local = EndAttribution.readNullable(in);
    EndAttribution remote = EndAttribution.readNullable(in);
    long deadline = in.zlong();
    int flags = in.u8();
    return new InternalFlow(
        partition,
        offset,
        ts,
        kind,
        protocol,
        side,
        localIp,
        localPort,
        remoteIp,
        remotePort,
        servicePort,
        connStart,
        start,
        end,
        bytesSent,
        bytesReceived,
        segmentsSent,
        segmentsReceived,
        retransmits,
        srtt,
        local,
        remote,
        deadline,
        (flags & 1) != 0);
  }

  private static <E> E pick(Bin.In in, E[] values, String what) {
    int i = in.u8();
    if (i >= values.length) {
      throw in.malformed(what + " " + i + " is unknown");
    }
    return values[i];
  }
}
