package io.flowsight.collector.bench;

import io.flowsight.collector.output.Owner;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.collector.wire.Messages;
import io.flowsight.enrichment.ownership.HistoryPolicy;
import io.flowsight.enrichment.ownership.OwnershipHistory;
import io.flowsight.enrichment.ownership.OwnershipHistorySerde;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.testing.SampleFlows;
import java.time.Instant;
import java.util.Map;

/**
 * Prints the stored size ({@link OwnershipHistorySerde}) of typical per-IP ownership histories: the
 * state the collector keeps per IP, which the co-partitioned design spreads over the instances and
 * a global store would copy to every one.
 */
public final class OwnershipStateSize {

  private OwnershipStateSize() {}

  public static void main(String[] args) {
    HistoryPolicy policy = HistoryPolicy.DEFAULT;
    Instant t = Instant.parse("2026-03-02T10:00:00Z");
    Identity a = identity("checkout", "checkout-7d9f8b6c5-x2x7q");
    Identity b = identity("search-frontend", "search-frontend-5c7b9d4f8-k8p2m");

    OwnershipHistory heartbeat =
        OwnershipHistory.empty().withHeartbeat(a, t, t.plusSeconds(55), policy);
    OwnershipHistory event =
        OwnershipHistory.empty()
            .withChange(IdentityAction.ASSIGN, a, t, "kubernetes", "prod-east", policy);
    OwnershipHistory both = event.withHeartbeat(a, t.plusSeconds(5), t.plusSeconds(600), policy);
    OwnershipHistory moved =
        both.withChange(
                IdentityAction.UNASSIGN, a, t.plusSeconds(900), "kubernetes", "prod-east", policy)
            .withChange(
                IdentityAction.ASSIGN, b, t.plusSeconds(901), "kubernetes", "prod-east", policy)
            .withHeartbeat(b, t.plusSeconds(902), t.plusSeconds(1500), policy);
    OwnershipHistory full = OwnershipHistory.empty();
    for (int i = 0; i < 40; i++) {
      Identity owner = i % 2 == 0 ? a : b;
      Instant from = t.plusSeconds(i * 1000L);
      full = full.withChange(IdentityAction.ASSIGN, owner, from, "kubernetes", "prod-east", policy);
      full = full.withHeartbeat(owner, from.plusSeconds(1), from.plusSeconds(100), policy);
    }
    print("one heartbeat range (a sidecar's IP)", heartbeat);
    print("one ASSIGN event (an IP without a sidecar)", event);
    print("ASSIGN + heartbeat range (typical pod IP)", both);
    print("moved to another app (2 owners, 3 events, 2 ranges)", moved);
    print("40 tenures of 2 owners (40 events, 40 ranges)", full);

    // What one flow costs on the repartition topics instead.
    FlowRecord record = new SampleFlows(1).next();
    InternalFlow flow =
        InternalFlow.of(record, 3, 123_456_789L, record.getEndTime().toEpochMilli())
            .withLocal(new EndAttribution(AttributionStatus.OWNER, Owner.of(a)));
    byte[] toRemote =
        Messages.toRemoteSerde().serializer().serialize("t", new Messages.FlowToRemote(flow));
    byte[] toAggregate =
        Messages.toAggregateSerde()
            .serializer()
            .serialize(
                "t",
                new Messages.FlowToAggregate(
                    flow.withRemote(new EndAttribution(AttributionStatus.OWNER, Owner.of(b)))));
    System.out.printf(
        "%-55s %4d bytes value + %d key%n",
        "a flow on the remote-lookup repartition topic",
        toRemote.length,
        flow.remoteIpText().length());
    System.out.printf(
        "%-55s %4d bytes value + %d key%n",
        "a flow on the aggregation repartition topic",
        toAggregate.length,
        flow.aggregationKey().length());
  }

  private static void print(String what, OwnershipHistory h) {
    System.out.printf(
        "%-55s %4d bytes (%d ranges, %d events)%n",
        what, OwnershipHistorySerde.encode(h).length, h.observedRangeCount(), h.changeEventCount());
  }

  private static Identity identity(String app, String pod) {
    return Identity.newBuilder()
        .setApp(app)
        .setCluster("prod-east")
        .setNamespace("shop")
        .setWorkloadKind("Deployment")
        .setWorkloadName(app)
        .setInstanceId(pod)
        .setNode("ip-10-1-17-23.ec2.internal")
        .setZone("us-east-1a")
        .setRegion("us-east-1")
        .setAccount("123456789012")
        .setLabels(Map.of("team", "payments", "app.kubernetes.io/version", "1.42.0"))
        .build();
  }
}
