package io.flowsight.collector.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowsight.collector.bench.ChurnWorkload.Connection;
import io.flowsight.collector.bench.ChurnWorkload.Emission;
import io.flowsight.collector.bench.ChurnWorkload.Kind;
import io.flowsight.collector.bench.ChurnWorkload.Report;
import io.flowsight.collector.bench.ChurnWorkload.Sides;
import io.flowsight.collector.bench.ChurnWorkload.Tenure;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.IdentityAction;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The generated world keeps the promises the scorer's truth relies on. */
class ChurnWorkloadTest {

  static final long START = 1_700_000_040_000L; // a minute boundary
  static final ChurnWorkload.Params PARAMS = new ChurnWorkload.Params(60, 100, 7, 60_000);

  final ChurnWorkload world = new ChurnWorkload(PARAMS, START);

  @Test
  void theSameSeedGivesTheSameWorkload() {
    ChurnWorkload again = new ChurnWorkload(PARAMS, START);
    assertEquals(world.emissions.size(), again.emissions.size());
    for (int i = 0; i < world.emissions.size(); i++) {
      Emission a = world.emissions.get(i);
      Emission b = again.emissions.get(i);
      assertEquals(a.scheduledAt, b.scheduledAt);
      assertEquals(a.key, b.key);
      assertEquals(String.valueOf(a.flow), String.valueOf(b.flow));
      assertEquals(String.valueOf(a.change), String.valueOf(b.change));
    }
    ChurnWorkload other = new ChurnWorkload(new ChurnWorkload.Params(60, 100, 8, 60_000), START);
    assertNotEquals(
        String.valueOf(world.emissions.get(500).flow),
        String.valueOf(other.emissions.get(500).flow));
  }

  @Test
  void theRegionHas300IpsOf60Ipv6AndMostChurn() {
    assertEquals(300, world.tenures.size());
    assertEquals(60, world.tenures.keySet().stream().filter(ip -> ip.contains(":")).count());
    long churning = world.tenures.values().stream().filter(l -> l.size() > 1).count();
    assertTrue(churning > 150 && churning < 210, "churning IPs: " + churning);
    for (List<Tenure> list : world.tenures.values()) {
      for (int i = 1; i < list.size(); i++) {
        assertTrue(list.get(i).from >= list.get(i - 1).to, "tenures of one IP do not overlap");
        long length = list.get(i - 1).to - list.get(i - 1).from;
        assertTrue(length >= 4_000 && length <= 20_000, "tenure of " + length + " ms");
      }
    }
    Set<Kind> kinds = new HashSet<>();
    world.tenures.values().forEach(l -> l.forEach(t -> kinds.add(t.app.kind())));
    assertEquals(Set.of(Kind.values()), kinds);
  }

  @Test
  void eventsCarryTheTrueTimeAndArriveAtMost30sLate() {
    int late = 0;
    int events = 0;
    for (List<Tenure> list : world.tenures.values()) {
      for (Tenure t : list) {
        if (!t.app.kind().events) {
          assertEquals(null, t.assign);
          continue;
        }
        assertNotNull(t.assign);
        assertEquals(IdentityAction.ASSIGN, t.assign.change.getAction());
        assertEquals(t.from, t.assign.change.getEventTime().toEpochMilli());
        assertEquals(t.ip, t.assign.key);
        for (Emission e : new Emission[] {t.assign, t.unassign}) {
          if (e == null) {
            continue;
          }
          long time = e.change.getEventTime().toEpochMilli();
          long delay = e.scheduledAt - Math.max(time, START);
          assertTrue(e.scheduledAt >= START && delay <= 30_000, "delay " + delay);
          if (time >= START) {
            events++;
            if (e.scheduledAt - time > 5_000) {
              late++;
            }
          }
        }
      }
    }
    double share = (double) late / events;
    assertTrue(share > 0.12 && share < 0.28, "events more than 5 s late: " + share);
  }

