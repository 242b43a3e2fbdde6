package io.flowsight.druid;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Druid over its HTTP API, through the router: SQL (forwarded to the broker), the overlord's
 * supervisors and tasks and the coordinator's load rules (forwarded by the router's management
 * proxy to the leading coordinator-overlord).
 */
public final class DruidClient implements DruidSql {

  /** The router of the local stack when neither --url nor FLOWSIGHT_DRUID_URL says otherwise. */
  public static final int DEFAULT_ROUTER_PORT = 18888;

  static final ObjectMapper JSON = new ObjectMapper();

  private final String url;
  private final HttpClient http;
  private final Duration timeout;

  public DruidClient(String url) {
    this(url, Duration.ofSeconds(60));
  }

  public DruidClient(String url, Duration timeout) {
    this.url = url.replaceAll("/+$", "");
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /**
   * The router's URL: {@code FLOWSIGHT_DRUID_URL}, else the local stack's router on {@code
   * FLOWSIGHT_DRUID_ROUTER_PORT} (18888).
   */
  public static String defaultUrl(Map<String, String> env) {
    String url = env.get("FLOWSIGHT_DRUID_URL");
    if (url != null && !url.isBlank()) {
      return url;
    }
    return "http://127.0.0.1:"
        + env.getOrDefault("FLOWSIGHT_DRUID_ROUTER_PORT", String.valueOf(DEFAULT_ROUTER_PORT));
  }

  public String url() {
    return url;
  }

  // --- SQL ---------------------------------------------------------------------------------------

  /** Runs Druid SQL with its dynamic parameters ({@code ?}) bound in order; times in UTC. */
  @Override
  public SqlResult sql(String query, List<SqlParameter> parameters) {
    ObjectNode body = JSON.createObjectNode();
    body.put("query", query);
    // Arrays, with three header rows: the column names, Druid's types and the SQL types.
    body.put("resultFormat", "array");
    body.put("header", true);
    body.put("typesHeader", true);
    body.put("sqlTypesHeader", true);
    ArrayNode params = body.putArray("parameters");
    for (SqlParameter p : parameters) {
      params.addObject().put("type", p.type()).set("value", JSON.valueToTree(p.value()));
    }
    body.putObject("context").put("sqlTimeZone", "Etc/UTC");
    JsonNode answer = request("POST", "/druid/v2/sql", body);
    if (!answer.isArray() || answer.size() < 3) {
      return new SqlResult(List.of(), List.of(), List.of(), List.of());
    }
    List<List<JsonNode>> rows = new ArrayList<>();
    for (int i = 3; i < answer.size(); i++) {
      List<JsonNode> row = new ArrayList<>();
      answer.get(i).forEach(row::add);
      rows.add(row);
    }
    return new SqlResult(texts(answer.get(0)), texts(answer.get(1)), texts(answer.get(2)), rows);
  }

  public SqlResult sql(String query, SqlParameter... parameters) {
    return sql(query, List.of(parameters));
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  // --- supervisors, rules, tasks -----------------------------------------------------------------

  /** Submits or updates a supervisor; an unchanged spec leaves it and its tasks alone. */
  public void submitSupervisor(JsonNode spec) {
    request("POST", "/druid/indexer/v1/supervisor?skipRestartIfUnmodified=true", spec);
  }

  /** The supervisor's status payload, empty when there is no such supervisor. */
  public ObjectNode supervisorStatus(String id) {
    JsonNode status = orEmptyOn404("GET", "/druid/indexer/v1/supervisor/" + quote(id) + "/status");
    JsonNode payload = status.path("payload");
    return payload.isObject() ? (ObjectNode) payload : JSON.createObjectNode();
  }

  /** How many versions of the supervisor's spec the overlord keeps (0 when there is none). */
  public int supervisorHistorySize(String id) {
    JsonNode history =
        orEmptyOn404("GET", "/druid/indexer/v1/supervisor/" + quote(id) + "/history");
    return history.isArray() ? history.size() : 0;
  }

  /** The ids of every supervisor. */
  public List<String> supervisors() {
    return texts(request("GET", "/druid/indexer/v1/supervisor", null));
  }

  /** {@code action}: suspend, reset or terminate. */
  public void supervisorAction(String id, String action) {
    request("POST", "/druid/indexer/v1/supervisor/" + quote(id) + "/" + action, null);
  }

  public JsonNode loadRules(String dataSource) {
    JsonNode rules = request("GET", "/druid/coordinator/v1/rules/" + quote(dataSource), null);
    return rules.isArray() ? rules : JSON.createArrayNode();
  }

  public void setLoadRules(String dataSource, JsonNode rules) {
    request("POST", "/druid/coordinator/v1/rules/" + quote(dataSource), rules);
  }

  /** Submits a task; its id. */
  public String submitTask(JsonNode task) {
    return request("POST", "/druid/indexer/v1/task", task).path("task").asText();
  }

  /** A task's status code: RUNNING, SUCCESS or FAILED; with the error message when it failed. */
  public JsonNode taskStatus(String id) {
    return request("GET", "/druid/indexer/v1/task/" + quote(id) + "/status", null).path("status");
  }

  /** The tasks of a datasource not finished yet (pending and waiting ones say RUNNING too). */
  public List<JsonNode> unfinishedTasks(String dataSource) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode t :
        request("GET", "/druid/indexer/v1/tasks?datasource=" + quote(dataSource), null)) {
      String code = t.path("statusCode").asText(t.path("status").asText());
      if (t.path("dataSource").asText().equals(dataSource) && code.equals("RUNNING")) {
        out.add(t);
      }
    }
    return out;
  }

