package io.flowsight.collector.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowsight.collector.bench.AttributionScore.ArrivedRow;
import io.flowsight.collector.bench.AttributionScore.Result;
import io.flowsight.collector.bench.AttributionScore.Tally;
import io.flowsight.collector.bench.ChurnWorkload.App;
import io.flowsight.collector.bench.ChurnWorkload.Connection;
import io.flowsight.collector.bench.ChurnWorkload.Emission;
import io.flowsight.collector.bench.ChurnWorkload.Heartbeat;
import io.flowsight.collector.bench.ChurnWorkload.Host;
import io.flowsight.collector.bench.ChurnWorkload.Report;
import io.flowsight.collector.bench.ChurnWorkload.Sides;
import io.flowsight.collector.bench.ChurnWorkload.Tenure;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.output.Owner;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Protocol;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The scorer's classification of ends on hand-made truth and rows: correct, wrong (and the worse of
 * two rows), knowable or not by when the evidence was produced, missing, counted twice.
 */
class AttributionScoreTest {

  static final long START = 1_700_000_040_000L; // a minute boundary
  static final long WINDOW = 60_000;
  static final long HOLD_BACK = 120_000;

  static final String CLIENT = "10.42.1.10";
  static final String SERVER = "10.10.20.20";

  final Map<String, List<Tenure>> tenures = new LinkedHashMap<>();
  final List<Connection> connections = new ArrayList<>();
  final Host node = new Host("node-1", "run-1", 120, "eu-west-1a");
  final Host slow = new Host("node-2", "run-2", -300, "eu-west-1b");

  // The client: one pod for the whole run. The server IP: orders-db until +10 s, nobody for 2 s,
  // then sessions-cache (managed services: known by events only).
  final Tenure pod =
      tenure(CLIENT, 0, "checkout", "checkout-abc-1", START - 3_600_000, Long.MAX_VALUE, node);
  final Tenure ordersDb =
      tenure(SERVER, 0, "orders-db", "orders-db-prod", START, START + 10_000, null);
  final Tenure cache =
      tenure(
          SERVER, 1, "sessions-cache", "sessions-cache-prod", START + 12_000, START + 30_000, null);

  AttributionScoreTest() {
    pod.assign = sent(START);
    ordersDb.assign = sent(START);
    ordersDb.unassign = sent(START + 11_000);
  }

  @Test
  void anEndIsCorrectWhenTheRowNamesTheTrueOwnerAndWrongWhenItNamesAnother() {
    cache.assign = sent(START + 13_000);
    Connection c = connection(1, 40_001, START + 15_000, pod, cache);
    List<ArrivedRow> rows =
        List.of(
            arrived(
                row(
                    c,
                    owner(pod),
                    AttributionStatus.OWNER,
                    owner(ordersDb),
                    AttributionStatus.OWNER,
                    1,
                    List.of(40_001)),
                START + 80_000));

    Result r = score(rows);

    Tally all = r.all();
    assertEquals(1, all.connectionWindows);
    assertEquals(2, all.ends);
    assertEquals(1, all.correct); // the client: its own sidecar's label
    assertEquals(1, all.wrong); // the server: orders-db had left 5 s before
    assertEquals(1, all.wrongConnectionWindows);
    assertEquals(1, r.cases.get("server managed").wrong);
    assertEquals(1, r.cases.get("client K8s").correct);
    assertEquals(1, r.cases.get(Sides.ONE_NO_SIDECAR.label).wrong);
    assertEquals(Map.of("an earlier owner", 1L), r.wrongKinds);
    assertEquals(1, r.wrongDiagnostics.size());
    String line = r.wrongDiagnostics.get(0);
    assertTrue(line.startsWith("server 10.10.20.20 T=+15.000s"), line);
    assertTrue(line.contains("truth sessions-cache/sessions-cache-prod (managed)"), line);
    assertTrue(line.contains("answer orders-db/orders-db-prod [OWNER]"), line);
    assertTrue(line.contains("orders-db/orders-db-prod (managed) [+0.000s, +10.000s)"), line);
    assertTrue(line.contains("ASSIGN produced +13.000s"), line);
    assertTrue(r.countsExact());
  }

