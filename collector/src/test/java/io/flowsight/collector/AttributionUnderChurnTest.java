package io.flowsight.collector;

import static io.flowsight.collector.CollectorDriver.T0;
import static io.flowsight.collector.TestFlows.app;
import static io.flowsight.collector.TestFlows.change;
import static io.flowsight.collector.TestFlows.flow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Side;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One test per way attribution went wrong when IPs move every few seconds and identity events
 * arrive late: each builds the situation with the default settings and checks who the output names.
 * The window [T0, T0 + 60 s) closes at T0 + 60 s + 35 s settle + 20 s grace.
 */
class AttributionUnderChurnTest {

  private static final String CLIENT = "10.1.0.1";
  private static final Instant CLOSED_FIRST_WINDOW = t(60 + 35 + 20 + 5);

  private CollectorDriver collector;

  private CollectorDriver start() {
    return start(CollectorSettings.defaults(1));
  }

  private CollectorDriver start(CollectorSettings settings) {
    collector = new CollectorDriver(settings);
    return collector;
  }

  @AfterEach
  void close() {
    if (collector != null) {
      collector.close();
    }
  }

  private static Instant t(double seconds) {
    return T0.plusMillis(Math.round(seconds * 1000));
  }

  /** An identity change with event time {@code at}, produced to Kafka at {@code arrives}. */
  private void late(IdentityAction action, String ip, String app, double at, double arrives) {
    collector.advanceTo(t(arrives));
    collector.sendIdentity(ip, change(action, ip, null, app(app), t(at)), t(arrives));
  }

  /** The labeled client's CLOSED record of a connection to {@code server}, sent at its end. */
  private void clientConnection(String server, int port, double start, double end) {
    collector.advanceTo(t(end + 0.2));
    collector.send(
        flow(Side.CLIENT, CLIENT, port, server, 443, t(start), t(end))
            .setLocalIdentity(app("checkout"))
            .setBytesSent(100)
            .setBytesReceived(1000)
            .build());
  }

  /** A server sidecar's CLOSED record (a heartbeat of its IP) for a connection from elsewhere. */
  private FlowRecord serverRecord(String server, String app, int port, double start, double end) {
    return flow(Side.SERVER, "10.9.9.9", port, server, 443, t(start), t(end))
        .setLocalIdentity(app(app))
        .build();
  }

  private Map<Integer, FlowAggregate> byPort(List<FlowAggregate> rows) {
    return rows.stream()
        .flatMap(a -> a.ephemeralPorts().stream().map(p -> Map.entry(p, a)))
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
  }

  @Test
  void shouldNotAnswerTheFormerOwnerWhileItsUnassignIsStillOnItsWay() {
    CollectorDriver c = start();
    String server = "10.2.0.14";
    c.send(change(IdentityAction.ASSIGN, server, null, app("app-14"), t(-600)));
    // The IP moved to app-18 at 21.686; the flow starts at 33.328, produced at 35.4; the move's
    // events arrive 15 s late, at 36.698, after the flow.
    clientConnection(server, 40001, 33.328, 35.2);
    late(IdentityAction.UNASSIGN, server, "app-14", 21.686, 36.698);
    late(IdentityAction.ASSIGN, server, "app-18", 21.686, 36.698);

    c.advanceTo(CLOSED_FIRST_WINDOW);
    FlowAggregate row = byPort(c.aggregates()).get(40001);
    assertThat(row.server().app()).isEqualTo("app-18");
    assertThat(row.serverAttribution()).isEqualTo(AttributionStatus.OWNER);
  }

