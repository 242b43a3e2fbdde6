package io.flowsight.collector.aggregation;

import static io.flowsight.collector.wire.FormatFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.FormatFixtures;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How a row sums the flow records counted into it ({@link Row#add}), seen in the aggregate it
 * emits: the directions of bytes and segments by the observer's side, RTT min/max/sum/count without
 * the records that have none, the ephemeral ports (distinct, ascending, capped, the rest counted as
 * overflow), connections counted only for a connection's first record in the window, failed
 * connects apart, and which sides observed the flows.
 */
class RowTest {

  static final long WINDOW = 60_000;

  /** One flow record of 10.1.0.1 -> 10.2.0.8:443, as seen by {@code side}. */
  record F(
      Side side,
      FlowKind kind,
      int clientPort,
      long sent,
      long received,
      long segmentsSent,
      long segmentsReceived,
      long retransmits,
      int srtt,
      long start,
      long end) {

    InternalFlow flow() {
      boolean client = side == Side.CLIENT;
      byte[] clientIp = IpAddresses.parse("10.1.0.1");
      byte[] serverIp = IpAddresses.parse("10.2.0.8");
      return new InternalFlow(
          0,
          0,
          T0 + end,
          kind,
          Protocol.TCP,
          side,
          client ? clientIp : serverIp,
          client ? clientPort : 443,
          client ? serverIp : clientIp,
          client ? 443 : clientPort,
          443,
          T0 + start,
          T0 + start,
          T0 + end,
          sent,
          received,
          segmentsSent,
          segmentsReceived,
          retransmits,
          srtt,
          new EndAttribution(AttributionStatus.OWNER, FormatFixtures.PAYMENTS),
          new EndAttribution(AttributionStatus.GAP, null),
          0,
          false);
    }
  }

  /** A record added to the row; {@code newConnection}: its connection's first in the window. */
  record Add(F record, boolean newConnection) {}

  static Add client(int port, long sent, long received, int srtt, boolean newConnection) {
    return new Add(
        new F(
            Side.CLIENT,
            FlowKind.CLOSED,
            port,
            sent,
            received,
            sent / 100,
            received / 100,
            0,
            srtt,
            1_000,
            2_000),
        newConnection);
  }

  static Add server(int port, long sent, long received, int srtt, boolean newConnection) {
    return new Add(
        new F(
            Side.SERVER,
            FlowKind.CLOSED,
            port,
            sent,
            received,
            sent / 100,
            received / 100,
            0,
            srtt,
            1_000,
            2_000),
        newConnection);
  }

  /** What the aggregate says, minus the identity of the row. */
  record Sums(
      long connections,
      long failedConnections,
      long bytesClientToServer,
      long bytesServerToClient,
      long segmentsClientToServer,
      long segmentsServerToClient,
      long retransmits,
      Integer rttMin,
      Integer rttMax,
      long rttSum,
      long rttCount,
      List<Integer> ports,
      long portsOverflow,
      long firstSeen,
      long lastSeen,
      long flowRecords,
      ObservedBy observedBy) {

    static Sums of(FlowAggregate a) {
      return new Sums(
          a.connections(),
          a.failedConnections(),
          a.bytesClientToServer(),
          a.bytesServerToClient(),
          a.segmentsClientToServer(),
          a.segmentsServerToClient(),
          a.retransmits(),
          a.rttMinMicros(),
          a.rttMaxMicros(),
          a.rttSumMicros(),
          a.rttCount(),
          a.ephemeralPorts(),
          a.ephemeralPortsOverflow(),
          a.firstSeen() - T0,
          a.lastSeen() - T0,
          a.flowRecords(),
          a.observedBy());
    }
  }

  static Stream<Arguments> rows() {
    return Stream.of(
        Arguments.of(
            "a CLIENT record: sent is client to server",
            64,
            false,
            List.of(client(40001, 1_000, 5_000, 200, true)),
            new Sums(
                1,
                0,
                1_000,
                5_000,
                10,
                50,
                0,
                200,
                200,
                200,
                1,
                List.of(40001),
                0,
                1_000,
                2_000,
                1,
                ObservedBy.CLIENT)),
        Arguments.of(
            "a SERVER record: sent is server to client; the client port is its remote port",
            64,
            false,
            List.of(server(40001, 1_000, 5_000, 200, true)),
            new Sums(
                1,
                0,
                5_000,
                1_000,
                50,
                10,
                0,
                200,
                200,
                200,
                1,
                List.of(40001),
                0,
                1_000,
                2_000,
                1,
                ObservedBy.SERVER)),
        Arguments.of(
            "records of both sides counted: both directions summed, observed by BOTH",
            64,
            false,
            List.of(client(40001, 1_000, 5_000, 0, true), server(40002, 700, 300, 0, true)),
            new Sums(
                2,
                0,
                1_300,
                5_700,
                13,
                57,
                0,
                null,
                null,
                0,
                0,
                List.of(40001, 40002),
                0,
                1_000,
                2_000,
                2,
                ObservedBy.BOTH)),
        Arguments.of(
            "RTT: records without one (0) leave min, max, sum and count alone",
            64,
            false,
            List.of(
                client(40001, 0, 0, 0, true),
                client(40002, 0, 0, 300, true),
                client(40003, 0, 0, 100, true),
                client(40004, 0, 0, 0, true)),
            new Sums(
                4,
                0,
                0,
                0,
                0,
                0,
                0,
                100,
                300,
                400,
                2,
                List.of(40001, 40002, 40003, 40004),
                0,
                1_000,
                2_000,
                4,
                ObservedBy.CLIENT)),
        Arguments.of(
            "RTT: no record has one: min and max are null",
            64,
            false,
            List.of(client(40001, 0, 0, 0, true), client(40002, 0, 0, 0, true)),
            new Sums(
                2,
                0,
                0,
                0,
                0,
                0,
                0,
                null,
                null,
                0,
                0,
                List.of(40001, 40002),
                0,
                1_000,
                2_000,
                2,
                ObservedBy.CLIENT)),
        Arguments.of(
            "ports: distinct and ascending whatever the order; a port seen again is one port",
            64,
            false,
            List.of(
                client(50000, 0, 0, 0, true),
                client(40000, 0, 0, 0, true),
                client(45000, 0, 0, 0, true),
                client(40000, 0, 0, 0, true)),
            new Sums(
                4,
                0,
                0,
                0,
                0,
                0,
                0,
                null,
                null,
                0,
                0,
                List.of(40000, 45000, 50000),
                0,
                1_000,
                2_000,
                4,
                ObservedBy.CLIENT)),
        Arguments.of(
            "ports capped at 2: a new port past the cap is overflow (even a lower one), a port held"
                + " is not",
            2,
            false,
            List.of(
                client(40010, 0, 0, 0, true),
                client(40020, 0, 0, 0, true),
                client(40005, 0, 0, 0, true),
                client(40010, 0, 0, 0, true),
                client(40030, 0, 0, 0, true)),
            new Sums(
                5,
                0,
                0,
                0,
                0,
                0,
                0,
                null,
                null,
                0,
                0,
                List.of(40010, 40020),
                2,
                1_000,
                2_000,
                5,
                ObservedBy.CLIENT)),
        Arguments.of(
            "ports capped at 0: every port is overflow",
            0,
            false,
            List.of(client(40010, 0, 0, 0, true), client(40020, 0, 0, 0, true)),
            new Sums(
                2,
                0,
                0,
                0,
                0,
                0,
                0,
                null,
                null,
                0,
                0,
                List.of(),
                2,
                1_000,
                2_000,
                2,
                ObservedBy.CLIENT)),
        Arguments.of(
            "port 0 (not known): the connection counts, the port neither listed nor overflow",
            64,
            false,
            List.of(client(0, 0, 0, 0, true)),
            new Sums(
                1,
                0,
                0,
                0,
                0,
                0,
                0,
                null,
                null,
                0,
                0,
                List.of(),
                0,
                1_000,
                2_000,
                1,
                ObservedBy.CLIENT)),
        Arguments.of(
            "a failed connect: counted as failed, not as a connection, no port; its counters sum",
            64,
            false,
            List.of(
                new Add(
                    new F(Side.CLIENT, FlowKind.FAILED_CONNECT, 40001, 0, 0, 3, 0, 2, 0, 500, 500),
                    true)),
            new Sums(
                0,
                1,
                0,
                0,
                3,
                0,
                2,
                null,
                null,
                0,
                0,
                List.of(),
                0,
                500,
                500,
                1,
                ObservedBy.CLIENT)),
        Arguments.of(
            "INTERIM then CLOSED of one connection: one connection, both records' counters",
            64,
            false,
            List.of(
                new Add(
                    new F(Side.CLIENT, FlowKind.INTERIM, 40001, 100, 200, 1, 2, 1, 150, 0, 30_000),
                    true),
                new Add(
                    new F(
                        Side.CLIENT, FlowKind.CLOSED, 40001, 10, 20, 3, 4, 0, 250, 30_000, 45_000),
                    false)),
            new Sums(
                1,
                0,
                110,
                220,
                4,
                6,
                1,
                150,
                250,
                400,
                2,
                List.of(40001),
                0,
                0,
                45_000,
                2,
                ObservedBy.CLIENT)),
        Arguments.of(
            "a record not new to the window adds no port either",
            64,
            false,
            List.of(client(40001, 0, 0, 0, true), client(40002, 0, 0, 0, false)),
            new Sums(
                1,
                0,
                0,
                0,
                0,
                0,
                0,
                null,
                null,
                0,
                0,
                List.of(40001),
                0,
                1_000,
                2_000,
                2,
                ObservedBy.CLIENT)),
        Arguments.of(
            "first and last seen: the earliest start and the latest end, in any order",
            64,
            false,
            List.of(
                new Add(
                    new F(Side.CLIENT, FlowKind.CLOSED, 40001, 0, 0, 0, 0, 0, 0, 20_000, 30_000),
                    true),
                new Add(
                    new F(Side.CLIENT, FlowKind.CLOSED, 40002, 0, 0, 0, 0, 0, 0, 5_000, 25_000),
                    true),
                new Add(
                    new F(Side.CLIENT, FlowKind.CLOSED, 40003, 0, 0, 0, 0, 0, 0, 10_000, 50_000),
                    true)),
            new Sums(
                3,
                0,
                0,
                0,
                0,
                0,
                0,
                null,
                null,
                0,
                0,
                List.of(40001, 40002, 40003),
                0,
                5_000,
                50_000,
                3,
                ObservedBy.CLIENT)),
        Arguments.of(
            "counted by the CLIENT, its duplicate from the SERVER marks it: observed by BOTH",
            64,
            true,
            List.of(client(40001, 1_000, 5_000, 200, true)),
            new Sums(
                1,
                0,
                1_000,
                5_000,
                10,
                50,
                0,
                200,
                200,
                200,
                1,
                List.of(40001),
                0,
                1_000,
                2_000,
                1,
                ObservedBy.BOTH)));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("rows")
  void shouldSumTheRecordsCountedIntoIt(
      String name, int maxPorts, boolean seenByBoth, List<Add> records, Sums expected) {
    Row row = Row.start(T0, records.get(0).record().flow());
    for (Add a : records) {
      row.add(a.record().flow(), a.newConnection(), maxPorts);
    }
    if (seenByBoth) {
      row.markSeenByBoth();
    }

    FlowAggregate aggregate = row.toAggregate(WINDOW);
    assertThat(Sums.of(aggregate)).isEqualTo(expected);
    assertThat(aggregate.windowStart()).isEqualTo(T0);
    assertThat(aggregate.windowEnd()).isEqualTo(T0 + WINDOW);
    assertThat(aggregate.clientIp()).isEqualTo("10.1.0.1");
    assertThat(aggregate.serverIp()).isEqualTo("10.2.0.8");
    assertThat(aggregate.servicePort()).isEqualTo(443);
    // Through the store and back: the same sums.
    assertThat(Sums.of(Row.decode(row.encode()).toAggregate(WINDOW))).isEqualTo(expected);
  }
}