  /** Marks every segment of the datasource unused. */
  public void markUnused(String dataSource) {
    request("DELETE", "/druid/coordinator/v1/datasources/" + quote(dataSource), null);
  }

  /** The used segments of a datasource, empty when it has none. */
  public JsonNode usedSegments(String dataSource) {
    JsonNode segments =
        orEmptyOn404(
            "GET", "/druid/coordinator/v1/metadata/datasources/" + quote(dataSource) + "/segments");
    return segments.isArray() ? segments : JSON.createArrayNode();
  }

  // --- readiness ---------------------------------------------------------------------------------

  /** One check of {@link #readiness}: what was asked, and why it failed (null when it passed). */
  public record Check(String what, String failure) {
    public boolean ok() {
      return failure == null;
    }
  }

  /**
   * What a client needs of the cluster: the router healthy, the coordinator and the overlord
   * leading (supervisors, rules, tasks), the broker answering SQL.
   */
  public List<Check> readiness() {
    List<Check> checks = new ArrayList<>();
    checks.add(check("router " + url + "/status/health", () -> expectTrue("/status/health")));
    checks.add(
        check(
            "coordinator leads (/druid/coordinator/v1/isLeader)",
            () -> expectLeader("/druid/coordinator/v1/isLeader")));
    checks.add(
        check(
            "overlord leads (/druid/indexer/v1/isLeader)",
            () -> expectLeader("/druid/indexer/v1/isLeader")));
    checks.add(
        check(
            "broker answers SQL (SELECT 1)",
            () -> {
              SqlResult r = sql("SELECT 1 AS \"one\"");
              if (r.rows().size() != 1) {
                throw new DruidException("answered " + r.rows());
              }
            }));
    return checks;
  }

  /** Whether every check of {@link #readiness} passes. */
  public boolean ready() {
    return readiness().stream().allMatch(Check::ok);
  }

  private Check check(String what, Runnable probe) {
    try {
      probe.run();
      return new Check(what, null);
    } catch (DruidException e) {
      return new Check(what, e.getMessage());
    }
  }

  private void expectTrue(String path) {
    JsonNode answer = request("GET", path, null);
    if (!answer.asBoolean(false) && !answer.asText().equals("true")) {
      throw new DruidException("answered " + answer);
    }
  }

  private void expectLeader(String path) {
    JsonNode answer = request("GET", path, null);
    if (!answer.path("leader").asBoolean(false)) {
      throw new DruidException("answered " + answer);
    }
  }

  // --- HTTP --------------------------------------------------------------------------------------

  private JsonNode orEmptyOn404(String method, String path) {
    try {
      return request(method, path, null);
    } catch (DruidException e) {
      if (e.status() == 404) {
        return MissingNode.getInstance();
      }
      throw e;
    }
  }

  /**
   * One call; Druid's answer as JSON ({@link MissingNode} when empty, a text node when not JSON).
   *
   * @throws DruidException naming the URL when Druid does not answer, with Druid's message when it
   *     refuses the request
   */
  public JsonNode request(String method, String path, JsonNode body) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(url + path))
            .timeout(timeout)
            .header("Accept", "application/json");
    if (body != null) {
      builder
          .header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    } else {
      builder.method(method, HttpRequest.BodyPublishers.noBody());
    }
    String where = method + " " + path.replaceFirst("\\?.*", "");
    HttpResponse<String> response;
    try {
      response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw new DruidException(
          "cannot reach Druid at "
              + url
              + " ("
              + (e instanceof ConnectException ? "connection refused" : "no connection within 5 s")
              + "): is it running? ./flowsight druid start (or deploy/local/stack start druid)",
          0,
          e);
    } catch (HttpTimeoutException e) {
      throw new DruidException(
          where + ": no answer from " + url + " within " + timeout.toSeconds() + " s", 0, e);
    } catch (IOException e) {
      throw new DruidException(
          where + " at " + url + ": " + e.getClass().getSimpleName() + ": " + e.getMessage(), 0, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DruidException(where + ": interrupted", 0, e);
    }
    String text = response.body() == null ? "" : response.body();
    if (response.statusCode() / 100 != 2) {
      throw new DruidException(
          where + ": HTTP " + response.statusCode() + ": " + errorMessage(text),
          response.statusCode(),
          null);
    }
    if (text.isBlank()) {
      return MissingNode.getInstance();
    }
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      return JSON.getNodeFactory().textNode(text);
    }
  }

  /**
   * Druid's message in an error answer: its JSON {@code errorMessage} (else {@code error} or {@code
   * message}); a proxy's plain text or HTML with the tags taken out.
   */
  static String errorMessage(String body) {
    JsonNode doc;
    try {
      doc = JSON.readTree(body);
    } catch (IOException e) {
      doc = null;
    }
    if (doc == null || !doc.isContainerNode()) {
      String text = body.replaceAll("<[^>]+>", " ").replaceAll("\\s+", " ").strip();
      text = text.length() > 500 ? text.substring(0, 500) : text;
      return text.isEmpty() ? "(no message)" : text;
    }
    for (String key : List.of("errorMessage", "error", "message")) {
      JsonNode value = doc.path(key);
      if (!value.isMissingNode() && !value.isNull() && !value.asText().isEmpty()) {
        return value.isTextual() ? value.asText() : value.toString();
      }
    }
    return body.length() > 500 ? body.substring(0, 500) : body;
  }

  static String quote(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
