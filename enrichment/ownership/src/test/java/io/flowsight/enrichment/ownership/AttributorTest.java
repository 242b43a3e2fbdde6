package io.flowsight.enrichment.ownership;

import static io.flowsight.enrichment.ownership.Fixtures.CHECKOUT;
import static io.flowsight.enrichment.ownership.Fixtures.PAYMENTS;
import static io.flowsight.enrichment.ownership.Fixtures.assign;
import static io.flowsight.enrichment.ownership.Fixtures.at;
import static io.flowsight.enrichment.ownership.Fixtures.block;
import static io.flowsight.enrichment.ownership.Fixtures.named;
import static io.flowsight.schemas.AttributionStatus.CIDR;
import static io.flowsight.schemas.AttributionStatus.CONFLICT;
import static io.flowsight.schemas.AttributionStatus.NEVER_SEEN;
import static io.flowsight.schemas.AttributionStatus.OWNER;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.Cidr;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.testing.SampleFlows;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AttributorTest {

  private static final String FILE = "/etc/flowsight/ids.yaml";

  private static OwnershipDirectory directory() {
    OwnershipDirectory d = new OwnershipDirectory(HistoryPolicy.DEFAULT);
    d.apply(block("10.0.0.0/8", named("datacenter"), "00:00"));
    d.apply(block("10.1.0.0/16", named("dc-x"), "00:00"));
    d.apply(block("2001:db8::/32", named("v6-lab"), "00:00"));
    d.apply(block("0.0.0.0/0", named("internet"), "00:00"));
    d.apply(assign("10.1.2.3", CHECKOUT, "10:00"));
    return d;
  }

  @Test
  void shouldAnswerPerIpOwnersFirstThenTheLongestCidrBlock() {
    OwnershipDirectory d = directory();

    assertThat(d.lookup("10.1.2.3", at("10:30")))
        .isEqualTo(new Attribution(OWNER, CHECKOUT, "kubernetes", "prod-east", null, List.of()));
    // Before checkout got it, the IP's own history has a gap: its block answers.
    assertThat(d.lookup("10.1.2.3", at("09:00")))
        .isEqualTo(
            new Attribution(
                CIDR, named("dc-x"), "static", FILE, Cidr.parse("10.1.0.0/16"), List.of()));
    assertThat(d.lookup("10.1.9.9", at("10:30")).identity()).isEqualTo(named("dc-x"));
    assertThat(d.lookup("10.2.0.1", at("10:30")).block()).isEqualTo(Cidr.parse("10.0.0.0/8"));
    assertThat(d.lookup("10.2.0.1", at("10:30")).identity()).isEqualTo(named("datacenter"));
    assertThat(d.lookup("192.0.2.7", at("10:30")).identity()).isEqualTo(named("internet"));
    assertThat(d.lookup("2001:db8:1::5", at("10:30")).identity()).isEqualTo(named("v6-lab"));
    // IPv4-mapped IPv6 is the IPv4 address.
    assertThat(d.lookup("::ffff:10.2.0.1", at("10:30")).identity()).isEqualTo(named("datacenter"));
    // No IPv6 default route was given: an unknown IPv6 address was never seen.
    assertThat(d.lookup("2001:db9::1", at("10:30")).status()).isEqualTo(NEVER_SEEN);
    // Before the blocks were assigned, they do not answer either.
    assertThat(d.lookup("10.2.0.1", java.time.Instant.parse("2025-12-31T23:00:00Z")).status())
        .isEqualTo(NEVER_SEEN);
  }

  @Test
  void shouldKeepAConflictRatherThanHideItBehindABlock() {
    OwnershipDirectory d = directory();
    d.observe(new Heartbeat("10.1.2.4", CHECKOUT, at("10:00"), at("10:10")));
    d.observe(new Heartbeat("10.1.2.4", PAYMENTS, at("10:00"), at("10:10")));

    assertThat(d.lookup("10.1.2.4", at("10:05")).status()).isEqualTo(CONFLICT);
    assertThat(d.lookup("10.1.2.4", at("10:05")).contenders()).containsExactly(CHECKOUT, PAYMENTS);
  }

  @Test
  void shouldTakeAFlowRecordAsAHeartbeatOfItsLocalIp() {
    FlowRecord record = new SampleFlows(3).next();
    // No boundary margin: the lookup is at the very start of the only heartbeat.
    OwnershipDirectory d =
        new OwnershipDirectory(HistoryPolicy.DEFAULT.withBoundaryMargin(Duration.ZERO));
    d.observe(record);

    Attribution a = d.lookup(record.getLocalIp().array(), record.getStartTime());
    assertThat(a.status()).isEqualTo(OWNER);
    assertThat(a.identity()).isEqualTo(record.getLocalIdentity());
    assertThat(a.source()).isEqualTo("heartbeat");
    assertThat(d.lookup(record.getRemoteIp().array(), record.getStartTime()).status())
        .isEqualTo(NEVER_SEEN);
  }
}