  @Test
  void shouldWaitForTheEvidenceOfABacklogReadAfterABrokerOutage() {
    CollectorDriver c = start();
    String server = "10.2.0.14";
    c.send(change(IdentityAction.ASSIGN, server, null, app("app-14"), t(-600)));
    // The broker was away: the flow (33.3-35.2) and the IP's move at 21.686 (its events produced at
    // 36.698) all reach the collector at 120, the flow first. The flow's repartitioned copy must
    // not move the evidence clock to its produce time: the move's events are still unread.
    c.advanceTo(t(120));
    c.send(
        flow(Side.CLIENT, CLIENT, 40001, server, 443, t(33.328), t(35.2))
            .setLocalIdentity(app("checkout"))
            .build(),
        t(120));
    c.sendIdentity(
        server, change(IdentityAction.UNASSIGN, server, null, app("app-14"), t(21.686)), t(36.698));
    c.sendIdentity(
        server, change(IdentityAction.ASSIGN, server, null, app("app-18"), t(21.686)), t(36.698));

    c.advanceTo(t(240));
    FlowAggregate row = byPort(c.aggregates()).get(40001);
    assertThat(row.server().app()).isEqualTo("app-18");
    assertThat(row.serverAttribution()).isEqualTo(AttributionStatus.OWNER);
  }

  @Test
  void shouldNeverBridgeAnOwnersHeartbeatsAcrossAnotherOwnersTenure() {
    CollectorDriver c = start();
    String ip = "10.2.0.19";
    // A VM's sidecar held the IP at 33-38 and again from 83; app-19 had it from 40 to 80.
    c.advanceTo(t(38.2));
    c.send(serverRecord(ip, "vm-batch", 50001, 33, 38));
    late(IdentityAction.ASSIGN, ip, "app-19", 40, 40.1);
    late(IdentityAction.UNASSIGN, ip, "app-19", 80, 80.1);
    c.advanceTo(t(84.2));
    c.send(serverRecord(ip, "vm-batch", 50002, 83, 84));
    // A connection to app-19 from 78 to 85: its record comes after the VM's return.
    clientConnection(ip, 40001, 78, 85);

    c.advanceTo(t(120 + 35 + 20 + 5));
    FlowAggregate row = byPort(c.aggregates()).get(40001);
    assertThat(row.server().app()).isEqualTo("app-19");
  }

  @Test
  void shouldNotGiveAConnectionToTheNextOwnerWhenTheFormerOnesUnassignSaysItStillHeldTheIp() {
    CollectorDriver c = start();
    String ip = "10.2.0.17";
    // A managed service whose ASSIGN was never published held the IP until 20.3; a pod's sidecar
    // reports it from 21.0. The connection starts at 20.0: not the pod's.
    late(IdentityAction.UNASSIGN, ip, "cache", 20.3, 20.4);
    clientConnection(ip, 40001, 20.0, 20.5);
    c.advanceTo(t(30.2));
    c.send(serverRecord(ip, "web", 50001, 21.0, 30));

    c.advanceTo(CLOSED_FIRST_WINDOW);
    FlowAggregate row = byPort(c.aggregates()).get(40001);
    assertThat(row.server()).isNull();
    assertThat(row.serverAttribution()).isEqualTo(AttributionStatus.GAP);
  }

  @Test
  void shouldJoinAnUnassignWithItsAssignArrivingAfterIt() {
    CollectorDriver c = start();
    String ip = "10.2.0.4";
    clientConnection(ip, 40001, 15, 16);
    // The UNASSIGN (at 30) arrives at 31, its ASSIGN (at 10) only at 35.
    late(IdentityAction.UNASSIGN, ip, "app-4", 30, 31);
    late(IdentityAction.ASSIGN, ip, "app-4", 10, 35);

    c.advanceTo(CLOSED_FIRST_WINDOW);
    FlowAggregate row = byPort(c.aggregates()).get(40001);
    assertThat(row.server().app()).isEqualTo("app-4");
  }