  @Test
  void connectionsHaveUniquePortsOwnersAtTheStartAndReportsAwayFromWindowBoundaries() {
    assertTrue(world.connections.size() > 5_800, "connections: " + world.connections.size());
    Map<String, Integer> byPort = new HashMap<>();
    Map<Sides, Integer> sides = new HashMap<>();
    int longLived = 0;
    int late = 0;
    for (Connection c : world.connections) {
      assertEquals(c.client, world.ownerAt(c.clientIp, c.start));
      assertEquals(c.server, world.ownerAt(c.serverIp, c.start));
      assertTrue(c.client.app.kind().sidecar || c.server.app.kind().sidecar);
      assertEquals(c.clientIp.contains(":"), c.serverIp.contains(":"));
      assertEquals(c.server.app.servicePort(), c.servicePort);
      assertEquals(null, byPort.put(c.clientIp + "|" + c.clientPort, c.id), "a port used twice");
      sides.merge(c.sides, 1, Integer::sum);
      if (c.longLived) {
        longLived++;
        assertTrue(c.close - c.start >= 120_000 && c.close - c.start <= 241_000);
        assertTrue(c.client.stable() && c.client.app.kind().sidecar);
        assertTrue(c.reports.size() >= 4);
      } else {
        assertTrue(c.close < c.client.to && c.close < c.server.to, "ends within both tenures");
      }
      if (c.late) {
        late++;
      }
      for (int i = 0; i < c.reports.size(); i++) {
        Report r = c.reports.get(i);
        long m = Math.floorMod(r.to, PARAMS.windowMs());
        assertTrue(m > 300 && m < PARAMS.windowMs() - 300, "a report at a window boundary");
        for (Emission e : new Emission[] {r.clientRecord, r.serverRecord}) {
          if (e == null) {
            continue;
          }
          FlowRecord f = e.flow;
          assertEquals(i == c.reports.size() - 1 ? FlowKind.CLOSED : FlowKind.INTERIM, f.getKind());
          assertEquals(e.timestamp, f.getEndTime().toEpochMilli());
          assertEquals(f.getEndTime().toEpochMilli() - e.host.skewMs(), r.to);
          assertTrue(Math.abs(e.host.skewMs()) <= 300);
          assertNotNull(f.getLocalIdentity());
        }
      }
      // The server's view begins at the end of the handshake.
      Report first = c.reports.get(0);
      if (first.serverRecord != null) {
        long serverStart =
            first.serverRecord.flow.getConnectionStartTime().toEpochMilli()
                - first.serverRecord.host.skewMs();
        assertEquals(c.start + Math.max(1, (c.rttMicros + 999) / 1000), serverStart);
      }
    }
    assertTrue(longLived > 100 && longLived < 260, "long-lived: " + longLived);
    assertTrue(late > 100 && late < 260, "late: " + late);
    assertTrue(sides.get(Sides.ONE_DROPPED) > 0.05 * sides.get(Sides.BOTH));
    assertTrue(sides.get(Sides.ONE_NO_SIDECAR) > 1_000);
  }

  @Test
  void eachSidecarRunNumbersItsRecordsPerLocalIpInSendOrder() {
    Map<String, Long> next = new HashMap<>();
    for (Emission e : world.emissions) {
      if (e.flow == null || e.expectedDeadLetter != null) {
        continue;
      }
      String series = e.flow.getSidecarRunId() + "|" + e.key;
      long expected = next.getOrDefault(series, 0L);
      assertEquals(expected, e.flow.getSequence());
      next.put(series, expected + 1);
    }
    for (int i = 1; i < world.emissions.size(); i++) {
      assertTrue(world.emissions.get(i).scheduledAt >= world.emissions.get(i - 1).scheduledAt);
    }
  }

  @Test
  void poisonNamesTheReasonOfItsDeadLetter() {
    assertEquals(10, world.poison.size());
    Map<String, Integer> reasons = new HashMap<>();
    world.poison.forEach(p -> reasons.merge(p.expectedDeadLetter, 1, Integer::sum));
    assertEquals(Map.of("undecodable", 4, "invalid", 5, "key-mismatch", 1), reasons);
  }
}
