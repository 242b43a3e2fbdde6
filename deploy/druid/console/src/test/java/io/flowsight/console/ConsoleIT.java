package io.flowsight.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.console.testing.ConsolePage;
import io.flowsight.druid.DruidClient;
import io.flowsight.druid.DruidFiles;
import io.flowsight.druid.NamedQueries;
import io.flowsight.druid.QueryRun;
import io.flowsight.druid.SqlResult;
import io.flowsight.druid.testing.InlineDatasource;
import io.flowsight.testing.Requirements;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real browser (Debian's chromium, headless, through Selenium and chromedriver)
 * against the real test Druid ({@code FLOWSIGHT_TEST_DRUID_URL}): a flows datasource of its own
 * loaded with known rows (as the client's test loads them), and a forecasts datasource with two
 * runs' forecasts of one pair. The page's graph (read from the state the page keeps and from
 * echarts itself), its tables and its series must hold exactly the numbers Druid SQL gives for the
 * same rows; a click on an application shows its neighbours only. A screenshot goes to {@code
 * target/failsafe-reports/ConsoleIT-console.png}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SINCE = "2026-01-31T10:00:00Z";
  private static final String UNTIL = "2026-01-31T10:05:00Z";

  /**
   * The collector's rows (docs/collector.md): frontend calls backend in two minutes (one connection
   * failed, 2 of 30 segments retransmitted), a client never seen fails 4 times to reach backend,
   * backend calls db in another zone and cluster (1 of 5 segments retransmitted: a hot spot).
   */
  private static final String ROWS =
      """
      {"windowStart":1769853600000,"protocol":"TCP","addressFamily":"IPV4","observedBy":"BOTH",      "clientIp":"10.0.0.1","clientApp":"frontend","clientZone":"zone-a","clientRegion":"region-1",      "clientCluster":"prod","clientAttribution":"OWNER","serverIp":"10.0.0.2","serverApp":"backend",      "serverZone":"zone-b","serverRegion":"region-1","serverCluster":"prod","serverAttribution":"OWNER",      "servicePort":8080,"flowRecords":6,"connections":3,"failedConnections":0,"bytesClientToServer":300,      "bytesServerToClient":3000,"segmentsClientToServer":10,"segmentsServerToClient":20,"retransmits":2,      "rttSumMicros":3000,"rttCount":3,"rttMinMicros":500,"rttMaxMicros":1500,      "ephemeralPorts":[40001,40002,40003],"ephemeralPortsOverflow":0}
      {"windowStart":1769853660000,"protocol":"TCP","addressFamily":"IPV4","observedBy":"BOTH",      "clientIp":"10.0.0.1","clientApp":"frontend","clientZone":"zone-a","clientRegion":"region-1",      "clientCluster":"prod","clientAttribution":"OWNER","serverIp":"10.0.0.2","serverApp":"backend",      "serverZone":"zone-b","serverRegion":"region-1","serverCluster":"prod","serverAttribution":"OWNER",      "servicePort":8080,"flowRecords":6,"connections":2,"failedConnections":1,"bytesClientToServer":200,      "bytesServerToClient":2000,"segmentsClientToServer":5,"segmentsServerToClient":5,"retransmits":0,      "rttSumMicros":4000,"rttCount":2,"rttMinMicros":1000,"rttMaxMicros":3000,      "ephemeralPorts":[40003,40004],"ephemeralPortsOverflow":1}
      {"windowStart":1769853600000,"protocol":"TCP","addressFamily":"IPV4","observedBy":"BOTH",      "clientIp":"10.9.9.9","clientAttribution":"NEVER_SEEN","serverIp":"10.0.0.2",      "serverApp":"backend","serverZone":"zone-b","serverRegion":"region-1","serverCluster":"prod",      "serverAttribution":"OWNER","servicePort":5432,"flowRecords":4,"connections":0,      "failedConnections":4,"bytesClientToServer":0,"bytesServerToClient":0,      "segmentsClientToServer":0,"segmentsServerToClient":0,"retransmits":0,"rttSumMicros":0,      "rttCount":0,"ephemeralPorts":[45000,45001],"ephemeralPortsOverflow":0}
      {"windowStart":1769853720000,"protocol":"TCP","addressFamily":"IPV4","observedBy":"BOTH",      "clientIp":"10.0.0.2","clientApp":"backend","clientZone":"zone-b","clientRegion":"region-1",      "clientCluster":"prod","clientAttribution":"OWNER","serverIp":"10.0.0.3","serverApp":"db",      "serverZone":"zone-c","serverRegion":"region-2","serverCluster":"data","serverAttribution":"OWNER",      "servicePort":5432,"flowRecords":2,"connections":1,"failedConnections":0,"bytesClientToServer":50,      "bytesServerToClient":70,"segmentsClientToServer":2,"segmentsServerToClient":3,"retransmits":1,      "rttSumMicros":10000,"rttCount":1,"rttMinMicros":10000,"rttMaxMicros":10000,      "ephemeralPorts":[50000],"ephemeralPortsOverflow":0}
      """;

  /**
   * Forecasts of frontend → backend per minute, as the forecasting job writes them: a run issued at
   * 09:00 for 10:00 and 10:01, a later one at 09:30 for 10:01 and 10:02 (it supersedes the earlier
   * one's 10:01).
   */
  private static final String FORECASTS =
      """
      {"time":1769853600000,"issuedAt":1769850000000,"kind":"app_pair","clientApp":"frontend","serverApp":"backend","step":"PT1M","metric":"bytes","model":"holt-winters","forecast":3000.0,"lower":2500.0,"upper":3500.0,"coverage":0.95,"historySteps":120}
      {"time":1769853660000,"issuedAt":1769850000000,"kind":"app_pair","clientApp":"frontend","serverApp":"backend","step":"PT1M","metric":"bytes","model":"holt-winters","forecast":1000.0,"lower":500.0,"upper":1500.0,"coverage":0.95,"historySteps":120}
      {"time":1769853660000,"issuedAt":1769851800000,"kind":"app_pair","clientApp":"frontend","serverApp":"backend","step":"PT1M","metric":"bytes","model":"holt-winters","forecast":2100.0,"lower":1900.0,"upper":2300.0,"coverage":0.95,"historySteps":150}
      {"time":1769853720000,"issuedAt":1769851800000,"kind":"app_pair","clientApp":"frontend","serverApp":"backend","step":"PT1M","metric":"bytes","model":"holt-winters","forecast":500.0,"lower":0.0,"upper":1000.0,"coverage":0.95,"historySteps":150}
      """;

  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private final String dataSource = "flows_console_it_" + run;
  private final String forecastDataSource = "flows_forecast_console_it_" + run;

  private DruidClient druid;
  private ConsoleServer console;
  private ConsolePage page;
  private WebDriver browser;
  private String base;

  @BeforeAll
  void start() throws Exception {
    String url = System.getenv("FLOWSIGHT_TEST_DRUID_URL");
    druid = url == null ? null : new DruidClient(url);
    Requirements.require(
        druid != null && druid.readiness().stream().allMatch(DruidClient.Check::ok),
        "a Druid cluster (./flowsight test starts one and sets FLOWSIGHT_TEST_DRUID_URL)");
    page = new ConsolePage();
    browser = page.browser();

    InlineDatasource.load(druid, dataSource, ROWS, 4);
    InlineDatasource.load(
        druid,
        DruidFiles.supervisorSpec().resolveSibling("forecast-supervisor.json"),
        forecastDataSource,
        FORECASTS,
        4);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ConsoleMain.Started started =
        ConsoleMain.start(
            new String[] {
              "--address", "127.0.0.1:0",
              "--druid-url", url,
              "--datasource", dataSource,
              "--forecast-datasource", forecastDataSource
            },
            Map.of(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(started.code()).as(err.toString(StandardCharsets.UTF_8)).isZero();
    console = started.server();
    base = "http://127.0.0.1:" + console.port();
    assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("flowsight console: " + base + "/");
  }

  @AfterAll
  void stop() {
    if (page != null) {
      page.close();
    }
    if (console != null) {
      console.close();
    }
    if (druid != null) {
      InlineDatasource.drop(druid, dataSource);
      InlineDatasource.drop(druid, forecastDataSource);
    }
  }

  // --- the page --------------------------------------------------------------------------------

  private void open() {
    page.open(base + "/?since=" + SINCE + "&until=" + UNTIL);
  }

  /** The same sums straight from Druid SQL, per application pair, in the same form. */
  private List<String> druidEdges(String where) {
    SqlResult result =
        druid.sql(
            "SELECT COALESCE(\"clientApp\", '<' || \"clientAttribution\" || '>') AS \"c\","
                + " COALESCE(\"serverApp\", '<' || \"serverAttribution\" || '>') AS \"s\","
                + " SUM(\"bytesClientToServer\") + SUM(\"bytesServerToClient\") AS \"b\","
                + " SUM(\"connections\") AS \"n\", SUM(\"failedConnections\") AS \"f\","
                + " SUM(\"retransmits\") AS \"r\" FROM \""
                + dataSource
                + "\" WHERE "
                + where
                + " GROUP BY 1, 2 ORDER BY 3 DESC, 4 DESC, 5 DESC");
    List<String> out = new ArrayList<>();
    for (JsonNode row : result.objects()) {
      out.add(
          row.path("c").asText()
              + ">"
              + row.path("s").asText()
              + " "
              + row.path("b").asLong()
              + " "
              + row.path("n").asLong()
              + " "
              + row.path("f").asLong()
              + " "
              + row.path("r").asLong());
    }
    return out;
  }

  // --- the checks ------------------------------------------------------------------------------

  @Test
  @Order(1)
  void graphShouldShowEveryPairWithDruidsSumsFailuresAndHotSpotsAndTheUnattributedEnd()
      throws Exception {
    open();

    assertThat(page.shownNodes()).containsExactly("<NEVER_SEEN>", "backend", "db", "frontend");
    // Red: failed connections; orange: 20 % of the segments retransmitted.
    assertThat(page.shownEdges())
        .containsExactly(
            "frontend>backend 5500 5 1 2 #d62728",
            "backend>db 120 1 0 1 #ff7f0e",
            "<NEVER_SEEN>>backend 0 0 4 0 #d62728");
    assertThat(ConsolePage.withoutColour(page.shownEdges())).isEqualTo(druidEdges("TRUE"));

    // What echarts draws: the same nodes, the unattributed one a grey diamond, and the edges.
    JsonNode series = page.state("window.__flowsight.graphChart.getOption().series[0]");
    List<String> drawn = new ArrayList<>();
    series
        .path("data")
        .forEach(n -> drawn.add(n.path("name").asText() + " " + n.path("symbol").asText()));
    assertThat(drawn)
        .containsExactly("<NEVER_SEEN> diamond", "backend circle", "db circle", "frontend circle");
    List<String> links = new ArrayList<>();
    series
        .path("links")
        .forEach(
            l ->
                links.add(
                    l.path("source").asText()
                        + ">"
                        + l.path("target").asText()
                        + " "
                        + l.path("lineStyle").path("color").asText()));
    assertThat(links)
        .containsExactly(
            "frontend>backend #d62728", "backend>db #ff7f0e", "<NEVER_SEEN>>backend #d62728");

    System.out.println(
        "ConsoleIT: screenshot of the console in " + page.screenshot("ConsoleIT-console"));
  }

  @Test
  @Order(2)
  void tablesShouldHoldTheNamedQueriesRowsAsTheCliGetsThem() throws Exception {
    open();
    NamedQueries queries = new NamedQueries(DruidFiles.queries());
    for (String name : List.of("top-talkers", "zone-pairs", "ephemeral-ports")) {
      QueryRun cli =
          new QueryRun(name, null, SINCE, UNTIL, null, null, "PT1M", true, 20, dataSource);
      SqlResult expected = cli.run(druid, cli.prepare(queries, System.currentTimeMillis()));
      JsonNode table = page.state("window.__flowsight.tables['" + name + "']");
      assertThat(ConsolePage.texts(table.path("columns"))).as(name).isEqualTo(expected.columns());
      assertThat(table.path("rows").toString())
          .as(name)
          .isEqualTo(JSON.valueToTree(expected.rows()).toString());
    }
    // The numbers as the page prints them, row by row.
    List<String> rows = new ArrayList<>();
    for (WebElement tr : browser.findElements(By.cssSelector("#table-top-talkers tr"))) {
      List<String> cells = new ArrayList<>();
      tr.findElements(By.tagName("td")).forEach(td -> cells.add(td.getText()));
      if (!cells.isEmpty()) {
        rows.add(String.join("|", cells));
      }
    }
    assertThat(rows)
        .containsExactly(
            "frontend|backend|5,500|500|5,000|5|1|1",
            "backend|db|120|50|70|1|0|1",
            "<NEVER_SEEN>|backend|0|0|0|0|4|1");
  }

  @Test
  @Order(3)
  void clickingAnAppShouldShowItsNeighboursOnlyAndItsUpstreamAndDownstream() throws Exception {
    open();
    // Where echarts drew db, in the canvas' pixels; a real mouse click there.
    JsonNode at =
        page.state(
            "(() => { const c = window.__flowsight.graphChart;"
                + " const data = c.getModel().getSeriesByIndex(0).getData();"
                + " return c.convertToPixel({seriesIndex: 0}, data.getItemLayout(data.indexOfName('db'))); })()");
    WebElement canvas = browser.findElement(By.cssSelector("#graph canvas"));
    int x = (int) Math.round(at.get(0).asDouble() - canvas.getSize().getWidth() / 2.0);
    int y = (int) Math.round(at.get(1).asDouble() - canvas.getSize().getHeight() / 2.0);
    new Actions(browser).moveToElement(canvas, x, y).click().perform();
    page.awaitReady("db");

    assertThat(page.shownNodes()).containsExactly("backend", "db");
    assertThat(page.shownEdges()).containsExactly("backend>db 120 1 0 1 #ff7f0e");
    assertThat(page.state("window.__flowsight.tables.dependencies.rows").toString())
        .isEqualTo("[[\"upstream\",\"backend\",5432,1,0,50,70,10]]"); // mean RTT 10 ms
    assertThat(browser.findElement(By.id("focus-app")).getText()).isEqualTo("db");
  }

  @Test
  @Order(4)
  void zoneAndClusterFiltersShouldNarrowTheGraphToFlowsWithAnEndThere() throws Exception {
    open();
    page.select("zone", "zone-a");
    new WebDriverWait(browser, Duration.ofSeconds(60))
        .until(b -> "zone-a".equals(page.stateQuietly("window.__flowsight.graph.zone")));
    page.awaitReady("");
    assertThat(ConsolePage.withoutColour(page.shownEdges()))
        .isEqualTo(druidEdges("\"clientZone\" = 'zone-a' OR \"serverZone\" = 'zone-a'"))
        .containsExactly("frontend>backend 5500 5 1 2");

    page.select("zone", "");
    // The zone's reload rebuilds the cluster's options: wait for it before picking one.
    new WebDriverWait(browser, Duration.ofSeconds(60))
        .until(b -> "".equals(page.stateQuietly("window.__flowsight.graph.zone")));
    page.awaitReady("");
    page.select("cluster", "data");
    new WebDriverWait(browser, Duration.ofSeconds(60))
        .until(b -> "data".equals(page.stateQuietly("window.__flowsight.graph.cluster")));
    page.awaitReady("");
    assertThat(ConsolePage.withoutColour(page.shownEdges()))
        .isEqualTo(druidEdges("\"clientCluster\" = 'data' OR \"serverCluster\" = 'data'"))
        .containsExactly("backend>db 120 1 0 1");
  }

  @Test
  @Order(5)
  void seriesShouldOverlayTheLatestForecastOfEachStepOnTheActuals() throws Exception {
    open();
    // The largest pair first: frontend -> backend, per minute as its forecasts are.
    JsonNode series = page.state("window.__flowsight.series");
    assertThat(series.path("client").asText()).isEqualTo("frontend");
    assertThat(series.path("server").asText()).isEqualTo("backend");
    assertThat(series.path("step").asText()).isEqualTo("PT1M");
    assertThat(series.has("note")).isFalse();
    long t0 = 1769853600000L;
    assertThat(series.path("actual").toString())
        .isEqualTo(
            "[["
                + t0
                + ",3300],["
                + (t0 + 60_000)
                + ",2200],["
                + (t0 + 120_000)
                + ",0],["
                + (t0 + 180_000)
                + ",0],["
                + (t0 + 240_000)
                + ",0]]");
    // The page's JSON (JavaScript numbers: 3000, not 3000.0); 10:01 from the later run.
    assertThat(series.path("forecast").toString())
        .isEqualTo(
            "[["
                + t0
                + ",3000,2500,3500],["
                + (t0 + 60_000)
                + ",2100,1900,2300],["
                + (t0 + 120_000)
                + ",500,0,1000]]");
    // Drawn: the actuals, and the forecast line over them.
    JsonNode drawn =
        page.state(
            "echarts.getInstanceByDom(document.getElementById('series')).getOption().series.map(s => s.name)");
    assertThat(ConsolePage.texts(drawn)).containsExactly("bytes", "lower", "interval", "forecast");

    // A pair without forecasts: the actuals alone, with a note.
    ((JavascriptExecutor) browser).executeScript("window.__flowsight.showPair('backend', 'db');");
    new WebDriverWait(browser, Duration.ofSeconds(60))
        .until(b -> "db".equals(page.stateQuietly("window.__flowsight.series.server")));
    JsonNode alone = page.state("window.__flowsight.series");
    assertThat(alone.path("forecast")).isEmpty();
    assertThat(alone.path("note").asText())
        .isEqualTo("no forecast of this pair in the range (./flowsight forecast makes them)");
    assertThat(browser.findElement(By.id("series-note")).getText())
        .isEqualTo(alone.path("note").asText());
  }
}
