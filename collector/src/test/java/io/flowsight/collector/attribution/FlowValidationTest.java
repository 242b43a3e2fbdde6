package io.flowsight.collector.attribution;

import static io.flowsight.collector.wire.FormatFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The checks a decoded record must pass ({@link FlowValidation}): one row per invalid field, with
 * the exact reason the dead letter carries (it names the field and the value), and the valid shapes
 * that must pass.
 */
class FlowValidationTest {

  static final String UNKNOWN =
      " is a symbol this collector does not know (written with a newer schema, read as UNKNOWN):"
          + " upgrade the collector to one that knows it";

  static ByteBuffer ip(String text) {
    return ByteBuffer.wrap(IpAddresses.parse(text));
  }

  static ByteBuffer bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return ByteBuffer.wrap(b);
  }

  /** A valid CLIENT record of 10.1.0.1:40001 -> 10.2.0.8:443. */
  static FlowRecord.Builder valid() {
    return FlowRecord.newBuilder()
        .setObserverId("client-host")
        .setSidecarRunId("run-1")
        .setSequence(0)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setAddressFamily(AddressFamily.IPV4)
        .setLocalIp(ip("10.1.0.1"))
        .setLocalPort(40001)
        .setRemoteIp(ip("10.2.0.8"))
        .setRemotePort(443)
        .setSide(Side.CLIENT)
        .setServicePort(443)
        .setConnectionStartTime(Instant.ofEpochMilli(T0))
        .setStartTime(Instant.ofEpochMilli(T0 + 1_000))
        .setEndTime(Instant.ofEpochMilli(T0 + 2_000))
        .setBytesSent(0)
        .setBytesReceived(0)
        .setSegmentsSent(0)
        .setSegmentsReceived(0)
        .setRetransmits(0)
        .setSrttMicros(0)
        .setRttVarMicros(0)
        .setCongestionWindow(10);
  }

  static Arguments row(String expected, Consumer<FlowRecord.Builder> change) {
    return Arguments.of(expected, change);
  }

  static final String COUNTERS_ZERO =
      "bytesSent 0, bytesReceived 0, segmentsSent 0, segmentsReceived 0, retransmits 0, srttMicros 0";

  static Stream<Arguments> records() {
    return Stream.of(
        // valid shapes
        row(null, r -> {}),
        row(
            null,
            r ->
                r.setSide(Side.SERVER)
                    .setLocalIp(ip("10.2.0.8"))
                    .setLocalPort(443)
                    .setRemoteIp(ip("10.1.0.1"))
                    .setRemotePort(40001)),
        row(
            null,
            r ->
                r.setAddressFamily(AddressFamily.IPV6)
                    .setLocalIp(ip("2001:db8::1"))
                    .setRemoteIp(ip("2001:db8::2"))),
        // an IPv4-mapped IPv6 address is IPV4
        row(null, r -> r.setLocalIp(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 0, 1))),
        // a failed connect: no port yet, and all three times equal
        row(
            null,
            r ->
                r.setKind(FlowKind.FAILED_CONNECT)
                    .setLocalPort(0)
                    .setStartTime(Instant.ofEpochMilli(T0))
                    .setEndTime(Instant.ofEpochMilli(T0))),
        row(null, r -> r.setBytesSent(Long.MAX_VALUE).setSrttMicros(Integer.MAX_VALUE)),
        row(null, r -> r.setLocalPort(65535).setRemotePort(0).setServicePort(0)),
        // symbols added by a newer schema
        row("kind" + UNKNOWN, r -> r.setKind(FlowKind.UNKNOWN)),
        row("protocol" + UNKNOWN, r -> r.setProtocol(Protocol.UNKNOWN)),
        row("addressFamily" + UNKNOWN, r -> r.setAddressFamily(AddressFamily.UNKNOWN)),
        row("side" + UNKNOWN, r -> r.setSide(Side.UNKNOWN)),
        // the first problem found is the one reported
        row("kind" + UNKNOWN, r -> r.setKind(FlowKind.UNKNOWN).setLocalPort(-1)),
        // addresses
        row(
            "localIp has 3 bytes; an IP address has 4 (IPV4) or 16 (IPV6)",
            r -> r.setLocalIp(bytes(10, 1, 0))),
        row(
            "remoteIp has 0 bytes; an IP address has 4 (IPV4) or 16 (IPV6)",
            r -> r.setRemoteIp(bytes())),
        row(
            "localIp has 4 bytes but addressFamily is IPV6",
            r -> r.setAddressFamily(AddressFamily.IPV6)),
        row(
            "remoteIp is an IPV6 address but addressFamily is IPV4",
            r -> r.setRemoteIp(ip("2001:db8::2"))),
        row(
            "localIp is an IPV4 address but addressFamily is IPV6",
            r ->
                r.setAddressFamily(AddressFamily.IPV6)
                    .setLocalIp(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 0, 1))
                    .setRemoteIp(ip("2001:db8::2"))),
        // ports
        row(
            "a port is outside 0-65535 (local -1, remote 443, service 443)",
            r -> r.setLocalPort(-1)),
        row(
            "a port is outside 0-65535 (local 40001, remote 65536, service 443)",
            r -> r.setRemotePort(65536)),
        row(
            "a port is outside 0-65535 (local 40001, remote 443, service 70000)",
            r -> r.setServicePort(70000)),
        row(
            "servicePort 80 is not the remote port 443 of a CLIENT record",
            r -> r.setServicePort(80)),
        row(
            "servicePort 443 is not the local port 8443 of a SERVER record",
            r ->
                r.setSide(Side.SERVER)
                    .setLocalIp(ip("10.2.0.8"))
                    .setLocalPort(8443)
                    .setRemoteIp(ip("10.1.0.1"))
                    .setRemotePort(40001)),
        row(
            "a FAILED_CONNECT record must come from the CLIENT side",
            r ->
                r.setKind(FlowKind.FAILED_CONNECT)
                    .setSide(Side.SERVER)
                    .setLocalPort(443)
                    .setRemotePort(40001)),
        // times
        row(
            "connectionStartTime 0 is not a time after 1970",
            r ->
                r.setConnectionStartTime(Instant.EPOCH)
                    .setStartTime(Instant.EPOCH)
                    .setEndTime(Instant.EPOCH)),
        row(
            "connectionStartTime -5 is not a time after 1970",
            r -> r.setConnectionStartTime(Instant.ofEpochMilli(-5))),
        row(
            "startTime " + (T0 - 1) + " is before connectionStartTime " + T0,
            r -> r.setStartTime(Instant.ofEpochMilli(T0 - 1))),
        row(
            "endTime " + (T0 + 999) + " is before startTime " + (T0 + 1_000),
            r -> r.setEndTime(Instant.ofEpochMilli(T0 + 999))),
        // counters, each named with its value
        row(
            "a counter is negative (" + COUNTERS_ZERO.replace("bytesSent 0", "bytesSent -1") + ")",
            r -> r.setBytesSent(-1)),
        row(
            "a counter is negative ("
                + COUNTERS_ZERO.replace("bytesReceived 0", "bytesReceived -2")
                + ")",
            r -> r.setBytesReceived(-2)),
        row(
            "a counter is negative ("
                + COUNTERS_ZERO.replace("segmentsSent 0", "segmentsSent -3")
                + ")",
            r -> r.setSegmentsSent(-3)),
        row(
            "a counter is negative ("
                + COUNTERS_ZERO.replace("segmentsReceived 0", "segmentsReceived -4")
                + ")",
            r -> r.setSegmentsReceived(-4)),
        row(
            "a counter is negative ("
                + COUNTERS_ZERO.replace("retransmits 0", "retransmits -5")
                + ")",
            r -> r.setRetransmits(-5)),
        row(
            "a counter is negative ("
                + COUNTERS_ZERO.replace("srttMicros 0", "srttMicros -6")
                + ")",
            r -> r.setSrttMicros(-6)));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("records")
  void shouldNameWhatIsWrongWithAFlowRecord(String expected, Consumer<FlowRecord.Builder> change) {
    FlowRecord.Builder b = valid();
    change.accept(b);

    assertThat(FlowValidation.problem(b.build())).isEqualTo(expected);
  }

  static Stream<Arguments> produceTimes() {
    long end = T0 + 2_000;
    return Stream.of(
        Arguments.of(end, null),
        Arguments.of(end - FlowValidation.MAX_END_AFTER_PRODUCE_MS, null),
        Arguments.of(0L, null), // no produce time known: not checked
        Arguments.of(
            end - FlowValidation.MAX_END_AFTER_PRODUCE_MS - 1,
            "endTime 2025-11-24T16:00:02Z is 300001 ms after the record was produced"
                + " (2025-11-24T15:55:01.999Z): the sidecar's clock or the record is wrong"));
  }

  @ParameterizedTest(name = "[{index}] produced at {0}")
  @MethodSource("produceTimes")
  void shouldRefuseARecordEndingLongAfterItWasProduced(long producedAt, String expected) {
    assertThat(FlowValidation.producedBeforeItsEnd(valid().build(), producedAt))
        .isEqualTo(expected);
  }

  /** A valid ASSIGN of 10.1.0.1 to payments. */
  static IpIdentityChange.Builder validChange() {
    return IpIdentityChange.newBuilder()
        .setAddressFamily(AddressFamily.IPV4)
        .setIp(ip("10.1.0.1"))
        .setPrefixLength(null)
        .setAction(IdentityAction.ASSIGN)
        .setIdentity(Identity.newBuilder().setApp("payments").setLabels(Map.of()).build())
        .setEventTime(Instant.ofEpochMilli(T0))
        .setSource("kubernetes")
        .setSourceInstance("prod-east");
  }

  static Stream<Arguments> changes() {
    return Stream.of(
        Arguments.of(null, (Consumer<IpIdentityChange.Builder>) c -> {}),
        Arguments.of(
            null,
            (Consumer<IpIdentityChange.Builder>) c -> c.setIp(ip("10.1.0.0")).setPrefixLength(16)),
        Arguments.of(
            "action" + UNKNOWN,
            (Consumer<IpIdentityChange.Builder>) c -> c.setAction(IdentityAction.UNKNOWN)),
        Arguments.of(
            "addressFamily" + UNKNOWN,
            (Consumer<IpIdentityChange.Builder>) c -> c.setAddressFamily(AddressFamily.UNKNOWN)),
        Arguments.of(
            "ip has 5 bytes; an IP address has 4 (IPV4) or 16 (IPV6)",
            (Consumer<IpIdentityChange.Builder>) c -> c.setIp(bytes(10, 1, 0, 1, 0))),
        Arguments.of(
            "ip has 4 bytes but addressFamily is IPV6",
            (Consumer<IpIdentityChange.Builder>) c -> c.setAddressFamily(AddressFamily.IPV6)),
        Arguments.of(
            "the block is malformed: prefix length 33 is out of range 0-32",
            (Consumer<IpIdentityChange.Builder>) c -> c.setPrefixLength(33)),
        Arguments.of(
            "the block is malformed: 10.1.0.1/16 has host bits set: the block starts at"
                + " 10.1.0.0/16",
            (Consumer<IpIdentityChange.Builder>) c -> c.setPrefixLength(16)),
        Arguments.of(
            "identity has no app",
            (Consumer<IpIdentityChange.Builder>)
                c -> {
                  Identity noApp = new Identity();
                  noApp.setLabels(Map.of());
                  c.setIdentity(noApp);
                }),
        Arguments.of(
            "source is empty", (Consumer<IpIdentityChange.Builder>) c -> c.setSource(" ")));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("changes")
  void shouldNameWhatIsWrongWithAnIdentityChange(
      String expected, Consumer<IpIdentityChange.Builder> change) {
    IpIdentityChange.Builder c = validChange();
    change.accept(c);

    assertThat(FlowValidation.problem(c.build())).isEqualTo(expected);
  }
}
