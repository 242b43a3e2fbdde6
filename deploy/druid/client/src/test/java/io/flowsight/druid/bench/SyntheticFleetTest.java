package io.flowsight.druid.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SyntheticFleetTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MONDAY = 1_767_571_200_000L; // 2026-01-05T00:00Z

  private final SyntheticFleet.Shape shape =
      new SyntheticFleet.Shape(100, 5_000, 3, 200, 7, MONDAY);
  private List<JsonNode> monday;
  private String mondayText;

  @BeforeAll
  void writeMonday() throws Exception {
    mondayText = day(new SyntheticFleet(shape), 0);
    monday = mondayText.lines().map(SyntheticFleetTest::parse).toList();
  }

  private static String day(SyntheticFleet fleet, int day) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long rows = fleet.writeDay(day, out);
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text.lines().count()).isEqualTo(rows);
    return text;
  }

  private static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (Exception e) {
      throw new AssertionError(line, e);
    }
  }

  @Test
  void shouldWriteTheSameDayWhateverWasWrittenBefore() throws Exception {
    SyntheticFleet again = new SyntheticFleet(shape);
    day(again, 2);
    assertThat(day(again, 0)).isEqualTo(mondayText);
  }

  @Test
  void shouldHaveAboutTheRowsAMinuteAskedFor() {
    // A weekday's cycle averages 1: the rows of Monday are 200 a minute, give or take the saturated
    // conversations (those active every minute do not grow by day).
    assertThat(monday.size() / 1440.0).isBetween(180.0, 210.0);
    Map<Long, Integer> perMinute = new HashMap<>();
    monday.forEach(r -> perMinute.merge(r.path("windowStart").asLong(), 1, Integer::sum));
    assertThat(perMinute).hasSize(1440);
    // Night (03:00 UTC) against afternoon (15:00): the daily cycle is there.
    assertThat(perMinute.get(MONDAY + 15 * 3_600_000L))
        .isGreaterThan(perMinute.get(MONDAY + 3 * 3_600_000L));
  }

  @Test
  void shouldBeSkewedAsAFleetIs() {
    Map<String, Long> bytesByServer = new HashMap<>();
    Set<String> ips = new HashSet<>();
    for (JsonNode r : monday) {
      ips.add(r.path("clientIp").asText());
      ips.add(r.path("serverIp").asText());
      bytesByServer.merge(
          r.path("serverApp").asText("<outside>"),
          r.path("bytesClientToServer").asLong() + r.path("bytesServerToClient").asLong(),
          Long::sum);
    }
    long total = bytesByServer.values().stream().mapToLong(Long::longValue).sum();
    long top5 =
        bytesByServer.values().stream()
            .sorted((a, b) -> Long.compare(b, a))
            .limit(5)
            .mapToLong(Long::longValue)
            .sum();
    // 5 % of the apps serve at least a third of the bytes, and most apps are called by someone.
    assertThat(top5).isGreaterThan(total / 3);
    assertThat(bytesByServer.size()).isGreaterThan(50);
    assertThat(ips.size()).isGreaterThan(1_000);
  }

  @Test
  void shouldWriteRowsTheFlowsSupervisorReads() {
    for (JsonNode r : monday) {
      assertThat(r.path("protocol").asText()).isEqualTo("TCP");
      int listed = r.path("ephemeralPorts").size();
      long connections = r.path("connections").asLong() + r.path("failedConnections").asLong();
      assertThat(listed).isBetween(1, SyntheticFleet.LISTED_PORTS);
      assertThat(listed + r.path("ephemeralPortsOverflow").asLong())
          .isLessThanOrEqualTo(connections);
      String observedBy = r.path("observedBy").asText();
      if (observedBy.equals("SERVER")) {
        assertThat(r.path("clientAttribution").asText()).isEqualTo("NEVER_SEEN");
        assertThat(r.has("clientApp")).isFalse();
        assertThat(r.path("clientIp").asText()).startsWith("100.");
      } else if (observedBy.equals("CLIENT")) {
        assertThat(r.path("serverAttribution").asText()).isEqualTo("CIDR");
      } else {
        assertThat(observedBy).isEqualTo("BOTH");
        assertThat(r.path("clientZone").asText()).startsWith(r.path("clientRegion").asText());
      }
    }
  }

  @Test
  void shouldGiveTheLargestAppAboutAFifteenthOfTheIps() {
    SyntheticFleet fleet =
        new SyntheticFleet(new SyntheticFleet.Shape(1_000, 50_000, 1, 10, 42, MONDAY));
    int[] sizes = fleet.appSizes();
    assertThat(Arrays.stream(sizes).sum()).isEqualTo(50_000);
    assertThat(Arrays.stream(sizes).max().getAsInt()).isBetween(2_500, 3_500);
    assertThat(Arrays.stream(sizes).sorted().toArray()[500]).isBetween(15, 35);
  }
}
