package io.flowsight.enrichment.identityfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.identityfile.StaticIdentities.Entry;
import io.flowsight.schemas.Identity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StaticIdentitiesTest {

  private static Identity.Builder local(String app) {
    return Identity.newBuilder()
        .setApp(app)
        .setCluster("local")
        .setZone("local-a")
        .setLabels(Map.of());
  }

  @Test
  void shouldParseTheSampleFile() throws IOException {
    // The local stack's sample (deploy/local), from this module's directory.
    String text = Files.readString(Path.of("../../deploy/local/sample-identities.yaml"));

    StaticIdentities identities = StaticIdentities.parse(text, "sample-identities.yaml");

    assertThat(identities.entries())
        .containsExactly(
            new Entry(
                "127.0.0.2",
                local("frontend").setWorkloadKind("Process").setWorkloadName("frontend").build(),
                20),
            new Entry(
                "127.0.0.3",
                local("backend").setWorkloadKind("Process").setWorkloadName("backend").build(),
                25),
            new Entry("127.0.0.0/8", local("localhost").build(), 31));
    assertThat(identities.match(IpAddresses.parse("127.0.0.2")).orElseThrow().getApp())
        .isEqualTo("frontend");
    assertThat(identities.match(IpAddresses.parse("127.0.0.1")).orElseThrow().getApp())
        .isEqualTo("localhost");
    assertThat(identities.match(IpAddresses.parse("10.0.0.1"))).isEmpty();
  }

  @Test
  void shouldMergeDefaultsLabelsAndCanonicalizeAddresses() {
    String text =
        """
        defaults:
          region: eu-west-1
          labels: {team: net, tier: "2"}
        identities:
          - ip: "2001:DB8:0:0::0001"
            app: edge
            region: eu-central-1
            labels:
              tier: "1"
          - cidr: 10.20.0.0/16
            app: dc-x
        """;

    StaticIdentities identities = StaticIdentities.parse(text, "ids.yaml");

    assertThat(identities.byTarget())
        .containsExactly(
            Map.entry(
                "2001:db8::1",
                Identity.newBuilder()
                    .setApp("edge")
                    .setRegion("eu-central-1")
                    .setLabels(Map.of("team", "net", "tier", "1"))
                    .build()),
            Map.entry(
                "10.20.0.0/16",
                Identity.newBuilder()
                    .setApp("dc-x")
                    .setRegion("eu-west-1")
                    .setLabels(Map.of("team", "net", "tier", "2"))
                    .build()));
    assertThat(StaticIdentities.parse("", "empty.yaml").entries()).isEmpty();
  }

  private static void assertError(String text, int line, String message) {
    assertThatThrownBy(() -> StaticIdentities.parse(text, "ids.yaml"))
        .isInstanceOf(StaticFileException.class)
        .hasMessage("ids.yaml:" + line + ": " + message)
        .extracting(e -> ((StaticFileException) e).line())
        .isEqualTo(line);
  }

  @Test
  void shouldNameTheLineOfABadIp() {
    assertError(
        """
        identities:
          - ip: 10.0.0.1
            app: a
          - ip: 10.0.0.300
            app: b
        """,
        4,
        "ip '10.0.0.300' is not an IPv4 or IPv6 address");
    assertError(
        """
        identities:
          - app: a
            ip: 10.0.0.0/8
        """,
        3,
        "ip '10.0.0.0/8' is not an IPv4 or IPv6 address (use 'cidr:' for a block)");
    assertError(
        """
        identities:
          - cidr: 10.1.2.3/8
            app: a
        """,
        2,
        "cidr '10.1.2.3/8': 10.1.2.3/8 has host bits set: the block starts at 10.0.0.0/8");
  }

  @Test
  void shouldNameTheLineOfAnUnknownField() {
    assertError(
        """
        identities:
          - ip: 10.0.0.1
            app: a
            zonee: x
        """,
        4,
        "unknown field 'zonee' (an entry has: ip or cidr, app, cluster, namespace, workloadKind,"
            + " workloadName, instanceId, node, zone, region, account, labels)");
    assertError(
        """
        identites:
          - ip: 10.0.0.1
        """,
        1,
        "unknown field 'identites' (the file has: defaults, identities)");
    assertError(
        """
        defaults:
          app: everything
        identities: []
        """,
        2,
        "'app' cannot be a default: give it in every entry");
  }

  @Test
  void shouldNameTheLineOfAnEntryWithoutApp() {
    assertError(
        """
        identities:
          - ip: 10.0.0.1
            app: a

          - ip: 10.0.0.2
            zone: z
        """,
        5,
        "the entry for 10.0.0.2 has no 'app'");
  }

  @Test
  void shouldNameTheLinesOfOtherMistakes() {
    assertError(
        """
        identities:
          - ip: 10.0.0.1
            app: a
          - ip: 10.0.0.1
            app: b
        """,
        4,
        "10.0.0.1 is already listed on line 2");
    assertError(
        """
        identities:
          - app: a
        """,
        2,
        "an entry needs 'ip' or 'cidr'");
    assertError(
        """
        identities:
          - ip: 10.0.0.1
            cidr: 10.0.0.0/8
            app: a
        """,
        2,
        "an entry has either 'ip' or 'cidr', not both");
    assertError(
        """
        identities:
          - ip: 10.0.0.1
            app: [a, b]
        """,
        3,
        "app must be a single value, not a list");
    assertThatThrownBy(
            () ->
                StaticIdentities.parse(
                    "identities:\n  - ip: 10.0.0.1\n    app: a\n   bad indent: x\n", "ids.yaml"))
        .isInstanceOf(StaticFileException.class)
        .hasMessageStartingWith("ids.yaml:4: not valid YAML: ");
  }
}
