package io.flowsight.console.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.testing.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console's page in a real browser: Debian's chromium, headless, through Selenium and
 * chromedriver. It reads what the page shows from the state the page keeps for this purpose ({@code
 * window.__flowsight}). Shared by the console's own integration test and the end-to-end test of the
 * whole pipeline (this module's test-jar).
 */
public final class ConsolePage implements AutoCloseable {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final WebDriver browser;

  /** Starts the browser; skips the test (fails it in CI) when chromium is not installed. */
  public ConsolePage() {
    Requirements.require(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "chromium and chromedriver (apt-get install -y chromium chromium-driver;"
            + " ./flowsight test installs them)");
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    // As root in a container: no sandbox, /tmp instead of a small /dev/shm.
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1500");
    browser = new ChromeDriver(service, options);
  }

  public WebDriver browser() {
    return browser;
  }

  /** Loads {@code url} and waits until the page has loaded its data. */
  public void open(String url) {
    browser.get(url);
    awaitReady("");
  }

  /** The value of a JavaScript expression on the page, as JSON. */
  public JsonNode state(String expression) throws IOException {
    Object value =
        ((JavascriptExecutor) browser).executeScript("return JSON.stringify(" + expression + ");");
    return JSON.readTree(String.valueOf(value));
  }

  /** As {@link #state}, as text; null while the expression cannot be evaluated yet. */
  public String stateQuietly(String expression) {
    try {
      return state(expression).asText();
    } catch (Exception notYet) {
      return null;
    }
  }

  /**
   * Waits for the page to have loaded (the page says so: body[data-state=ready]) with {@code focus}
   * as its focused app ("" for none), or fails with the page's status line.
   */
  public void awaitReady(String focus) {
    new WebDriverWait(browser, Duration.ofSeconds(60))
        .withMessage(
            () ->
                "the page did not get ready: data-state="
                    + browser.findElement(By.tagName("body")).getDomAttribute("data-state")
                    + ", status: "
                    + browser.findElement(By.id("status")).getText())
        .until(
            b -> {
              WebElement body = b.findElement(By.tagName("body"));
              if ("error".equals(body.getDomAttribute("data-state"))) {
                throw new AssertionError(
                    "the page shows an error: " + b.findElement(By.id("status")).getText());
              }
              return "ready".equals(body.getDomAttribute("data-state"))
                  && focus.equals(body.getDomAttribute("data-focus"));
            });
  }

  /**
   * Picks {@code value} in the drop-down {@code id}. The page rebuilds its filters' options after
   * each load, so an option found a moment before may be gone: found again until it takes.
   */
  public void select(String id, String value) {
    new WebDriverWait(browser, Duration.ofSeconds(60))
        .ignoring(StaleElementReferenceException.class)
        .until(
            b -> {
              new Select(b.findElement(By.id(id))).selectByValue(value);
              return true;
            });
  }

  /** The nodes of the graph as the page shows them, by name. */
  public List<String> shownNodes() throws IOException {
    return texts(state("window.__flowsight.shown.nodes"));
  }

  /**
   * The edges as the page shows them: "source>target bytes connections failed retransmits colour".
   */
  public List<String> shownEdges() throws IOException {
    List<String> out = new ArrayList<>();
    for (JsonNode e : state("window.__flowsight.shown.edges")) {
      out.add(
          e.path("source").asText()
              + ">"
              + e.path("target").asText()
              + " "
              + e.path("bytes").asLong()
              + " "
              + e.path("connections").asLong()
              + " "
              + e.path("failed").asLong()
              + " "
              + e.path("retransmits").asLong()
              + " "
              + e.path("color").asText());
    }
    return out;
  }

  /** Edges without their colour: "source>target bytes connections failed retransmits". */
  public static List<String> withoutColour(List<String> edges) {
    return edges.stream().map(e -> e.substring(0, e.lastIndexOf(' '))).toList();
  }

  public static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** A screenshot of the page into the test report: target/failsafe-reports/NAME.png. */
  public Path screenshot(String name) throws IOException, InterruptedException {
    Thread.sleep(1500); // echarts draws its lines with a 1 s animation; the picture waits for it
    Path report = Path.of("target", "failsafe-reports");
    Files.createDirectories(report);
    Path shot = report.resolve(name + ".png");
    Files.copy(
        ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(),
        shot,
        StandardCopyOption.REPLACE_EXISTING);
    return shot.toAbsolutePath();
  }

  @Override
  public void close() {
    browser.quit();
  }
}