  @Test
  void aWrongEndLookedUpOutsideTheTrueTenureSaysSo() {
    cache.assign = sent(START + 13_000);
    Tenure slowPod =
        tenure("10.42.1.11", 0, "cart", "cart-abc-1", START - 3_600_000, Long.MAX_VALUE, slow);
    // T is 100 ms into sessions-cache's tenure; the client's clock is 300 ms behind.
    Connection c = connection(1, 40_001, START + 12_100, slowPod, cache);
    Result r =
        score(
            List.of(
                arrived(
                    row(
                        c,
                        owner(slowPod),
                        AttributionStatus.OWNER,
                        owner(ordersDb),
                        AttributionStatus.OWNER,
                        1,
                        List.of(40_001)),
                    START + 80_000)));
    assertEquals(
        Map.of("an earlier owner, looked up before the true tenure began", 1L), r.wrongKinds);
    assertTrue(r.wrongDiagnostics.get(0).contains("looked up at client clock +11.800s"));
  }

  @Test
  void anotherPodOfTheSameAppIsWrong() {
    Tenure next = tenure(CLIENT, 1, "checkout", "checkout-abc-2", START, START + 30_000, node);
    cache.assign = sent(START + 13_000);
    Connection c = connection(1, 40_001, START + 15_000, next, cache);
    Result r =
        score(
            List.of(
                arrived(
                    row(
                        c,
                        owner(pod),
                        AttributionStatus.OWNER,
                        owner(cache),
                        AttributionStatus.OWNER,
                        1,
                        List.of(40_001)),
                    START + 80_000)));
    assertEquals(1, r.all().wrong);
    assertEquals(1, r.all().correct);
  }

  @Test
  void unattributedIsKnowableOnlyWhenTheEvidenceWasProducedBeforeTheHoldBackEnded() {
    // The client's record is produced at +16 s: its hold-back ends at +136 s.
    Connection early = connection(1, 40_001, START + 15_000, pod, cache);
    cache.assign = sent(START + 16_000 + HOLD_BACK); // just in time
    Result r =
        score(
            List.of(
                arrived(
                    row(
                        early,
                        owner(pod),
                        AttributionStatus.OWNER,
                        null,
                        AttributionStatus.GAP,
                        1,
                        List.of(40_001)),
                    START + 200_000)));
    assertEquals(1, r.all().knowable);
    assertEquals(0, r.all().unattributable);
    assertEquals(Map.of("GAP", 1L), r.all().reasons);

    cache.assign = sent(START + 16_001 + HOLD_BACK); // a millisecond late
    r =
        score(
            List.of(
                arrived(
                    row(
                        early,
                        owner(pod),
                        AttributionStatus.OWNER,
                        null,
                        AttributionStatus.GAP,
                        1,
                        List.of(40_001)),
                    START + 200_000)));
    assertEquals(0, r.all().knowable);
    assertEquals(1, r.all().unattributable);
    assertEquals(0, r.wrongEnds());
  }

  @Test
  void aHeartbeatBeginningWithinTheStartToleranceMakesAnEndKnowable() {
    Host vm = new Host("i-0abc", "run-2", -250, "eu-west-1b");
    Tenure ldap = tenure(SERVER, 0, "ldap", "ldap", START - 3_600_000, Long.MAX_VALUE, vm);
    Connection c = connection(1, 40_001, START + 15_000, pod, ldap);
    // Another connection of the VM's, beginning 1.5 s after T, produced in time.
    ldap.heartbeats.add(new Heartbeat(START + 16_500, START + 17_000, sent(START + 17_500)));
    Result r = score(List.of(arrived(unattributedServer(c), START + 200_000)));
    assertEquals(1, r.all().knowable);

    // Beginning 2.5 s after T: not a claim about T.
    ldap.heartbeats.clear();
    ldap.heartbeats.add(new Heartbeat(START + 17_500, START + 18_000, sent(START + 18_500)));
    r = score(List.of(arrived(unattributedServer(c), START + 200_000)));
    assertEquals(0, r.all().knowable);
    assertEquals(1, r.all().unattributable);
  }