  @Test
  void shouldGiveEachEndOfAConnectionSeenByBothTheLabelOfItsOwnSidecar() {
    CollectorDriver c = start();
    String server = "10.2.0.8";
    // Stale events still give the server's IP to "legacy"; its sidecar says "payments".
    c.send(change(IdentityAction.ASSIGN, server, null, app("legacy"), t(-600)));
    c.advanceTo(t(7.2));
    // Connection 1: the client's record first; connection 2: the server's first.
    c.send(bothEnds(Side.CLIENT, server, 41000, 5.0, 7.0));
    c.send(bothEnds(Side.SERVER, server, 41000, 5.3, 7.0));
    c.advanceTo(t(12.2));
    c.send(bothEnds(Side.SERVER, server, 41001, 10.3, 12.0));
    c.send(bothEnds(Side.CLIENT, server, 41001, 10.0, 12.0));

    c.advanceTo(CLOSED_FIRST_WINDOW);
    List<FlowAggregate> rows = c.aggregates();
    assertThat(rows).hasSize(1);
    FlowAggregate row = rows.get(0);
    assertThat(row.client().app()).isEqualTo("checkout");
    assertThat(row.server().app()).isEqualTo("payments");
    assertThat(row.connections()).isEqualTo(2);
    assertThat(row.observedBy()).isEqualTo(ObservedBy.BOTH);
    // Every record's remote end: the other side's own label.
    assertThat(counter("flowsight_collector_other_side_labels_total")).isEqualTo(4);
  }

  private static FlowRecord bothEnds(Side side, String server, int port, double start, double end) {
    boolean client = side == Side.CLIENT;
    return flow(side, CLIENT, port, server, 443, t(start), t(end))
        .setLocalIdentity(app(client ? "checkout" : "payments"))
        .setBytesSent(client ? 10 : 20)
        .setBytesReceived(client ? 20 : 10)
        .build();
  }

  @Test
  void shouldKeepTheOwnersOfALongLivedConnectionsStartInEveryWindow() {
    // The histories keep 5 minutes here, and the sweep runs every 10: the connection's start is
    // forgotten by the IP's history long before the connection ends.
    CollectorDriver c = start(CollectorSettings.defaults(1).withLateHorizon(Duration.ofMinutes(5)));
    String ip = "10.2.0.30";
    String[] apps = {"app-a", "app-b", "app-c"};
    c.send(change(IdentityAction.ASSIGN, ip, null, app("app-a"), t(0)));
    double previous = 3;
    for (int report = 1; report <= 24; report++) {
      double end = 3 + 30 * report;
      // The IP moves every 5 s while the connection lasts (events on time).
      for (double move = end - 30; move < end; move += 5) {
        if (move > 3) {
          String app = apps[(int) (move / 5) % 3];
          c.advanceTo(t(move));
          c.sendIdentity(ip, change(IdentityAction.ASSIGN, ip, null, app(app), t(move)), t(move));
        }
      }
      c.advanceTo(t(end + 0.2));
      c.send(
          flow(Side.CLIENT, CLIENT, 40001, ip, 443, t(3), t(end))
              .setStartTime(t(previous))
              .setKind(report == 24 ? FlowKind.CLOSED : FlowKind.INTERIM)
              .setLocalIdentity(app("checkout"))
              .setBytesSent(10)
              .build());
      previous = end;
    }
    c.advanceTo(t(3 + 30 * 24 + 120));

    List<FlowAggregate> rows = c.aggregates();
    assertThat(rows).hasSize(13); // windows 0 to 12 minutes
    for (FlowAggregate row : rows) {
      assertThat(row.server().app()).as("window %s", row.windowStart()).isEqualTo("app-a");
      assertThat(row.connections()).isEqualTo(1);
    }
    assertThat(rows.stream().mapToLong(FlowAggregate::bytesClientToServer).sum()).isEqualTo(240);
  }

