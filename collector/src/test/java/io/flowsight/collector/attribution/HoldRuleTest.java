package io.flowsight.collector.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.CollectorSettings;
import io.flowsight.collector.wire.EndAttribution;
import io.flowsight.collector.wire.FormatFixtures;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.ownership.CidrTable;
import io.flowsight.enrichment.ownership.HistoryPolicy;
import io.flowsight.enrichment.ownership.OwnershipHistory;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decision table of docs/collector.md ("Attribution, and holding back", rules 4 to 9), one row
 * per rule and edge, on real ownership histories and CIDR tables: what {@link HoldRule#decide}
 * answers for one end whose connection started at {@link #T}, under the default policy (boundary
 * margin 500 ms). Rules 1 to 3 (the sidecars' own labels, an end decided earlier) come before it,
 * in {@link Holds}.
 */
class HoldRuleTest {

  /** The connection's start, epoch ms. */
  static final long T = FormatFixtures.T0 + 100_000;

  static final HistoryPolicy POLICY = HistoryPolicy.DEFAULT;
  static final byte[] IP = IpAddresses.parse("10.1.0.1");

  static final Identity PAYMENTS = identity("payments");
  static final Identity CHECKOUT = identity("checkout");
  static final Identity DATACENTER = identity("dc-frankfurt");

  static Identity identity(String app) {
    return Identity.newBuilder()
        .setApp(app)
        .setCluster("prod-east")
        .setNamespace("shop")
        .setWorkloadKind("Deployment")
        .setWorkloadName(app)
        .setLabels(Map.of())
        .build();
  }

  static Instant at(long offsetFromT) {
    return Instant.ofEpochMilli(T + offsetFromT);
  }

  static OwnershipHistory heartbeat(OwnershipHistory h, Identity who, long from, long to) {
    return h.withHeartbeat(who, at(from), at(to), POLICY);
  }

  static OwnershipHistory assign(OwnershipHistory h, Identity who, long time) {
    return h.withChange(IdentityAction.ASSIGN, who, at(time), "kubernetes", "prod-east", POLICY);
  }

  // ---- the histories ---------------------------------------------------------------------------

  /** payments' own traffic from a minute before t to a minute after. */
  static OwnershipHistory owned() {
    return heartbeat(OwnershipHistory.empty(), PAYMENTS, -60_000, 60_000);
  }

  /** payments' traffic, then the IP changes to checkout 300 ms after t (within the margin). */
  static OwnershipHistory changesWithinTheMargin() {
    return assign(assign(OwnershipHistory.empty(), PAYMENTS, -60_000), CHECKOUT, 300);
  }

  /** Two owners' traffic at t: a first-hand contradiction. */
  static OwnershipHistory twoOwners() {
    return heartbeat(owned(), CHECKOUT, -1_000, 1_000);
  }

  /** payments' traffic ended 10 s before t; nothing known after (a GAP at t). */
  static OwnershipHistory gapWithoutLaterEvidence() {
    return heartbeat(OwnershipHistory.empty(), PAYMENTS, -60_000, -10_000);
  }

  /**
   * payments' traffic ended 10 s before t, checkout's one heartbeat at {@code offset} after t (a
   * GAP at t, with evidence as late as t + offset).
   */
  static OwnershipHistory gapWithEvidenceAt(long offset) {
    return heartbeat(gapWithoutLaterEvidence(), CHECKOUT, offset, offset);
  }

  /** Retention has dropped the history before t (an hour after it). */
  static OwnershipHistory expired() {
    OwnershipHistory h = assign(owned(), CHECKOUT, Duration.ofHours(24).toMillis() + 1_800_000);
    return h.expire(at(Duration.ofHours(25).toMillis()), POLICY);
  }

  static OwnershipHistory history(String name) {
    return switch (name) {
      case "none" -> null;
      case "owned" -> owned();
      case "changes-within-margin" -> changesWithinTheMargin();
      case "two-owners" -> twoOwners();
      case "gap" -> gapWithoutLaterEvidence();
      case "gap+300" -> gapWithEvidenceAt(300);
      case "gap+499" -> gapWithEvidenceAt(499);
      case "gap+500" -> gapWithEvidenceAt(500);
      case "gap+10s" -> gapWithEvidenceAt(10_000);
      case "expired" -> expired();
      default -> throw new IllegalArgumentException(name);
    };
  }

  /** A CIDR block 10.0.0.0/8 of the data center, assigned a day before t. */
  static CidrTable cidrs(boolean withBlock) {
    if (!withBlock) {
      return CidrTable.empty();
    }
    IpIdentityChange block =
        IpIdentityChange.newBuilder()
            .setAddressFamily(AddressFamily.IPV4)
            .setIp(ByteBuffer.wrap(IpAddresses.parse("10.0.0.0")))
            .setPrefixLength(8)
            .setAction(IdentityAction.ASSIGN)
            .setIdentity(DATACENTER)
            .setEventTime(at(-Duration.ofDays(1).toMillis()))
            .setSource("static")
            .setSourceInstance(null)
            .build();
    return CidrTable.empty().with(block, POLICY);
  }

  // ---- the table -------------------------------------------------------------------------------

  /**
   * Columns: the history of the IP (see {@link #history}), whether a CIDR block holds it, whether
   * the settle delay after t is over, whether the flow may still be held (its hold-back not over),
   * the outcome ({@code STATUS owner-app} decided; {@code settle ANSWER} held for the settle delay;
   * {@code hold REASON} held for an unknown owner), and how often the CIDR tables were asked.
   */
  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          # rule 4: EXPIRED is final at once, even before the settle delay
          4 expired, not settled                | expired | false | false | true  | EXPIRED          | 1
          4 expired, a CIDR block               | expired | true  | false | true  | CIDR dc-frankfurt | 1
          4 expired, settled                    | expired | false | true  | true  | EXPIRED          | 1
          # rule 5: before the settle delay anything else is held, whatever the answer now
          5 owner, not settled                  | owned   | false | false | true  | settle OWNER     | 0
          5 never seen, not settled             | none    | true  | false | true  | settle NEVER_SEEN | 0
          5 gap, not settled                    | gap+10s | true  | false | true  | settle GAP       | 0
          5 conflict, not settled               | two-owners | false | false | true | settle CONFLICT | 0
          5 not settled, hold-back over: owner  | owned   | false | false | false | OWNER payments   | 0
          5 not settled, hold-back over: never  | none    | false | false | false | NEVER_SEEN       | 1
          # rule 6: settled, one owner holding the whole margin around t
          6 owner                               | owned   | true  | true  | true  | OWNER payments   | 0
          # rule 7: CONFLICT, never hidden behind a CIDR block
          7 two owners at t                     | two-owners | true | true | true  | CONFLICT         | 0
          7 another owner within the margin     | changes-within-margin | true | true | true | CONFLICT | 0
          7 conflict, hold-back over            | two-owners | false | true | false | CONFLICT        | 0
          # rule 8: settled, nothing known, or a GAP without evidence past t + margin: held on
          8 never seen                          | none    | false | true  | true  | hold NEVER_SEEN  | 0
          8 never seen, even with a CIDR block  | none    | true  | true  | true  | hold NEVER_SEEN  | 0
          8 gap, no evidence after t            | gap     | true  | true  | true  | hold GAP         | 0
          8 gap, evidence within the margin     | gap+300 | false | true  | true  | hold GAP         | 0
          8 gap, evidence 1 ms short of margin  | gap+499 | false | true  | true  | hold GAP         | 0
          # rule 9: otherwise the reason goes out, or CIDR when a block holds the IP
          9 gap, evidence at t + margin exactly | gap+500 | false | true  | true  | GAP              | 1
          9 gap, evidence past the margin       | gap+10s | false | true  | true  | GAP              | 1
          9 gap, evidence past, a CIDR block    | gap+10s | true  | true  | true  | CIDR dc-frankfurt | 1
          9 gap, hold-back over                 | gap     | false | true  | false | GAP              | 1
          9 gap, hold-back over, a CIDR block   | gap     | true  | true  | false | CIDR dc-frankfurt | 1
          9 never seen, hold-back over          | none    | false | true  | false | NEVER_SEEN       | 1
          9 never seen, hold-back over, CIDR    | none    | true  | true  | false | CIDR dc-frankfurt | 1
          """)
  void shouldDecideAsTheTableSays(
      String rule,
      String history,
      boolean withBlock,
      boolean settled,
      boolean mayHold,
      String expected,
      int cidrLookups) {
    AtomicInteger asked = new AtomicInteger();
    CidrTable table = cidrs(withBlock);
    Supplier<CidrTable> cidrs =
        () -> {
          asked.incrementAndGet();
          return table;
        };

    HoldRule.Decision d = HoldRule.decide(history(history), POLICY, cidrs, IP, T, settled, mayHold);

    assertThat(outcome(d)).as(rule).isEqualTo(expected);
    assertThat(asked.get()).as("CIDR lookups").isEqualTo(cidrLookups);
    // A decision is either an attribution or a reason to hold, never both.
    assertThat(d.hold()).isEqualTo(d.attribution() == null);
    assertThat(d.settle()).isEqualTo(expected.startsWith("settle "));
  }

  static String outcome(HoldRule.Decision d) {
    if (d.hold()) {
      return (d.settle() ? "settle " : "hold ") + d.holdReason();
    }
    EndAttribution a = d.attribution();
    return a.status() + (a.owner() == null ? "" : " " + a.owner().app());
  }

  // ---- the settle delay: when "settled" becomes true --------------------------------------------

  static Stream<Arguments> settleDelays() {
    CollectorSettings defaults = CollectorSettings.defaults(1); // settle 35 s, hold-back 2 min
    return Stream.of(
        Arguments.of("default, 1 ms before t + 35 s", defaults, 34_999L, false),
        Arguments.of("default, at t + 35 s", defaults, 35_000L, true),
        Arguments.of("default, evidence clock behind t", defaults, -5_000L, false),
        Arguments.of(
            "settle longer than the hold-back: the hold-back's 2 min",
            defaults.withSettle(Duration.ofMinutes(5), Duration.ofMillis(500)),
            119_999L,
            false),
        Arguments.of(
            "settle longer than the hold-back, at t + 2 min",
            defaults.withSettle(Duration.ofMinutes(5), Duration.ofMillis(500)),
            120_000L,
            true),
        Arguments.of(
            "no settle delay: settled at once",
            defaults.withSettle(Duration.ZERO, Duration.ofMillis(500)),
            -5_000L,
            true),
        Arguments.of(
            "no hold-back: no settle delay either",
            defaults.withHoldBack(Duration.ZERO),
            0L,
            true));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("settleDelays")
  void shouldSettleAfterTheDelayOnTheEvidenceClock(
      String name, CollectorSettings settings, long evidenceAfterT, boolean settled) {
    InternalFlow flow =
        new InternalFlow(
            0,
            0,
            T,
            FlowKind.CLOSED,
            Protocol.TCP,
            Side.CLIENT,
            IP,
            40001,
            IpAddresses.parse("10.2.0.8"),
            443,
            443,
            T,
            T,
            T + 1_000,
            1,
            1,
            1,
            1,
            0,
            100,
            null,
            null,
            0,
            false);
    Holds holds = new Holds(null, settings, null);

    assertThat(holds.settled(flow, T + evidenceAfterT)).isEqualTo(settled);
  }
}