  @Test
  void anUnpublishedOwnerIsUnattributable() {
    Tenure partner =
        tenure(
            SERVER, 0, "partner-vpn", "partner-vpn-prod", START - 3_600_000, Long.MAX_VALUE, null);
    Connection c = connection(1, 40_001, START + 15_000, pod, partner);
    Result r =
        score(
            List.of(
                arrived(
                    row(
                        c,
                        owner(pod),
                        AttributionStatus.OWNER,
                        null,
                        AttributionStatus.NEVER_SEEN,
                        1,
                        List.of(40_001)),
                    START + 200_000)));
    assertEquals(1, r.cases.get("server unpublished").unattributable);
    assertEquals(Map.of("NEVER_SEEN", 1L), r.cases.get("server unpublished").reasons);
  }

  @Test
  void theWorseOfTwoRowsHoldingThePortCounts() {
    cache.assign = sent(START + 13_000);
    Connection c = connection(1, 40_001, START + 15_000, pod, cache);
    // The same connection-window split over two rows (two records with different answers); the
    // connection counts in the first only.
    FlowAggregate right =
        row(
            c,
            owner(pod),
            AttributionStatus.OWNER,
            owner(cache),
            AttributionStatus.OWNER,
            1,
            List.of(40_001));
    FlowAggregate wrong =
        row(
            c,
            owner(pod),
            AttributionStatus.OWNER,
            owner(ordersDb),
            AttributionStatus.OWNER,
            0,
            List.of(40_001));
    Result r = score(List.of(arrived(right, START + 80_000), arrived(wrong, START + 80_000)));
    assertEquals(1, r.all().wrong);
    assertEquals(1, r.all().correct);
  }

  @Test
  void aConnectionWithoutARowIsMissingAndOneCountedTwiceIsCaught() {
    cache.assign = sent(START + 13_000);
    Connection a = connection(1, 40_001, START + 15_000, pod, cache);
    Connection b = connection(2, 40_003, START + 16_000, pod, cache);
    // One row for both connections of the 4-tuple, listing only a's port, counting 2: b is
    // missing, the (window, 4-tuple)'s count and bytes still add up.
    FlowAggregate both =
        row(
            a,
            owner(pod),
            AttributionStatus.OWNER,
            owner(cache),
            AttributionStatus.OWNER,
            2,
            List.of(40_001));
    both = withBytes(both, 200, 2_000);
    Result r = score(List.of(arrived(both, START + 80_000)));
    assertEquals(1, r.missing);
    assertEquals(1, r.all().missing);
    assertEquals(0, r.countMismatches);
    assertFalse(r.countsExact());

    // Counted twice in its window, and again in the next one.
    FlowAggregate twice =
        row(
            a,
            owner(pod),
            AttributionStatus.OWNER,
            owner(cache),
            AttributionStatus.OWNER,
            3,
            List.of(40_001, 40_003));
    FlowAggregate again =
        shifted(
            row(
                a,
                owner(pod),
                AttributionStatus.OWNER,
                owner(cache),
                AttributionStatus.OWNER,
                1,
                List.of(40_001)),
            WINDOW);
    r = score(List.of(arrived(twice, START + 80_000), arrived(again, START + 140_000)));
    assertEquals(0, r.missing);
    assertEquals(1, r.duplicated);
    assertEquals(2, r.countMismatches);
    assertEquals(2, r.extraConnections);
    assertFalse(r.countsExact());
    assertEquals(2, b.id);
  }

  @Test
  void freshnessRunsFromTheCloseToTheRowsArrival() {
    cache.assign = sent(START + 13_000);
    Connection c = connection(1, 40_001, START + 15_000, pod, cache);
    Result r =
        score(
            List.of(
                arrived(
                    row(
                        c,
                        owner(pod),
                        AttributionStatus.OWNER,
                        owner(cache),
                        AttributionStatus.OWNER,
                        1,
                        List.of(40_001)),
                    START + 81_500)));
    assertEquals(List.of(81_500L - 15_500L), r.freshnessMs);
    assertEquals(66_000, r.freshnessPercentile(95));
  }

  // ---- hand-made truth and rows ------------------------------------------------------------

  Result score(List<ArrivedRow> rows) {
    return new AttributionScore(connections, tenures, START, WINDOW, HOLD_BACK).score(rows);
  }