  @Test
  void shouldCountALongLivedConnectionToAnUnknownServerOncePerWindow() {
    CollectorDriver c = start();
    String ip = "10.2.0.50"; // never seen: every record waits for the hold-back
    // Reports every 30 s for 4 minutes. The first is decided when its hold-back ends (at 174.5 s);
    // the reports that arrive after that take its decision at once, while the reports held before
    // it are released later: the aggregation reads the connection's records out of order, across
    // two dedupe epochs (3 minutes).
    double previous = 24.2;
    double[] ends = {54.2, 84.2, 114.2, 144.2, 174.2, 204.2, 234.2, 250};
    for (double end : ends) {
      c.advanceTo(t(end + 0.3));
      c.send(
          flow(Side.CLIENT, CLIENT, 40001, ip, 22, t(24.2), t(end))
              .setStartTime(t(previous))
              .setKind(end == 250 ? FlowKind.CLOSED : FlowKind.INTERIM)
              .setLocalIdentity(app("checkout"))
              .setBytesSent(10)
              .build());
      previous = end;
    }
    c.advanceTo(t(600));

    List<FlowAggregate> rows = c.aggregates();
    Map<Long, Long> connectionsByWindow =
        rows.stream()
            .collect(
                Collectors.groupingBy(
                    a -> (a.windowStart() - T0.toEpochMilli()) / 1000,
                    Collectors.summingLong(FlowAggregate::connections)));
    assertThat(connectionsByWindow)
        .containsExactlyInAnyOrderEntriesOf(Map.of(0L, 1L, 60L, 1L, 120L, 1L, 180L, 1L, 240L, 1L));
    assertThat(rows.stream().mapToLong(FlowAggregate::bytesClientToServer).sum()).isEqualTo(80);
  }

  @Test
  void shouldCountEvidenceThatArrivesAfterTheSettleDelayAndChangesADecidedOwner() {
    CollectorDriver c = start();
    String ip = "10.2.0.40";
    c.send(change(IdentityAction.ASSIGN, ip, null, app("old"), t(-600)));
    clientConnection(ip, 40001, 5, 6);
    c.advanceTo(t(45));
    assertThat(counter("flowsight_collector_settled_answers_changed_total")).isZero();
    // The IP had moved at 4 s: the UNASSIGN comes 56 s late, past the 35 s settle delay.
    late(IdentityAction.UNASSIGN, ip, "old", 4, 60);
    assertThat(counter("flowsight_collector_settled_answers_changed_total")).isEqualTo(1);

    c.advanceTo(CLOSED_FIRST_WINDOW);
    // The end was decided at 40 s with what was known then.
    assertThat(byPort(c.aggregates()).get(40001).server().app()).isEqualTo("old");
  }

  @Test
  void shouldReKeyRecordsAProducerPutInTheWrongPartitionAndCountThem() {
    // Two partitions: a key whose murmur2 hash maps to partition 1 arrives in partition 0 (the test
    // driver's only one), as from a producer that partitions otherwise (librdkafka's default).
    CollectorDriver c = start(CollectorSettings.defaults(2));
    String client = ipInPartition(1, "10.7.0.");
    String server = ipInPartition(0, "10.8.0.");
    c.send(change(IdentityAction.ASSIGN, server, null, app("billing"), t(-600)));
    c.advanceTo(t(6.2));
    c.send(
        flow(Side.CLIENT, client, 40001, server, 443, t(5), t(6))
            .setLocalIdentity(app("checkout"))
            .setBytesSent(100)
            .build());

    assertThat(counter("flowsight_collector_misrouted_records_total")).isEqualTo(1);
    assertThat(c.metrics.misroutedWarning(c.now().toEpochMilli())).contains("murmur2");
    c.advanceTo(CLOSED_FIRST_WINDOW);
    List<FlowAggregate> rows = c.aggregates();
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).client().app()).isEqualTo("checkout");
    assertThat(rows.get(0).server().app()).isEqualTo("billing");
    assertThat(rows.get(0).bytesClientToServer()).isEqualTo(100);
    assertThat(c.deadLetters()).isEmpty();
  }

  /** An address {@code prefix + n} whose text maps to {@code partition} of two. */
  private static String ipInPartition(int partition, String prefix) {
    for (int n = 1; n < 255; n++) {
      byte[] key = (prefix + n).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      if (org.apache.kafka.common.utils.Utils.toPositive(
                  org.apache.kafka.common.utils.Utils.murmur2(key))
              % 2
          == partition) {
        return prefix + n;
      }
    }
    throw new IllegalStateException("no address of " + prefix + "x maps to " + partition);
  }

  private double counter(String name) {
    return collector.metric(name);
  }
}
