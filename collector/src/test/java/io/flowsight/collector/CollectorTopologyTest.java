package io.flowsight.collector;

import static io.flowsight.collector.CollectorDriver.T0;
import static io.flowsight.collector.TestFlows.app;
import static io.flowsight.collector.TestFlows.change;
import static io.flowsight.collector.TestFlows.flow;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Side;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CollectorTopologyTest {

  private static final String CLIENT = "10.1.0.1";
  private static final ObjectMapper JSON = new ObjectMapper();

  private CollectorDriver collector;

  private CollectorDriver start(CollectorSettings settings) {
    collector = new CollectorDriver(settings);
    return collector;
  }

  private CollectorDriver start() {
    return start(CollectorSettings.defaults(1));
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

  /** A labeled client's CLOSED record to a server, with some bytes. */
  private static FlowRecord clientFlow(String server, int port, double start, double end) {
    return flow(Side.CLIENT, CLIENT, port, server, 443, t(start), t(end))
        .setLocalIdentity(app("checkout"))
        .setBytesSent(100)
        .setBytesReceived(1000)
        .setSegmentsSent(3)
        .setSegmentsReceived(4)
        .setSrttMicros(250)
        .build();
  }

  @Test
  void shouldAttributeFlowsToTheOwnerAtTheirStartWhenAnIpMovesFromOneAppToAnother() {
    CollectorDriver c = start();
    String server = "10.2.0.5";
    c.send(change(IdentityAction.ASSIGN, server, null, app("billing"), T0.minusSeconds(3600)));

    c.advanceTo(t(6.2));
    c.send(clientFlow(server, 40001, 5, 6)); // before the move: billing
    // The IP moves to another app at T0 + 20 s.
    c.advanceTo(t(20.5));
    c.send(change(IdentityAction.UNASSIGN, server, null, app("billing"), t(20)));
    c.send(change(IdentityAction.ASSIGN, server, null, app("search"), t(20)));
    c.advanceTo(t(26.2));
    c.send(clientFlow(server, 40002, 25, 26)); // after the move: search
    c.advanceTo(t(30.2));
    // Arrives after the move, but the connection started before it: billing.
    c.send(clientFlow(server, 40003, 10, 30));

    c.advanceTo(t(60 + 20 + 35 + 5));
    Map<String, FlowAggregate> byServerApp =
        c.aggregates().stream().collect(Collectors.toMap(a -> a.server().app(), a -> a));
    assertThat(byServerApp).containsOnlyKeys("billing", "search");
    FlowAggregate billing = byServerApp.get("billing");
    assertThat(billing.connections()).isEqualTo(2);
    assertThat(billing.ephemeralPorts()).containsExactly(40001, 40003);
    assertThat(billing.serverAttribution()).isEqualTo(AttributionStatus.OWNER);
    assertThat(billing.client().app()).isEqualTo("checkout");
    assertThat(billing.windowStart()).isEqualTo(T0.toEpochMilli());
    FlowAggregate search = byServerApp.get("search");
    assertThat(search.connections()).isEqualTo(1);
    assertThat(search.ephemeralPorts()).containsExactly(40002);
    // Each server end waited for the settle delay; none for an unknown owner.
    assertThat(counter("flowsight_collector_holds_total", "reason", "SETTLING")).isEqualTo(3);
    assertThat(counter("flowsight_collector_holds_total", "reason", "NEVER_SEEN")).isZero();
    assertThat(counter("flowsight_collector_holds_total", "reason", "GAP")).isZero();
  }

  @Test
  void shouldHoldAFlowToAnUnknownRemoteAndAttributeItWhenItsHeartbeatArrives() {
    CollectorDriver c = start();
    String server = "10.3.0.7";
    c.send(change(IdentityAction.ASSIGN, "10.1.0.9", null, app("batch"), T0.minusSeconds(60)));
    c.advanceTo(t(6.2));
    c.send(clientFlow(server, 40001, 5, 6));
    assertThat(gauge("flowsight_collector_held_flows", "reason", "SETTLING")).isEqualTo(1);
    // Settled at T0 + 5 s + 35 s, and the server is still unknown: held on for its owner.
    c.advanceTo(t(41.1));
    assertThat(gauge("flowsight_collector_held_flows", "reason", "SETTLING")).isZero();
    assertThat(gauge("flowsight_collector_held_flows", "reason", "NEVER_SEEN")).isEqualTo(1);

    // Then the server's own sidecar reports another connection, covering T0 + 5 s.
    c.advanceTo(t(41.2));
    c.send(
        flow(Side.SERVER, "10.1.0.9", 50000, server, 443, t(2), t(40))
            .setLocalIdentity(app("inventory"))
            .setBytesSent(7)
            .build());
    assertThat(gauge("flowsight_collector_held_flows", "reason", "NEVER_SEEN")).isZero();

    c.advanceTo(t(120));
    Map<String, FlowAggregate> byClient =
        c.aggregates().stream().collect(Collectors.toMap(FlowAggregate::clientIp, a -> a));
    FlowAggregate held = byClient.get(CLIENT);
    assertThat(held.server().app()).isEqualTo("inventory");
    assertThat(held.serverAttribution()).isEqualTo(AttributionStatus.OWNER);
    assertThat(held.connections()).isEqualTo(1);
    assertThat(held.bytesClientToServer()).isEqualTo(100);
    assertThat(byClient.get("10.1.0.9").client().app()).isEqualTo("batch");
    assertThat(byClient.get("10.1.0.9").observedBy()).isEqualTo(ObservedBy.SERVER);
    assertThat(counter("flowsight_collector_hold_releases_total", "outcome", "resolved"))
        .isEqualTo(1);
  }

  @Test
  void shouldMarkHeldFlowsUnattributedWithTheReasonOrTheirCidrBlockAfterTheHoldBack() {
    CollectorDriver c = start();
    // Known before, gone since T0 - 10 min: a flow at T0 falls in a gap the evidence does not
    // reach.
    c.send(change(IdentityAction.ASSIGN, "10.4.0.4", null, app("legacy"), T0.minusSeconds(1200)));
    c.send(change(IdentityAction.UNASSIGN, "10.4.0.4", null, app("legacy"), T0.minusSeconds(600)));
    c.send(
        change(IdentityAction.ASSIGN, "203.0.113.0", 24, app("partner-api"), T0.minusSeconds(60)));
    c.advanceTo(t(6.2));
    c.send(clientFlow("198.51.100.7", 40001, 5, 6)); // never seen
    c.send(clientFlow("10.4.0.4", 40002, 5, 6)); // a gap
    c.send(clientFlow("203.0.113.9", 40003, 5, 6)); // never seen, in a CIDR block
    assertThat(gauge("flowsight_collector_held_flows", "reason", "SETTLING")).isEqualTo(3);
    c.advanceTo(t(41));
    assertThat(gauge("flowsight_collector_held_flows", "reason", "NEVER_SEEN")).isEqualTo(2);
    assertThat(gauge("flowsight_collector_held_flows", "reason", "GAP")).isEqualTo(1);

    // Past the window's end + grace the rows still wait: their flows are held back.
    c.advanceTo(t(120));
    assertThat(c.aggregates()).isEmpty();

    // The hold-back (2 minutes) ends at T0 + 126.2 s.
    c.advanceTo(t(140));
    Map<String, FlowAggregate> byServer =
        c.aggregates().stream().collect(Collectors.toMap(FlowAggregate::serverIp, a -> a));
    assertThat(byServer).hasSize(3);
    assertThat(byServer.get("198.51.100.7").serverAttribution())
        .isEqualTo(AttributionStatus.NEVER_SEEN);
    assertThat(byServer.get("198.51.100.7").server()).isNull();
    assertThat(byServer.get("10.4.0.4").serverAttribution()).isEqualTo(AttributionStatus.GAP);
    assertThat(byServer.get("203.0.113.9").serverAttribution()).isEqualTo(AttributionStatus.CIDR);
    assertThat(byServer.get("203.0.113.9").server().app()).isEqualTo("partner-api");
    for (FlowAggregate a : byServer.values()) {
      assertThat(a.connections()).isEqualTo(1);
      assertThat(a.clientAttribution()).isEqualTo(AttributionStatus.OWNER);
      assertThat(a.windowStart()).isEqualTo(T0.toEpochMilli());
    }
    assertThat(counter("flowsight_collector_hold_releases_total", "outcome", "expired"))
        .isEqualTo(3);
    assertThat(gauge("flowsight_collector_held_flows", "reason", "NEVER_SEEN")).isZero();

    // Nothing more: every row went out once.
    c.advanceTo(t(300));
    assertThat(c.aggregates()).isEmpty();
  }

  @Test
  void shouldCountAConnectionSeenByBothEndsOnceAndMarkItObservedByBoth() {
    CollectorDriver c = start();
    String server = "10.2.0.8";
    c.advanceTo(t(7.5));
    // Connection 1: the client's record first. The server's start is the handshake's end.
    c.send(bothEnds(Side.CLIENT, server, 41000, 5.0, 7.0, 1000, 5000));
    c.send(bothEnds(Side.SERVER, server, 41000, 5.8, 7.001, 1000, 5000));
    // Connection 2: the server's record first.
    c.advanceTo(t(12.5));
    c.send(bothEnds(Side.SERVER, server, 41001, 10.7, 12.0, 300, 700));
    c.send(bothEnds(Side.CLIENT, server, 41001, 10.0, 12.1, 300, 700));

    c.advanceTo(t(120));
    List<FlowAggregate> out = c.aggregates();
    assertThat(out).hasSize(1);
    FlowAggregate a = out.get(0);
    assertThat(a.connections()).isEqualTo(2);
    assertThat(a.flowRecords()).isEqualTo(2);
    assertThat(a.bytesClientToServer()).isEqualTo(1300);
    assertThat(a.bytesServerToClient()).isEqualTo(5700);
    assertThat(a.observedBy()).isEqualTo(ObservedBy.BOTH);
    assertThat(a.ephemeralPorts()).containsExactly(41000, 41001);
    assertThat(a.client().app()).isEqualTo("checkout");
    assertThat(a.server().app()).isEqualTo("payments");
    assertThat(counter("flowsight_collector_duplicate_observations_total")).isEqualTo(2);
  }

  /** One end's record of a connection from the labeled client to a labeled server. */
  private static FlowRecord bothEnds(
      Side side, String server, int port, double start, double end, long c2s, long s2c) {
    boolean client = side == Side.CLIENT;
    return flow(side, CLIENT, port, server, 443, t(start), t(end))
        .setLocalIdentity(app(client ? "checkout" : "payments"))
        .setBytesSent(client ? c2s : s2c)
        .setBytesReceived(client ? s2c : c2s)
        .setSegmentsSent(client ? 5 : 6)
        .setSegmentsReceived(client ? 6 : 5)
        .setSrttMicros(client ? 400 : 380)
        .build();
  }

  @Test
  void shouldSumAWindowExactlyAndKeepABoundedListOfEphemeralPorts() {
    // No settle delay: the flows reach the aggregation in the order they are sent.
    CollectorDriver c =
        start(
            CollectorSettings.defaults(1)
                .withMaxPorts(3)
                .withSettle(Duration.ZERO, Duration.ofMillis(500)));
    String server = "10.2.0.9";
    c.send(change(IdentityAction.ASSIGN, server, null, app("db"), T0.minusSeconds(60)));
    c.advanceTo(t(50));
    // Three connections fill the port list; two more overflow it.
    c.send(window(40003, 1, 2, FlowKind.CLOSED, 10, 100, 1, 2, 0, 100));
    c.send(window(40001, 2, 3, FlowKind.CLOSED, 20, 200, 3, 4, 1, 300));
    c.send(window(40002, 3, 4, FlowKind.CLOSED, 30, 300, 5, 6, 2, 200));
    c.send(window(40004, 4, 5, FlowKind.CLOSED, 40, 400, 7, 8, 0, 0)); // no RTT sample
    // One long connection reports twice in the window (INTERIM, then CLOSED): one connection.
    FlowRecord interim = window(40009, 6, 20, FlowKind.INTERIM, 50, 500, 9, 10, 1, 150);
    c.send(interim);
    FlowRecord closed = window(40009, 6, 45, FlowKind.CLOSED, 60, 600, 11, 12, 0, 250);
    closed.setStartTime(t(20));
    c.send(closed);
    // A failed connect: no port (the kernel never chose one), no bytes.
    c.send(
        flow(Side.CLIENT, CLIENT, 0, server, 443, t(7), t(10))
            .setKind(FlowKind.FAILED_CONNECT)
            .setLocalIdentity(app("checkout"))
            .build());
    // The next window.
    c.advanceTo(t(62));
    c.send(window(40020, 55, 61, FlowKind.CLOSED, 1, 2, 3, 4, 0, 90));

    c.advanceTo(t(120));
    List<FlowAggregate> first = c.aggregates();
    assertThat(first).hasSize(1);
    FlowAggregate a = first.get(0);
    assertThat(a.windowStart()).isEqualTo(T0.toEpochMilli());
    assertThat(a.windowEnd()).isEqualTo(T0.plusSeconds(60).toEpochMilli());
    assertThat(a.connections()).isEqualTo(5);
    assertThat(a.failedConnections()).isEqualTo(1);
    assertThat(a.flowRecords()).isEqualTo(7);
    assertThat(a.bytesClientToServer()).isEqualTo(10 + 20 + 30 + 40 + 50 + 60);
    assertThat(a.bytesServerToClient()).isEqualTo(100 + 200 + 300 + 400 + 500 + 600);
    assertThat(a.segmentsClientToServer()).isEqualTo(1 + 3 + 5 + 7 + 9 + 11);
    assertThat(a.segmentsServerToClient()).isEqualTo(2 + 4 + 6 + 8 + 10 + 12);
    assertThat(a.retransmits()).isEqualTo(4);
    assertThat(a.rttMinMicros()).isEqualTo(100);
    assertThat(a.rttMaxMicros()).isEqualTo(300);
    assertThat(a.rttSumMicros()).isEqualTo(100 + 300 + 200 + 150 + 250);
    assertThat(a.rttCount()).isEqualTo(5);
    assertThat(a.ephemeralPorts()).containsExactly(40001, 40002, 40003);
    assertThat(a.ephemeralPortsOverflow()).isEqualTo(2);
    assertThat(a.firstSeen()).isEqualTo(t(1).toEpochMilli());
    assertThat(a.lastSeen()).isEqualTo(t(45).toEpochMilli());
    assertThat(a.observedBy()).isEqualTo(ObservedBy.CLIENT);
    assertThat(a.server().app()).isEqualTo("db");

    c.advanceTo(t(160));
    List<FlowAggregate> second = c.aggregates();
    assertThat(second).hasSize(1);
    assertThat(second.get(0).windowStart()).isEqualTo(T0.plusSeconds(60).toEpochMilli());
    assertThat(second.get(0).connections()).isEqualTo(1);
    assertThat(second.get(0).firstSeen()).isEqualTo(t(55).toEpochMilli());
  }

  private static FlowRecord window(
      int port,
      double start,
      double end,
      FlowKind kind,
      long sent,
      long received,
      long segmentsSent,
      long segmentsReceived,
      long retransmits,
      int srtt) {
    return flow(Side.CLIENT, CLIENT, port, "10.2.0.9", 443, t(start), t(end))
        .setKind(kind)
        .setLocalIdentity(app("checkout"))
        .setBytesSent(sent)
        .setBytesReceived(received)
        .setSegmentsSent(segmentsSent)
        .setSegmentsReceived(segmentsReceived)
        .setRetransmits(retransmits)
        .setSrttMicros(srtt)
        .build();
  }

  @Test
  void shouldSendPoisonRecordsToTheDeadLetterTopicWithReasonTopicPartitionAndOffset()
      throws Exception {
    CollectorDriver c = start();
    c.send(change(IdentityAction.ASSIGN, "10.2.0.5", null, app("billing"), T0.minusSeconds(60)));
    c.advanceTo(t(6.5));
    byte[] garbage = "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8);
    c.sendRaw(CLIENT, garbage, t(6.3)); // offset 0
    FlowRecord negative = clientFlow("10.2.0.5", 40001, 5, 6);
    negative.setBytesSent(-5L);
    c.send(negative); // offset 1
    FlowRecord backwards = clientFlow("10.2.0.5", 40002, 5, 6);
    backwards.setEndTime(t(4));
    c.send(backwards, t(6.3)); // offset 2
    FlowRecord shortIp = clientFlow("10.2.0.5", 40003, 5, 6);
    shortIp.setRemoteIp(ByteBuffer.wrap(new byte[] {10, 2, 0, 5, 1}));
    c.send(shortIp); // offset 3
    // Ended 25 hours before the collector's clock: older than the 24 h late horizon.
    c.send(clientFlow("10.2.0.5", 40004, -90_000, -89_999), t(6.3)); // offset 4
    c.sendIdentity(
        "10.9.9.9",
        change(IdentityAction.ASSIGN, "10.2.0.6", null, app("x"), T0),
        T0); // identity offset 1
    // A block with host bits set: which block was meant?
    c.sendIdentity(
        "10.2.3.4/8", change(IdentityAction.ASSIGN, "10.2.3.4", 8, app("dc"), T0), T0); // offset 2
    c.sendRaw(CLIENT, null, t(6.4)); // offset 5
    // Ends ten minutes after it was produced: the sidecar's clock is wrong.
    c.send(clientFlow("10.2.0.5", 40006, 5, 600), t(6.4)); // offset 6
    c.send(clientFlow("10.2.0.5", 40005, 5, 6)); // offset 7: fine, and processed

    List<TestRecord<byte[], byte[]>> dead = c.deadLetters();
    List<JsonNode> envelopes = dead.stream().map(r -> read(r.value())).collect(Collectors.toList());
    assertThat(envelopes)
        .extracting(e -> e.get("reason").asText())
        .containsExactly(
            "undecodable",
            "invalid",
            "invalid",
            "invalid",
            "too-late",
            "key-mismatch",
            "invalid",
            "invalid",
            "invalid");
    assertThat(envelopes)
        .extracting(e -> e.get("offset").asLong())
        .containsExactly(0L, 1L, 2L, 3L, 4L, 1L, 2L, 5L, 6L);
    assertThat(envelopes)
        .extracting(e -> e.get("sourceTopic").asText())
        .containsExactly(
            "flows-raw-v1",
            "flows-raw-v1",
            "flows-raw-v1",
            "flows-raw-v1",
            "flows-raw-v1",
            "ip-identity-v1",
            "ip-identity-v1",
            "flows-raw-v1",
            "flows-raw-v1");
    assertThat(envelopes).allSatisfy(e -> assertThat(e.get("partition").asInt()).isZero());
    assertThat(envelopes.get(1).get("detail").asText()).contains("negative", "bytesSent -5");
    assertThat(envelopes.get(2).get("detail").asText()).contains("endTime", "before startTime");
    assertThat(envelopes.get(3).get("detail").asText()).contains("remoteIp has 5 bytes");
    assertThat(envelopes.get(4).get("detail").asText())
        .contains("older than the late horizon PT24H");
    assertThat(Base64.getDecoder().decode(envelopes.get(0).get("valueBase64").asText()))
        .isEqualTo(garbage);
    assertThat(envelopes.get(0).get("key").asText()).isEqualTo(CLIENT);
    TestRecord<byte[], byte[]> first = dead.get(0);
    assertThat(header(first, "flowsight.dlq.reason")).isEqualTo("undecodable");
    assertThat(header(first, "flowsight.dlq.topic")).isEqualTo("flows-raw-v1");
    assertThat(header(first, "flowsight.dlq.partition")).isEqualTo("0");
    assertThat(header(first, "flowsight.dlq.offset")).isEqualTo("0");
    assertThat(new String(first.key(), StandardCharsets.UTF_8)).isEqualTo(CLIENT);

    assertThat(envelopes.get(6).get("detail").asText()).contains("host bits set");
    assertThat(counter("flowsight_collector_dead_letters_total", "reason", "invalid")).isEqualTo(6);
    assertThat(envelopes.get(8).get("detail").asText()).contains("after the record was produced");
    assertThat(counter("flowsight_collector_dead_letters_total", "reason", "too_late"))
        .isEqualTo(1);

    c.advanceTo(t(120));
    List<FlowAggregate> out = c.aggregates();
    assertThat(out).hasSize(1);
    assertThat(out.get(0).connections()).isEqualTo(1);
    assertThat(out.get(0).ephemeralPorts()).containsExactly(40005);
  }

  @Test
  void shouldWriteARowAsFlatJson() throws Exception {
    CollectorDriver c = start();
    c.send(change(IdentityAction.ASSIGN, "10.2.0.5", null, app("billing"), T0.minusSeconds(60)));
    c.advanceTo(t(6.5));
    c.send(clientFlow("10.2.0.5", 40001, 5, 6));
    c.advanceTo(t(120));
    byte[] json =
        c.driver
            .createOutputTopic(
                Topics.DEFAULT_AGGREGATED,
                Serdes.String().deserializer(),
                Serdes.ByteArray().deserializer())
            .readValue();
    JsonNode n = JSON.readTree(json);
    // The field list itself is bound to AggregatedFlow.avsc and the Druid spec in
    // OutputContractTest; here, the values a real row carries.
    assertThat(n.get("serverApp").asText()).isEqualTo("billing");
    assertThat(n.get("ephemeralPorts").isArray()).isTrue();
    assertThat(n.get("ephemeralPorts").get(0).asInt()).isEqualTo(40001);
    assertThat(n.get("windowStart").asLong()).isEqualTo(T0.toEpochMilli());
    assertThat(n.get("protocol").asText()).isEqualTo("TCP");
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static JsonNode read(byte[] json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String header(TestRecord<byte[], byte[]> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  @Test
  void shouldSendARecordDeliveredAfterItsWindowWentOutInAnAdditionalRowOfThatWindow() {
    CollectorDriver c = start();
    String server = "10.2.0.5";
    c.send(change(IdentityAction.ASSIGN, server, null, app("billing"), T0.minusSeconds(60)));
    c.advanceTo(t(6.5));
    c.send(clientFlow(server, 40001, 5, 6));
    c.advanceTo(t(120));
    List<FlowAggregate> onTime = c.aggregates();
    assertThat(onTime).hasSize(1);
    assertThat(onTime.get(0).connections()).isEqualTo(1);

    // The sidecar could not reach Kafka for ten minutes; it kept the record and sends it now,
    // stamped with its endTime, produced at T0 + 600 s.
    c.advanceTo(t(600));
    c.send(clientFlow(server, 40002, 10, 12), t(600));
    c.advanceTo(t(610));
    List<FlowAggregate> correction = c.aggregates();
    assertThat(correction).hasSize(1);
    FlowAggregate row = correction.get(0);
    assertThat(row.windowStart()).isEqualTo(onTime.get(0).windowStart());
    assertThat(row.connections()).isEqualTo(1);
    assertThat(row.bytesClientToServer()).isEqualTo(100);
    assertThat(row.ephemeralPorts()).containsExactly(40002);
    assertThat(row.server().app()).isEqualTo("billing");
    assertThat(counter("flowsight_collector_records_after_close_total")).isEqualTo(1);
    assertThat(c.deadLetters()).isEmpty();
  }

  @Test
  void shouldCountAConnectionOnceWhenItsOtherEndArrivesHoursLate() {
    CollectorDriver c = start();
    String server = "10.2.0.8";
    c.send(change(IdentityAction.ASSIGN, "10.2.0.5", null, app("billing"), T0.minusSeconds(60)));
    c.advanceTo(t(7.5));
    c.send(bothEnds(Side.CLIENT, server, 41000, 5.0, 7.0, 1000, 5000));
    // The server's owner is not known: its row goes out unattributed after the hold-back.
    c.advanceTo(t(300));
    assertThat(c.aggregates())
        .singleElement()
        .satisfies(a -> assertThat(a.connections()).isEqualTo(1));

    // Three hours of other traffic move the collector's stream time on; then the server's own
    // sidecar, cut off from Kafka all that time, delivers its record of the same connection.
    double later = 3 * 3600;
    c.jumpTo(t(later - 10));
    c.advanceTo(t(later));
    c.send(clientFlow("10.2.0.5", 42000, later - 2, later - 1));
    c.send(bothEnds(Side.SERVER, server, 41000, 5.8, 7.001, 1000, 5000), t(later));
    c.advanceTo(t(later + 300));

    List<FlowAggregate> out = c.aggregates();
    assertThat(out)
        .singleElement()
        .satisfies(a -> assertThat(a.ephemeralPorts()).containsExactly(42000));
    assertThat(counter("flowsight_collector_duplicate_observations_total")).isEqualTo(1);
    assertThat(c.deadLetters()).isEmpty();
  }

  @Test
  void shouldCountTheRecordsMissingFromEachSidecarRunsSequence() {
    CollectorDriver c = start();
    String server = "10.2.0.5";
    c.advanceTo(t(7.5));
    // Run A: 0, 1, then 4 (2 and 3 lost), then 3 again out of order: two missing.
    int port = 40000;
    for (long sequence : new long[] {0, 1, 4, 3, 5}) {
      FlowRecord r = clientFlow(server, port++, 5, 6);
      r.setSidecarRunId("run-a");
      r.setSequence(sequence);
      c.send(r);
    }
    // Run B is first seen at 7: its count starts there; then 9 (8 lost).
    for (long sequence : new long[] {7, 9}) {
      FlowRecord r = clientFlow(server, port++, 5, 6);
      r.setSidecarRunId("run-b");
      r.setSequence(sequence);
      c.send(r);
    }
    assertThat(counter("flowsight_collector_sequence_gaps_total")).isEqualTo(3);
  }

  @Test
  void shouldTimeWindowsByTheProduceTimeHeaderAndNotByTheRecordTimestamp() {
    CollectorDriver c = start();
    String server = "10.2.0.5";
    c.send(change(IdentityAction.ASSIGN, server, null, app("billing"), T0.minusSeconds(60)));
    c.advanceTo(t(6.5));
    // A record's Kafka timestamp is its endTime; its endTime a minute ahead of the produce time
    // (clock skew within bounds) must not be read as a produce time.
    c.send(clientFlow(server, 40001, 5, 6), t(6.2));
    FlowRecord ahead = clientFlow(server, 40002, 5, 66);
    c.send(ahead, t(6.3));
    c.advanceTo(t(120));
    // The first window [T0, T0 + 60 s) went out at its end + grace of the produce times.
    assertThat(c.aggregates())
        .extracting(FlowAggregate::ephemeralPorts)
        .containsExactly(List.of(40001));
  }

  private double counter(String name, String... labels) {
    return value(name, labels);
  }

  private double gauge(String name, String... labels) {
    return value(name, labels);
  }

  private double value(String name, String... labels) {
    return collector.metric(name, labels);
  }
}