  Tenure tenure(String ip, int index, String app, String workload, long from, long to, Host host) {
    App a = ChurnWorkload.APPS.stream().filter(x -> x.name().equals(app)).findFirst().orElseThrow();
    Identity identity =
        Identity.newBuilder().setApp(app).setWorkloadName(workload).setInstanceId(workload).build();
    Tenure t = new Tenure(ip, index, a, identity, from, to, host);
    tenures.computeIfAbsent(ip, k -> new ArrayList<>()).add(t);
    return t;
  }

  /** A 500 ms connection reported by the client's sidecar only, produced 1 s after T. */
  Connection connection(int id, int port, long t, Tenure client, Tenure server) {
    Connection c =
        new Connection(
            id,
            client.ip,
            server.ip,
            server.app.servicePort(),
            port,
            t,
            t + 500,
            1_000,
            client,
            server,
            false,
            Sides.ONE_NO_SIDECAR);
    Report r = new Report(t, t + 500, true, 100, 1_000);
    r.clientRecord =
        new Emission(
            Emission.Target.FLOWS,
            client.ip,
            null,
            null,
            null,
            false,
            t + 500 + client.host.skewMs(),
            client.host,
            t + 1_000,
            null,
            null);
    r.clientRecord.sentAt = t + 1_000;
    client.heartbeats.add(new Heartbeat(t, t + 500, r.clientRecord));
    c.reports.add(r);
    connections.add(c);
    return c;
  }

  static Emission sent(long at) {
    Emission e =
        new Emission(
            Emission.Target.IDENTITIES, "k", null, null, null, false, null, null, at, null, null);
    e.sentAt = at;
    return e;
  }

  static Owner owner(Tenure t) {
    return Owner.of(t.identity);
  }

  FlowAggregate unattributedServer(Connection c) {
    return row(
        c,
        owner(pod),
        AttributionStatus.OWNER,
        null,
        AttributionStatus.GAP,
        1,
        List.of(c.clientPort));
  }

  static ArrivedRow arrived(FlowAggregate row, long at) {
    return new ArrivedRow(row, at);
  }

  static FlowAggregate row(
      Connection c,
      Owner client,
      AttributionStatus clientStatus,
      Owner server,
      AttributionStatus serverStatus,
      long connections,
      List<Integer> ports) {
    long window = Math.floorDiv(c.close, WINDOW) * WINDOW;
    return new FlowAggregate(
        window,
        window + WINDOW,
        Protocol.TCP,
        AddressFamily.IPV4,
        c.clientIp,
        c.serverIp,
        c.servicePort,
        client,
        clientStatus,
        server,
        serverStatus,
        ObservedBy.CLIENT,
        connections,
        0,
        100 * connections,
        1_000 * connections,
        2,
        2,
        0,
        1_000,
        1_000,
        1_000,
        1,
        ports,
        0,
        c.start,
        c.close,
        connections);
  }

  static FlowAggregate withBytes(FlowAggregate a, long c2s, long s2c) {
    return new FlowAggregate(
        a.windowStart(),
        a.windowEnd(),
        a.protocol(),
        a.addressFamily(),
        a.clientIp(),
        a.serverIp(),
        a.servicePort(),
        a.client(),
        a.clientAttribution(),
        a.server(),
        a.serverAttribution(),
        a.observedBy(),
        a.connections(),
        a.failedConnections(),
        c2s,
        s2c,
        a.segmentsClientToServer(),
        a.segmentsServerToClient(),
        a.retransmits(),
        a.rttMinMicros(),
        a.rttMaxMicros(),
        a.rttSumMicros(),
        a.rttCount(),
        a.ephemeralPorts(),
        a.ephemeralPortsOverflow(),
        a.firstSeen(),
        a.lastSeen(),
        a.flowRecords());
  }

  static FlowAggregate shifted(FlowAggregate a, long by) {
    return new FlowAggregate(
        a.windowStart() + by,
        a.windowEnd() + by,
        a.protocol(),
        a.addressFamily(),
        a.clientIp(),
        a.serverIp(),
        a.servicePort(),
        a.client(),
        a.clientAttribution(),
        a.server(),
        a.serverAttribution(),
        a.observedBy(),
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
        a.firstSeen(),
        a.lastSeen(),
        a.flowRecords());
  }
}
