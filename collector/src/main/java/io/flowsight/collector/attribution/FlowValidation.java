package io.flowsight.collector.attribution;

import io.flowsight.enrichment.Cidr;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * The checks a decoded record must pass to be used: values the schema cannot rule out but the
 * collector cannot make sense of. Each returns null when the record is fine, else what is wrong.
 */
final class FlowValidation {

  private FlowValidation() {}

  static String problem(FlowRecord r) {
    if (r.getKind() == FlowKind.UNKNOWN) {
      return unknownSymbol("kind");
    }
    if (r.getProtocol() == Protocol.UNKNOWN) {
      return unknownSymbol("protocol");
    }
    if (r.getAddressFamily() == AddressFamily.UNKNOWN) {
      return unknownSymbol("addressFamily");
    }
    if (r.getSide() == Side.UNKNOWN) {
      return unknownSymbol("side");
    }
    String p = address("localIp", r.getLocalIp(), r.getAddressFamily());
    if (p == null) {
      p = address("remoteIp", r.getRemoteIp(), r.getAddressFamily());
    }
    if (p != null) {
      return p;
    }
    if (!port(r.getLocalPort()) || !port(r.getRemotePort()) || !port(r.getServicePort())) {
      return "a port is outside 0-65535 (local "
          + r.getLocalPort()
          + ", remote "
          + r.getRemotePort()
          + ", service "
          + r.getServicePort()
          + ")";
    }
    int expectedService = r.getSide() == Side.CLIENT ? r.getRemotePort() : r.getLocalPort();
    if (r.getServicePort() != expectedService) {
      return "servicePort "
          + r.getServicePort()
          + " is not the "
          + (r.getSide() == Side.CLIENT ? "remote" : "local")
          + " port "
          + expectedService
          + " of a "
          + r.getSide()
          + " record";
    }
    if (r.getKind() == FlowKind.FAILED_CONNECT && r.getSide() != Side.CLIENT) {
      return "a FAILED_CONNECT record must come from the CLIENT side";
    }
    long connStart = r.getConnectionStartTime().toEpochMilli();
    long start = r.getStartTime().toEpochMilli();
    long end = r.getEndTime().toEpochMilli();
    if (connStart <= 0) {
      return "connectionStartTime " + connStart + " is not a time after 1970";
    }
    if (start < connStart) {
      return "startTime " + start + " is before connectionStartTime " + connStart;
    }
    if (end < start) {
      return "endTime " + end + " is before startTime " + start;
    }
    if (r.getBytesSent() < 0
        || r.getBytesReceived() < 0
        || r.getSegmentsSent() < 0
        || r.getSegmentsReceived() < 0
        || r.getRetransmits() < 0
        || r.getSrttMicros() < 0) {
      return "a counter is negative (bytesSent "
          + r.getBytesSent()
          + ", bytesReceived "
          + r.getBytesReceived()
          + ", segmentsSent "
          + r.getSegmentsSent()
          + ", segmentsReceived "
          + r.getSegmentsReceived()
          + ", retransmits "
          + r.getRetransmits()
          + ", srttMicros "
          + r.getSrttMicros()
          + ")";
    }
    return null;
  }

  /** How far a record's endTime may be after its produce time (clock steps, NTP corrections). */
  static final long MAX_END_AFTER_PRODUCE_MS = 5 * 60_000;

  /**
   * A record cannot end long after it was produced (the sidecar timestamps both with the same
   * clock): a far-future time would hold a window open forever and push the stores' retention.
   */
  static String producedBeforeItsEnd(FlowRecord r, long producedAt) {
    long end = r.getEndTime().toEpochMilli();
    if (producedAt > 0 && end > producedAt + MAX_END_AFTER_PRODUCE_MS) {
      return "endTime "
          + r.getEndTime()
          + " is "
          + (end - producedAt)
          + " ms after the record was produced ("
          + Instant.ofEpochMilli(producedAt)
          + "): the sidecar's clock or the record is wrong";
    }
    return null;
  }

  static String problem(IpIdentityChange c) {
    if (c.getAction() == IdentityAction.UNKNOWN) {
      return unknownSymbol("action");
    }
    if (c.getAddressFamily() == AddressFamily.UNKNOWN) {
      return unknownSymbol("addressFamily");
    }
    String p = address("ip", c.getIp(), c.getAddressFamily());
    if (p != null) {
      return p;
    }
    Integer prefix = c.getPrefixLength();
    if (prefix != null) {
      try {
        Cidr.of(IpAddresses.bytes(c.getIp()), prefix);
      } catch (IllegalArgumentException e) {
        return "the block is malformed: " + e.getMessage();
      }
    }
    if (c.getIdentity() == null || c.getIdentity().getApp() == null) {
      return "identity has no app";
    }
    if (c.getSource() == null || c.getSource().isBlank()) {
      return "source is empty";
    }
    return null;
  }

  /** The detail of a dead letter whose enum field holds a symbol this collector does not know. */
  static final String UNKNOWN_SYMBOL = "a symbol this collector does not know";

  /**
   * An enum read as its default {@code UNKNOWN}: the writer used a newer schema with a symbol added
   * after this collector was built. Mapping it to a real value would misreport the flow (an unknown
   * protocol counted as TCP, an unknown side taken for the server), so the record is rejected.
   */
  private static String unknownSymbol(String field) {
    return field
        + " is "
        + UNKNOWN_SYMBOL
        + " (written with a newer schema, read as UNKNOWN): upgrade the collector to one that"
        + " knows it";
  }

  private static boolean port(int p) {
    return p >= 0 && p <= 65535;
  }

  /** The address must be 4 bytes for IPV4 (also as IPv4-mapped IPv6), 16 for IPV6. */
  private static String address(String field, ByteBuffer buffer, AddressFamily family) {
    int length = buffer == null ? -1 : buffer.remaining();
    if (length == 4) {
      return family == AddressFamily.IPV4
          ? null
          : field + " has 4 bytes but addressFamily is " + family;
    }
    if (length == 16) {
      boolean mapped = true;
      for (int i = 0; i < 12; i++) {
        byte expected = i < 10 ? 0 : (byte) 0xff;
        if (buffer.get(buffer.position() + i) != expected) {
          mapped = false;
          break;
        }
      }
      AddressFamily actual = mapped ? AddressFamily.IPV4 : AddressFamily.IPV6;
      return family == actual
          ? null
          : field + " is an " + actual + " address but addressFamily is " + family;
    }
    return field + " has " + length + " bytes; an IP address has 4 (IPV4) or 16 (IPV6)";
  }
}
