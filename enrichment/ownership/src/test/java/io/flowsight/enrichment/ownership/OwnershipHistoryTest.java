package io.flowsight.enrichment.ownership;

import static io.flowsight.enrichment.ownership.Fixtures.CHECKOUT;
import static io.flowsight.enrichment.ownership.Fixtures.PAYMENTS;
import static io.flowsight.enrichment.ownership.Fixtures.SEARCH;
import static io.flowsight.enrichment.ownership.Fixtures.assign;
import static io.flowsight.enrichment.ownership.Fixtures.at;
import static io.flowsight.enrichment.ownership.Fixtures.change;
import static io.flowsight.enrichment.ownership.Fixtures.unassign;
import static io.flowsight.schemas.AttributionStatus.CONFLICT;
import static io.flowsight.schemas.AttributionStatus.EXPIRED;
import static io.flowsight.schemas.AttributionStatus.GAP;
import static io.flowsight.schemas.AttributionStatus.NEVER_SEEN;
import static io.flowsight.schemas.AttributionStatus.OWNER;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class OwnershipHistoryTest {

  private static final HistoryPolicy POLICY = HistoryPolicy.DEFAULT;

  /** Exact boundaries: no margin for the hosts' clock differences. */
  private static final HistoryPolicy EXACT = POLICY.withBoundaryMargin(Duration.ZERO);

  private static final String IP = "10.1.2.3";
  private static final String K8S = "prod-east";
  private static final String FILE = "/etc/flowsight/ids.yaml";

  private static OwnershipHistory heartbeat(
      OwnershipHistory h, Identity owner, String from, String to) {
    return h.withHeartbeat(owner, at(from), at(to), POLICY);
  }

  private static OwnershipRange owner(
      Instant from, Instant to, Identity owner, String source, String instance) {
    return new OwnershipRange(from, to, OWNER, owner, source, instance, List.of());
  }

  private static OwnershipRange heartbeatRange(Instant from, Instant to, Identity owner) {
    return owner(from, to, owner, OwnershipHistory.HEARTBEAT_SOURCE, null);
  }

  /** hh:mm[:ss] plus one millisecond: the exclusive end of a heartbeat ending at hh:mm[:ss]. */
  private static Instant after(String time) {
    return at(time).plusMillis(1);
  }

  @Test
  void shouldExtendOneRangeWithHeartbeatsOfTheSameOwnerAcrossSmallGaps() {
    OwnershipHistory h = OwnershipHistory.empty();
    h = heartbeat(h, CHECKOUT, "10:00", "10:01");
    h = heartbeat(h, CHECKOUT, "10:03", "10:04"); // 2 min after: merged
    h = heartbeat(h, CHECKOUT, "10:04:30", "10:06"); // 30 s after: merged

    // Stored: the bridge that ended more than compactAfter (2 min) before 10:06 as one range, the
    // recent one still apart (evidence for 10:04-10:04:30 may still come).
    assertThat(h.observedRangeCount()).isEqualTo(2);
    assertThat(h.ranges()).containsExactly(heartbeatRange(at("10:00"), after("10:06"), CHECKOUT));
    assertThat(h.lookup(at("10:02")).status()).isEqualTo(OWNER);
    assertThat(h.lookup(at("10:02")).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("10:06"), EXACT).identity()).isEqualTo(CHECKOUT); // the end is inclusive
    // With the default margin, the last 500 ms before what nobody is known to hold: not called.
    assertThat(h.lookup(at("10:06")).status()).isEqualTo(GAP);

    // 14 minutes later: beyond the 5-minute merge gap, so a second range and a gap between.
    h = heartbeat(h, CHECKOUT, "10:20", "10:21");
    assertThat(h.ranges())
        .containsExactly(
            heartbeatRange(at("10:00"), after("10:06"), CHECKOUT),
            heartbeatRange(at("10:20"), after("10:21"), CHECKOUT));
    assertThat(h.lookup(at("10:10")).status()).isEqualTo(GAP);
    assertThat(h.lastEvidence()).contains(at("10:21"));

    // A heartbeat inside a known range adds nothing: the same value comes back.
    assertThat(heartbeat(h, CHECKOUT, "10:01", "10:02")).isSameAs(h);
  }

  @Test
  void shouldAnswerBothSidesOfAReassignmentFromChangeEvents() {
    OwnershipHistory h =
        OwnershipHistory.empty()
            .withChange(assign(IP, CHECKOUT, "10:00"), POLICY)
            .withChange(unassign(IP, CHECKOUT, "11:00"), POLICY)
            .withChange(assign(IP, PAYMENTS, "11:00:30"), POLICY);

    assertThat(h.ranges())
        .containsExactly(
            owner(at("10:00"), at("11:00"), CHECKOUT, "kubernetes", K8S),
            owner(at("11:00:30"), null, PAYMENTS, "kubernetes", K8S));
    assertThat(h.lookup(at("10:59:59.999"), EXACT))
        .isEqualTo(new Attribution(OWNER, CHECKOUT, "kubernetes", K8S, null, List.of()));
    assertThat(h.lookup(at("10:59:59.600")).status()).isEqualTo(GAP); // within the margin
    assertThat(h.lookup(at("10:59:59.400")).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("11:00")).status()).isEqualTo(GAP);
    assertThat(h.lookup(at("11:00:30"), EXACT).identity()).isEqualTo(PAYMENTS);
    assertThat(h.lookup(at("11:00:31")).identity()).isEqualTo(PAYMENTS);
    assertThat(h.lookup(Instant.parse("2026-01-02T00:00:00Z")).identity()).isEqualTo(PAYMENTS);
    assertThat(h.lookup(at("09:59")).status()).isEqualTo(GAP);
  }

  @Test
  void shouldLetTheLaterAssignWinTheBoundaryWhenAnUnassignIsLost() {
    OwnershipHistory h =
        OwnershipHistory.empty()
            .withChange(assign(IP, CHECKOUT, "10:00"), POLICY)
            .withChange(assign(IP, PAYMENTS, "11:00"), POLICY);

    assertThat(h.ranges())
        .containsExactly(
            owner(at("10:00"), at("11:00"), CHECKOUT, "kubernetes", K8S),
            owner(at("11:00"), null, PAYMENTS, "kubernetes", K8S));
    assertThat(h.lookup(at("10:59")).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("11:06")).identity()).isEqualTo(PAYMENTS);
  }

  @Test
  void shouldAnswerConflictWhereAnUnassignSaysTheFormerOwnerStillHeldTheIp() {
    // Checkout's UNASSIGN names a time after Payments' ASSIGN: both claim 11:00-11:05.
    OwnershipHistory h =
        OwnershipHistory.empty()
            .withChange(assign(IP, CHECKOUT, "10:00"), POLICY)
            .withChange(assign(IP, PAYMENTS, "11:00"), POLICY)
            .withChange(unassign(IP, CHECKOUT, "11:05"), POLICY);

    assertThat(h.lookup(at("10:59")).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("11:02")).status()).isEqualTo(CONFLICT);
    assertThat(h.lookup(at("11:02")).contenders()).containsExactlyInAnyOrder(CHECKOUT, PAYMENTS);
    assertThat(h.lookup(at("11:06")).identity()).isEqualTo(PAYMENTS);

    // An UNASSIGN whose ASSIGN was never seen: the open ASSIGN before it stops counting.
    OwnershipHistory orphan =
        OwnershipHistory.empty()
            .withChange(assign(IP, CHECKOUT, "10:00"), POLICY)
            .withChange(unassign(IP, PAYMENTS, "10:30"), POLICY);
    assertThat(orphan.lookup(at("10:10")).status()).isEqualTo(CONFLICT);
    assertThat(orphan.lookup(at("10:40")).identity()).isEqualTo(CHECKOUT);
  }

  @Test
  void shouldNeverBridgeTwoHeartbeatsAcrossAnotherOwnersEvidence() {
    // A VM held the IP at 10:36:33-38 and again from 10:37:23; app-19 in between.
    OwnershipHistory vm = OwnershipHistory.empty();
    vm = heartbeat(vm, CHECKOUT, "10:36:33", "10:36:38");
    vm = heartbeat(vm, CHECKOUT, "10:37:23", "10:37:30");
    assertThat(vm.lookup(at("10:37:00")).identity()).isEqualTo(CHECKOUT); // bridged: nothing else

    // The other owner's heartbeat, ASSIGN or UNASSIGN in the gap: no bridge.
    OwnershipHistory byHeartbeat = heartbeat(vm, PAYMENTS, "10:37:10", "10:37:12");
    assertThat(byHeartbeat.lookup(at("10:37:11")).identity()).isEqualTo(PAYMENTS);
    assertThat(byHeartbeat.lookup(at("10:37:18")).status()).isEqualTo(GAP);
    assertThat(byHeartbeat.lookup(at("10:36:50")).status()).isEqualTo(GAP);

    OwnershipHistory byAssign = vm.withChange(assign(IP, PAYMENTS, "10:37:05"), POLICY);
    assertThat(byAssign.lookup(at("10:37:18")).identity()).isEqualTo(PAYMENTS);
    assertThat(byAssign.lookup(at("10:36:50")).status()).isEqualTo(GAP);

    OwnershipHistory byUnassign = vm.withChange(unassign(IP, PAYMENTS, "10:37:20"), POLICY);
    assertThat(byUnassign.lookup(at("10:37:18")).status()).isNotEqualTo(OWNER);

    // The owner's own UNASSIGN in the gap ends the bridge too.
    OwnershipHistory left = vm.withChange(unassign(IP, CHECKOUT, "10:36:40"), POLICY);
    assertThat(left.lookup(at("10:37:00")).status()).isEqualTo(GAP);
  }

  @Test
  void shouldAnswerConflictWithinTheBoundaryMarginOfAnotherOwner() {
    OwnershipHistory h =
        OwnershipHistory.empty()
            .withChange(assign(IP, CHECKOUT, "10:00"), POLICY)
            .withChange(unassign(IP, CHECKOUT, "10:01"), POLICY)
            .withChange(assign(IP, PAYMENTS, "10:01"), POLICY);

    assertThat(h.lookup(at("10:00:59.400")).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("10:00:59.600")).status()).isEqualTo(CONFLICT);
    assertThat(h.lookup(at("10:01:00.400")).status()).isEqualTo(CONFLICT);
    assertThat(h.lookup(at("10:01:00.600")).identity()).isEqualTo(PAYMENTS);
    // Without a margin the boundary is exact.
    HistoryPolicy exact = POLICY.withBoundaryMargin(Duration.ZERO);
    assertThat(h.lookup(at("10:00:59.999"), exact).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("10:01"), exact).identity()).isEqualTo(PAYMENTS);
    // Next to a time nobody is known to hold: an unknown owner may have had it.
    OwnershipHistory gap =
        OwnershipHistory.empty().withChange(assign(IP, CHECKOUT, "10:00"), POLICY);
    assertThat(gap.lookup(at("10:00:00.100")).status()).isEqualTo(GAP);
    assertThat(gap.lookup(at("10:00:00.600")).identity()).isEqualTo(CHECKOUT);
  }

  @Test
  void shouldAnswerBothSidesOfAReassignmentFromHeartbeats() {
    OwnershipHistory h = heartbeat(OwnershipHistory.empty(), CHECKOUT, "10:00", "10:30");
    h = heartbeat(h, PAYMENTS, "10:31", "10:40");

    assertThat(h.ranges())
        .containsExactly(
            heartbeatRange(at("10:00"), after("10:30"), CHECKOUT),
            heartbeatRange(at("10:31"), after("10:40"), PAYMENTS));
    assertThat(h.lookup(at("10:30"), EXACT).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("10:29")).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("10:30:30")).status()).isEqualTo(GAP);
    assertThat(h.lookup(at("10:35")).identity()).isEqualTo(PAYMENTS);
  }

  /** Eight claims of every kind; applied in all 40,320 orders they must give one history. */
  private static final List<UnaryOperator<OwnershipHistory>> MIXED_INPUTS =
      List.of(
          h -> heartbeat(h, CHECKOUT, "10:00", "10:01"),
          h -> heartbeat(h, CHECKOUT, "10:04", "10:05"),
          h -> h.withChange(assign(IP, CHECKOUT, "09:55"), POLICY),
          h -> h.withChange(unassign(IP, CHECKOUT, "10:10"), POLICY),
          h -> h.withChange(assign(IP, PAYMENTS, "10:12"), POLICY),
          h -> heartbeat(h, SEARCH, "10:20", "10:21"),
          h -> h.withChange(change(IdentityAction.ASSIGN, IP, PAYMENTS, "10:30", "static"), POLICY),
          h -> heartbeat(h, PAYMENTS, "10:40", "10:41"));

  private static final List<OwnershipRange> MIXED_EXPECTED =
      List.of(
          owner(at("09:55"), at("10:00"), CHECKOUT, "kubernetes", K8S),
          heartbeatRange(at("10:00"), after("10:05"), CHECKOUT),
          owner(after("10:05"), at("10:10"), CHECKOUT, "kubernetes", K8S),
          owner(at("10:12"), at("10:20"), PAYMENTS, "kubernetes", K8S),
          // Search's own traffic ends Payments' event range: after it, nobody is known.
          heartbeatRange(at("10:20"), after("10:21"), SEARCH),
          owner(at("10:30"), at("10:40"), PAYMENTS, "static", FILE),
          heartbeatRange(at("10:40"), after("10:41"), PAYMENTS),
          owner(after("10:41"), null, PAYMENTS, "static", FILE));

  @Test
  void shouldGiveTheSameHistoryForOutOfOrderInputsAsInOrder() {
    OwnershipHistory inOrder = applyAll(MIXED_INPUTS);
    assertThat(inOrder.ranges()).containsExactlyElementsOf(MIXED_EXPECTED);
    assertThat(inOrder.lookup(at("10:25")).status()).isEqualTo(GAP);
    byte[] inOrderBytes = OwnershipHistorySerde.encode(inOrder);

    int[] order = {0, 1, 2, 3, 4, 5, 6, 7};
    int permutations = 0;
    do {
      List<UnaryOperator<OwnershipHistory>> shuffled = new ArrayList<>();
      for (int i : order) {
        shuffled.add(MIXED_INPUTS.get(i));
      }
      OwnershipHistory h = applyAll(shuffled);
      if (!h.equals(inOrder)) {
        throw new AssertionError(
            "order " + Arrays.toString(order) + " gave " + h + ", in order gave " + inOrder);
      }
      assertThat(OwnershipHistorySerde.encode(h)).isEqualTo(inOrderBytes);
      permutations++;
    } while (nextPermutation(order));
    assertThat(permutations).isEqualTo(40_320);

    // Duplicates (a replayed topic, a restarted source) change nothing either.
    List<UnaryOperator<OwnershipHistory>> twice = new ArrayList<>(MIXED_INPUTS);
    twice.addAll(MIXED_INPUTS);
    assertThat(applyAll(twice)).isEqualTo(inOrder);
  }

  @Test
  void shouldReportAGapBetweenRangesAndNeverSeenForAnUnknownIp() {
    assertThat(OwnershipHistory.empty().lookup(at("10:00")))
        .isEqualTo(Attribution.unattributed(NEVER_SEEN));

    OwnershipHistory h = heartbeat(OwnershipHistory.empty(), CHECKOUT, "10:00", "10:01");
    h = heartbeat(h, CHECKOUT, "10:20", "10:21");

    assertThat(h.lookup(at("10:10"))).isEqualTo(Attribution.unattributed(GAP));
    assertThat(h.lookup(at("09:00")).status()).isEqualTo(GAP);
    assertThat(h.lookup(at("11:00")).status()).isEqualTo(GAP);
  }

  @Test
  void shouldReportConflictingFirstHandClaimsAtTheSameInstant() {
    OwnershipHistory h = heartbeat(OwnershipHistory.empty(), CHECKOUT, "10:00", "10:10");
    h = heartbeat(h, PAYMENTS, "10:05", "10:15");

    assertThat(h.ranges())
        .containsExactly(
            heartbeatRange(at("10:00"), at("10:05"), CHECKOUT),
            new OwnershipRange(
                at("10:05"),
                after("10:10"),
                CONFLICT,
                null,
                null,
                null,
                List.of(CHECKOUT, PAYMENTS)),
            heartbeatRange(after("10:10"), after("10:15"), PAYMENTS));
    assertThat(h.lookup(at("10:07")))
        .isEqualTo(new Attribution(CONFLICT, null, null, null, null, List.of(CHECKOUT, PAYMENTS)));
    assertThat(h.lookup(at("10:02")).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("10:12")).identity()).isEqualTo(PAYMENTS);
  }

  @Test
  void shouldReportTwoOwnersAssignedAtTheSameInstantAsAConflictUntilSettled() {
    OwnershipHistory h =
        OwnershipHistory.empty()
            .withChange(assign(IP, CHECKOUT, "10:00"), POLICY)
            .withChange(change(IdentityAction.ASSIGN, IP, PAYMENTS, "10:00", "static"), POLICY)
            .withChange(change(IdentityAction.UNASSIGN, IP, PAYMENTS, "10:30", "static"), POLICY);

    assertThat(h.ranges())
        .containsExactly(
            new OwnershipRange(
                at("10:00"), at("10:30"), CONFLICT, null, null, null, List.of(CHECKOUT, PAYMENTS)),
            owner(at("10:30"), null, CHECKOUT, "kubernetes", K8S));
    assertThat(h.lookup(at("10:15")).status()).isEqualTo(CONFLICT);
    assertThat(h.lookup(at("10:45")).identity()).isEqualTo(CHECKOUT);
  }

  @Test
  void shouldLetHeartbeatsBeatChangeEvents() {
    OwnershipHistory h = OwnershipHistory.empty().withChange(assign(IP, CHECKOUT, "10:00"), POLICY);
    h = heartbeat(h, PAYMENTS, "11:00", "11:05");

    assertThat(h.ranges())
        .containsExactly(
            owner(at("10:00"), at("11:00"), CHECKOUT, "kubernetes", K8S),
            heartbeatRange(at("11:00"), after("11:05"), PAYMENTS));
    assertThat(h.lookup(at("10:30")).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("11:02")).identity()).isEqualTo(PAYMENTS);
    assertThat(h.lookup(at("11:02")).source()).isEqualTo("heartbeat");
    // Payments' traffic proved the IP had left checkout; nothing says who has it after 11:05.
    assertThat(h.lookup(at("11:10")).status()).isEqualTo(GAP);

    // The owner's own heartbeat does not end its event range.
    OwnershipHistory own =
        heartbeat(
            OwnershipHistory.empty().withChange(assign(IP, CHECKOUT, "10:00"), POLICY),
            CHECKOUT,
            "10:10",
            "10:11");
    assertThat(own.lookup(at("10:30")).identity()).isEqualTo(CHECKOUT);
    assertThat(own.lookup(at("10:30")).source()).isEqualTo("kubernetes");
  }

  @Test
  void shouldExpireWhatEndedBeforeTheRetentionButKeepTheCurrentOwner() {
    HistoryPolicy policy = POLICY.withRetention(Duration.ofHours(1));
    OwnershipHistory h =
        OwnershipHistory.empty()
            .withChange(assign(IP, SEARCH, "08:00"), policy)
            .withChange(unassign(IP, SEARCH, "08:30"), policy)
            .withChange(assign(IP, CHECKOUT, "09:00"), policy)
            .withHeartbeat(CHECKOUT, at("09:10"), at("09:20"), policy);

    OwnershipHistory expired = h.expire(at("10:15"), policy);

    assertThat(expired.horizon()).contains(at("09:15"));
    assertThat(expired.changeEventCount()).isEqualTo(1); // checkout's ASSIGN: it still holds
    assertThat(expired.observedRangeCount()).isEqualTo(1);
    assertThat(expired.ranges())
        .containsExactly(
            heartbeatRange(at("09:15"), after("09:20"), CHECKOUT),
            owner(after("09:20"), null, CHECKOUT, "kubernetes", K8S));
    assertThat(expired.lookup(at("08:15"))).isEqualTo(Attribution.unattributed(EXPIRED));
    assertThat(expired.lookup(at("09:14:59.999")).status()).isEqualTo(EXPIRED);
    assertThat(expired.lookup(at("09:16")).identity()).isEqualTo(CHECKOUT);
    assertThat(expired.lookup(at("09:30")).identity()).isEqualTo(CHECKOUT);

    // Inputs older than the horizon are ignored: the same value comes back.
    assertThat(expired.withChange(unassign(IP, CHECKOUT, "09:05"), policy)).isSameAs(expired);
    assertThat(expired.withHeartbeat(SEARCH, at("09:00"), at("09:14"), policy)).isSameAs(expired);

    // Two hours on, only checkout's ASSIGN is left, and it still answers.
    OwnershipHistory later = expired.expire(at("12:00"), policy);
    assertThat(later.horizon()).contains(at("11:00"));
    assertThat(later.observedRangeCount()).isZero();
    assertThat(later.lookup(at("11:30")).identity()).isEqualTo(CHECKOUT);
    assertThat(later.lookup(at("10:30")).status()).isEqualTo(EXPIRED);
  }

  @Test
  void shouldKeepEveryChangeOfTheRetentionHoweverOftenTheIpMoves() {
    // 600 owners in 50 minutes, one every 5 s: nothing is dropped by a count.
    OwnershipHistory h = OwnershipHistory.empty();
    Identity[] owners = {CHECKOUT, PAYMENTS, SEARCH};
    Instant start = at("10:00");
    for (int i = 0; i < 600; i++) {
      Instant t = start.plusSeconds(5L * i);
      h = h.withChange(IdentityAction.ASSIGN, owners[i % 3], t, "kubernetes", K8S, POLICY);
      h = h.withHeartbeat(owners[i % 3], t.plusSeconds(1), t.plusSeconds(3), POLICY);
    }
    assertThat(h.horizon()).isEmpty();
    assertThat(h.changeEventCount()).isEqualTo(600);
    assertThat(h.lookup(at("10:00:02")).identity()).isEqualTo(CHECKOUT);
    assertThat(h.lookup(at("10:00:07")).identity()).isEqualTo(PAYMENTS);
    assertThat(h.lookup(start.plusSeconds(5L * 599 + 2)).identity()).isEqualTo(owners[599 % 3]);
  }

  private static OwnershipHistory applyAll(List<UnaryOperator<OwnershipHistory>> inputs) {
    OwnershipHistory h = OwnershipHistory.empty();
    for (UnaryOperator<OwnershipHistory> input : inputs) {
      h = input.apply(h);
    }
    return h;
  }

  /** Next lexicographic permutation in place; false after the last. */
  private static boolean nextPermutation(int[] a) {
    int i = a.length - 2;
    while (i >= 0 && a[i] >= a[i + 1]) {
      i--;
    }
    if (i < 0) {
      return false;
    }
    int j = a.length - 1;
    while (a[j] <= a[i]) {
      j--;
    }
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
    for (int l = i + 1, r = a.length - 1; l < r; l++, r--) {
      t = a[l];
      a[l] = a[r];
      a[r] = t;
    }
    return true;
  }
}
