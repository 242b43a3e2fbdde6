package io.flowsight.druid;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.druid.testing.InlineDatasource;
import io.flowsight.testing.Requirements;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client and its CLI against the real test Druid ({@code FLOWSIGHT_TEST_DRUID_URL}): a
 * datasource of its own, with the flows supervisor's columns and rollup, loaded with four known
 * aggregated rows by native batch ingestion (inline input); then every named query returns exact
 * rows, Druid's refusals come back with its message and the query's name, and the CLI prints the
 * exact table, CSV and JSON.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DruidClientIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SINCE = "2026-01-31T10:00:00Z";
  private static final String UNTIL = "2026-01-31T10:05:00Z";

  private DruidClient druid;
  private String url;
  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private final String dataSource = "flows_client_it_" + run;

  /**
   * The collector's JSON rows (docs/collector.md), one per window and 4-tuple: frontend calls
   * backend in two minutes (10:00, 10:01 UTC), an unattributed client fails to reach backend, and
   * backend calls db in another region (10:02).
   */
  private static final String ROWS =
      """
      {"windowStart":1769853600000,"protocol":"TCP","addressFamily":"IPV4","observedBy":"BOTH",      "clientIp":"10.0.0.1","clientApp":"frontend","clientZone":"zone-a","clientRegion":"region-1",      "clientAttribution":"OWNER","serverIp":"10.0.0.2","serverApp":"backend","serverZone":"zone-b",      "serverRegion":"region-1","serverAttribution":"OWNER","servicePort":8080,"flowRecords":6,      "connections":3,"failedConnections":0,"bytesClientToServer":300,"bytesServerToClient":3000,      "segmentsClientToServer":10,"segmentsServerToClient":20,"retransmits":2,"rttSumMicros":3000,      "rttCount":3,"rttMinMicros":500,"rttMaxMicros":1500,"ephemeralPorts":[40001,40002,40003],      "ephemeralPortsOverflow":0}
      {"windowStart":1769853660000,"protocol":"TCP","addressFamily":"IPV4","observedBy":"BOTH",      "clientIp":"10.0.0.1","clientApp":"frontend","clientZone":"zone-a","clientRegion":"region-1",      "clientAttribution":"OWNER","serverIp":"10.0.0.2","serverApp":"backend","serverZone":"zone-b",      "serverRegion":"region-1","serverAttribution":"OWNER","servicePort":8080,"flowRecords":6,      "connections":2,"failedConnections":1,"bytesClientToServer":200,"bytesServerToClient":2000,      "segmentsClientToServer":5,"segmentsServerToClient":5,"retransmits":0,"rttSumMicros":4000,      "rttCount":2,"rttMinMicros":1000,"rttMaxMicros":3000,"ephemeralPorts":[40003,40004],      "ephemeralPortsOverflow":1}
      {"windowStart":1769853600000,"protocol":"TCP","addressFamily":"IPV4","observedBy":"BOTH",      "clientIp":"10.9.9.9","clientAttribution":"NEVER_SEEN","serverIp":"10.0.0.2",      "serverApp":"backend","serverZone":"zone-b","serverRegion":"region-1",      "serverAttribution":"OWNER","servicePort":5432,"flowRecords":4,"connections":0,      "failedConnections":4,"bytesClientToServer":0,"bytesServerToClient":0,      "segmentsClientToServer":0,"segmentsServerToClient":0,"retransmits":0,"rttSumMicros":0,      "rttCount":0,"ephemeralPorts":[45000,45001],"ephemeralPortsOverflow":0}
      {"windowStart":1769853720000,"protocol":"TCP","addressFamily":"IPV4","observedBy":"BOTH",      "clientIp":"10.0.0.2","clientApp":"backend","clientZone":"zone-b","clientRegion":"region-1",      "clientAttribution":"OWNER","serverIp":"10.0.0.3","serverApp":"db","serverZone":"zone-c",      "serverRegion":"region-2","serverAttribution":"OWNER","servicePort":5432,"flowRecords":2,      "connections":1,"failedConnections":0,"bytesClientToServer":50,"bytesServerToClient":70,      "segmentsClientToServer":2,"segmentsServerToClient":3,"retransmits":1,"rttSumMicros":10000,      "rttCount":1,"rttMinMicros":10000,"rttMaxMicros":10000,"ephemeralPorts":[50000],      "ephemeralPortsOverflow":0}
      """;

  @BeforeAll
  void loadTheDatasource() throws Exception {
    url = System.getenv("FLOWSIGHT_TEST_DRUID_URL");
    druid = url == null ? null : new DruidClient(url);
    Requirements.require(
        druid != null && druid.readiness().stream().allMatch(DruidClient.Check::ok),
        "a Druid cluster (./flowsight test starts one and sets FLOWSIGHT_TEST_DRUID_URL)");

    // The flows supervisor's columns, metrics and rollup, fed from inline JSON instead of Kafka.
    InlineDatasource.load(druid, dataSource, ROWS, 4);
  }

  @AfterAll
  void dropTheDatasource() {
    if (druid != null) {
      InlineDatasource.drop(druid, dataSource);
    }
  }

  /** What the CLI prints, exit code first. */
  private List<String> cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] all = new String[args.length + 2];
    all[0] = "--url";
    all[1] = url;
    System.arraycopy(args, 0, all, 2, args.length);
    int code =
        DruidMain.run(
            all,
            Map.of(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return List.of(
        String.valueOf(code),
        out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  private String csv(String name, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "query",
                name,
                "--since",
                SINCE,
                "--until",
                UNTIL,
                "--datasource",
                dataSource,
                "--format",
                "csv"));
    args.addAll(List.of(more));
    List<String> result = cli(args.toArray(String[]::new));
    assertThat(result.get(2)).isEmpty();
    assertThat(result.get(0)).isEqualTo("0");
    return result.get(1);
  }

  @Test
  void topTalkersShouldAddBothDirectionsPerApplicationPair() {
    assertThat(csv("top-talkers"))
        .isEqualTo(
            """
            client_app,server_app,bytes,bytes_client_to_server,bytes_server_to_client,connections,failed,service_ports
            frontend,backend,5500,500,5000,5,1,1
            backend,db,120,50,70,1,0,1
            <NEVER_SEEN>,backend,0,0,0,0,4,1
            """);
  }

  @Test
  void graphShouldHaveOneEdgePerApplicationPairWithFailuresAndRetransmits() {
    assertThat(csv("graph"))
        .isEqualTo(
            """
            client_app,server_app,bytes,bytes_client_to_server,bytes_server_to_client,connections,failed,retransmits,retransmit_pct,mean_rtt_ms
            frontend,backend,5500,500,5000,5,1,2,5,1.4
            backend,db,120,50,70,1,0,1,20,10
            <NEVER_SEEN>,backend,0,0,0,0,4,0,,
            """);
  }

  @Test
  void dependenciesShouldShowWhomTheAppCallsAndWhoCallsIt() {
    assertThat(csv("dependencies", "--app", "backend"))
        .isEqualTo(
            """
            direction,peer_app,service_port,connections,failed,bytes_client_to_server,bytes_server_to_client,mean_rtt_ms
            downstream,db,5432,1,0,50,70,10
            upstream,frontend,8080,5,1,500,5000,1.4
            upstream,<NEVER_SEEN>,5432,0,4,0,0,
            """);
  }

  @Test
  void failedConnectionsShouldRankThePairsByFailures() {
    assertThat(csv("failed-connections"))
        .isEqualTo(
            """
            client_app,server_app,service_port,failed,connections,failed_pct,server_ips,first_minute,last_minute
            <NEVER_SEEN>,backend,5432,4,0,100,1,2026-01-31T10:00:00.000Z,2026-01-31T10:00:00.000Z
            frontend,backend,8080,1,5,16.7,1,2026-01-31T10:00:00.000Z,2026-01-31T10:01:00.000Z
            """);
  }

  @Test
  void hotspotsShouldRankRetransmitsThenRtt() {
    assertThat(csv("hotspots"))
        .isEqualTo(
            """
            client_app,server_app,client_zone,server_zone,connections,retransmits,retransmit_pct,mean_rtt_ms,min_rtt_ms,max_rtt_ms
            frontend,backend,zone-a,zone-b,5,2,5,1.4,0.5,3
            backend,db,zone-b,zone-c,1,1,20,10,10,10
            """);
  }

  @Test
  void zonePairsShouldTellTheKindOfEachPair() {
    assertThat(csv("zone-pairs"))
        .isEqualTo(
            """
            client_zone,server_zone,kind,bytes,bytes_client_to_server,bytes_server_to_client,connections,client_apps,server_apps
            region-1/zone-a,region-1/zone-b,cross-zone,5500,500,5000,5,1,1
            region-1/zone-b,region-2/zone-c,cross-region,120,50,70,1,1,1
            ?/?,region-1/zone-b,unknown,0,0,0,0,0,1
            """);
  }

  @Test
  void ephemeralPortsShouldGiveThePeakPortsOfOneMinuteOfEachEndpointPair() {
    // frontend -> backend: minute 1 lists 3 ports, minute 2 lists 2 and has 1 not listed: 3 either
    // way.
    assertThat(csv("ephemeral-ports"))
        .isEqualTo(
            """
            client_app,client_ip,server_app,server_ip,service_port,peak_ports_a_minute,ports_not_listed,connections,failed
            frontend,10.0.0.1,backend,10.0.0.2,8080,3,1,5,1
            <NEVER_SEEN>,10.9.9.9,backend,10.0.0.2,5432,2,0,0,4
            backend,10.0.0.2,db,10.0.0.3,5432,1,0,1,0
            """);
  }

  @Test
  void timeseriesShouldHaveARowForEveryBucketOfThePairZerosWhereEmpty() {
    assertThat(
            csv(
                "timeseries",
                "--app-pair",
                "frontend,backend",
                "--granularity",
                "PT1M",
                "--until",
                "2026-01-31T10:03:00Z"))
        .isEqualTo(
            """
            time,client_app,server_app,bytes_client_to_server,bytes_server_to_client,connections,failed_connections,retransmits,rtt_sum_micros,rtt_count,mean_rtt_micros
            2026-01-31T10:00:00.000Z,frontend,backend,300,3000,3,0,2,3000,3,1000
            2026-01-31T10:01:00.000Z,frontend,backend,200,2000,2,1,0,4000,2,2000
            2026-01-31T10:02:00.000Z,frontend,backend,0,0,0,0,0,0,0,
            """);
  }

  @Test
  void zoneSeriesShouldHaveARowForEveryBucketOfEachZonePairAndPort() {
    // Ends without a zone are '?'; series in the order of their names, '?' first.
    assertThat(csv("timeseries-zones", "--granularity", "PT1M", "--until", "2026-01-31T10:03:00Z"))
        .isEqualTo(
            """
            time,client_zone,server_zone,service_port,bytes_client_to_server,bytes_server_to_client,connections
            2026-01-31T10:00:00.000Z,?,zone-b,5432,0,0,0
            2026-01-31T10:00:00.000Z,zone-a,zone-b,8080,300,3000,3
            2026-01-31T10:00:00.000Z,zone-b,zone-c,5432,0,0,0
            2026-01-31T10:01:00.000Z,?,zone-b,5432,0,0,0
            2026-01-31T10:01:00.000Z,zone-a,zone-b,8080,200,2000,2
            2026-01-31T10:01:00.000Z,zone-b,zone-c,5432,0,0,0
            2026-01-31T10:02:00.000Z,?,zone-b,5432,0,0,0
            2026-01-31T10:02:00.000Z,zone-a,zone-b,8080,0,0,0
            2026-01-31T10:02:00.000Z,zone-b,zone-c,5432,50,70,1
            """);
  }

  @Test
  void theCliShouldPrintTheExactTableAndJson() {
    List<String> table =
        cli(
            "query",
            "top-talkers",
            "--since",
            SINCE,
            "--until",
            UNTIL,
            "--datasource",
            dataSource,
            "--limit",
            "2");
    assertThat(table.get(0)).isEqualTo("0");
    assertThat(table.get(1))
        .isEqualTo(
            """
            top-talkers, 2026-01-31T10:00:00.000Z .. 2026-01-31T10:05:00.000Z (UTC)
            client_app  server_app  bytes  bytes_client_to_server  bytes_server_to_client  connections  failed  service_ports
            ----------  ----------  -----  ----------------------  ----------------------  -----------  ------  -------------
            frontend    backend      5500                     500                    5000            5       1              1
            backend     db            120                      50                      70            1       0              1
            (2 rows)
            """);

    List<String> json =
        cli(
            "query",
            "dependencies",
            "--app",
            "db",
            "--since",
            SINCE,
            "--until",
            UNTIL,
            "--datasource",
            dataSource,
            "--format",
            "json");
    assertThat(json.get(0)).isEqualTo("0");
    assertThat(json.get(1))
        .isEqualTo(
            """
            [
              {
                "direction": "upstream",
                "peer_app": "backend",
                "service_port": 5432,
                "connections": 1,
                "failed": 0,
                "bytes_client_to_server": 50,
                "bytes_server_to_client": 70,
                "mean_rtt_ms": 10.0
              }
            ]
            """);
  }

  @Test
  void badSqlShouldFailWithDruidsMessageAndTheQueryName(@TempDir Path queries) throws Exception {
    Files.writeString(
        queries.resolve("broken.sql"),
        "-- Refers to a column the datasource does not have.\n"
            + "SELECT \"nope\" FROM \"flows\" WHERE \"__time\" >= MILLIS_TO_TIMESTAMP({{since_ms}})\n");

    List<String> named =
        cli("query", "broken", "--queries", queries.toString(), "--datasource", dataSource);
    assertThat(named.get(0)).isEqualTo("1");
    assertThat(named.get(1)).isEmpty();
    assertThat(named.get(2))
        .isEqualTo(
            "druid: query broken: POST /druid/v2/sql: HTTP 400: Column 'nope' not found in any"
                + " table (line [1], column [8])"
                + System.lineSeparator());

    List<String> adHoc = cli("query", "--sql", "SELECT COUNT(*) FRM \"" + dataSource + "\"");
    assertThat(adHoc.get(0)).isEqualTo("1");
    assertThat(adHoc.get(2)).startsWith("druid: --sql: POST /druid/v2/sql: HTTP 400: ");
  }

  @Test
  void anUnknownQueryNameShouldListTheKnownOnes() {
    List<String> result = cli("query", "top-talker", "--datasource", dataSource);

    assertThat(result.get(0)).isEqualTo("1");
    assertThat(result.get(2))
        .isEqualTo(
            "druid: no query named 'top-talker'; the named queries are: dependencies,"
                + " ephemeral-ports, failed-connections, graph, hotspots, timeseries,"
                + " timeseries-zones, top-talkers, zone-pairs (./flowsight query --list)"
                + System.lineSeparator());
  }

  @Test
  void applyShouldCreateTheSupervisorSetItsRulesAndLeaveAnUnchangedSpecAlone() {
    String supervised = "flows_client_it_sup_" + run;
    String topic = "druid-client-it-" + run;
    try {
      List<String> first =
          cli(
              "apply",
              "--datasource",
              supervised,
              "--topic",
              topic,
              "--bootstrap-servers",
              "127.0.0.1:19092",
              "--wait",
              "1");
      assertThat(first.get(2)).isEmpty();
      assertThat(first.get(0)).isEqualTo("0");
      assertThat(first.get(1))
          .startsWith(
              "supervisor "
                  + supervised
                  + ": created (topic "
                  + topic
                  + " on 127.0.0.1:19092)\n"
                  + "load rules of "
                  + supervised
                  + ": loadForever, 1 replica\n\nsupervisor "
                  + supervised
                  + ": ");
      assertThat(Supervisors.sameRules(druid.loadRules(supervised)))
          .as("rules %s", druid.loadRules(supervised))
          .isTrue();

      List<String> again =
          cli(
              "apply",
              "--datasource",
              supervised,
              "--topic",
              topic,
              "--bootstrap-servers",
              "127.0.0.1:19092",
              "--wait",
              "1");
      assertThat(again.get(1))
          .startsWith(
              "supervisor "
                  + supervised
                  + ": unchanged (topic "
                  + topic
                  + " on 127.0.0.1:19092)\n\nsupervisor "
                  + supervised
                  + ": ");

      List<String> brief = cli("status", "--datasource", supervised, "--brief");
      assertThat(brief.get(1)).startsWith("supervisor " + supervised + ": ");
    } finally {
      List<String> removed = cli("remove", "--datasource", supervised);
      assertThat(removed.get(1)).isEqualTo("supervisor " + supervised + ": terminated\n");
    }
  }
}
