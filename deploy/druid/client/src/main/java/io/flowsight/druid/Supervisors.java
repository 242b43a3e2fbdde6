package io.flowsight.druid;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The supervisor that ingests a Kafka topic into a datasource ({@code
 * deploy/druid/flows-supervisor.json}), its load rules, its state, and its removal.
 */
public final class Supervisors {

  /** Every segment of the datasource stays loaded on the historical, one copy (Druid's is two). */
  static final ArrayNode LOAD_RULES = DruidClient.JSON.createArrayNode();

  static {
    LOAD_RULES
        .addObject()
        .put("type", "loadForever")
        .putObject("tieredReplicants")
        .put("_default_tier", 1);
  }

  /** States of a new supervisor before it has looked at its topic. */
  private static final Set<String> STARTING =
      Set.of("PENDING", "CONNECTING_TO_STREAM", "DISCOVERING_INITIAL_TASKS", "CREATING_TASKS");

  private final DruidClient druid;
  private final PrintStream out;

  public Supervisors(DruidClient druid, PrintStream out) {
    this.druid = druid;
    this.out = out;
  }

  /**
   * The spec file with, when given, another datasource (which is also the supervisor's id), topic
   * and bootstrap servers; the bootstrap servers default to {@code 127.0.0.1:$FLOWSIGHT_KAFKA_PORT}
   * when that variable is set, else the spec's.
   */
  public static ObjectNode loadSpec(
      Path spec,
      String dataSource,
      String topic,
      String bootstrapServers,
      Map<String, String> env) {
    ObjectNode root;
    try {
      root = (ObjectNode) DruidClient.JSON.readTree(Files.readString(spec));
    } catch (IOException | ClassCastException e) {
      throw new DruidException("cannot read the supervisor spec " + spec + ": " + e.getMessage());
    }
    ObjectNode inner = (ObjectNode) root.path("spec");
    if (dataSource != null) {
      ((ObjectNode) inner.path("dataSchema")).put("dataSource", dataSource);
    }
    ObjectNode io = (ObjectNode) inner.path("ioConfig");
    if (topic != null) {
      io.put("topic", topic);
    }
    String bootstrap = bootstrapServers;
    if ((bootstrap == null || bootstrap.isEmpty()) && env.get("FLOWSIGHT_KAFKA_PORT") != null) {
      bootstrap = "127.0.0.1:" + env.get("FLOWSIGHT_KAFKA_PORT");
    }
    if (bootstrap != null && !bootstrap.isEmpty()) {
      ((ObjectNode) io.path("consumerProperties")).put("bootstrap.servers", bootstrap);
    }
    return root;
  }

  /**
   * Submits the spec (an unchanged one leaves the supervisor and its tasks alone), sets the
   * datasource's load rules when they differ, waits up to {@code waitSeconds} for a new supervisor
   * to look at its topic, and prints what it did and the supervisor's state.
   */
  public void apply(ObjectNode spec, int waitSeconds) {
    String ds = spec.path("spec").path("dataSchema").path("dataSource").asText();
    JsonNode io = spec.path("spec").path("ioConfig");
    boolean running = !druid.supervisorStatus(ds).isEmpty();
    int before = druid.supervisorHistorySize(ds);
    druid.submitSupervisor(spec);
    int after = druid.supervisorHistorySize(ds);
    String what;
    if (!running) {
      what = "created";
    } else if (after > before) {
      what = "updated (tasks hand off and restart with the new spec)";
    } else {
      what = "unchanged";
    }
    out.printf(
        "supervisor %s: %s (topic %s on %s)%n",
        ds,
        what,
        io.path("topic").asText(),
        io.path("consumerProperties").path("bootstrap.servers").asText());
    if (!sameRules(druid.loadRules(ds))) {
      druid.setLoadRules(ds, LOAD_RULES);
      out.printf("load rules of %s: loadForever, 1 replica%n", ds);
    }
    long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
    ObjectNode status;
    while (true) {
      status = druid.supervisorStatus(ds);
      String state = status.path("detailedState").asText(null);
      if ((state != null && !STARTING.contains(state)) || System.nanoTime() >= deadline) {
        break;
      }
      sleep(1000);
    }
    out.println();
    printSupervisor(ds, status);
  }

  /** The rules as the client sets them (type and replicas compared, as Druid adds nothing else). */
  static boolean sameRules(JsonNode rules) {
    if (rules.size() != LOAD_RULES.size()) {
      return false;
    }
    for (int i = 0; i < rules.size(); i++) {
      JsonNode want = LOAD_RULES.get(i);
      JsonNode have = rules.get(i);
      if (!want.path("type").equals(have.path("type"))
          || !want.path("tieredReplicants").equals(have.path("tieredReplicants"))) {
        return false;
      }
    }
    return true;
  }

  void printSupervisor(String id, JsonNode p) {
    if (p.isEmpty()) {
      out.printf("supervisor %s: none (./flowsight druid apply)%n", id);
      return;
    }
    String state = p.path("detailedState").asText(p.path("state").asText());
    out.printf(
        "supervisor %s: %s%s%n",
        id, state, p.path("healthy").asBoolean(true) ? "" : " (unhealthy)");
    out.printf(
        "  topic %s, %s partitions, task duration %ss%n",
        p.path("stream").asText(p.path("topic").asText("?")),
        text(p.path("partitions")),
        text(p.path("durationSeconds")));
    JsonNode lag = p.path("aggregateLag");
    out.printf("  lag: %s records%n", lag.isMissingNode() || lag.isNull() ? "unknown" : lag);
    for (String kind : List.of("activeTasks", "publishingTasks")) {
      for (JsonNode t : p.path(kind)) {
        JsonNode remaining = t.path("remainingSeconds");
        out.printf(
            "  %s task %s, started %s, %s%n",
            kind.equals("activeTasks") ? "reading" : "publishing",
            t.path("id").asText(),
            t.path("startTime").asText(),
            remaining.isMissingNode() || remaining.isNull() ? "" : "remaining " + remaining + "s");
      }
    }
    JsonNode errors = p.path("recentErrors");
    for (int i = Math.max(0, errors.size() - 3); i < errors.size(); i++) {
      JsonNode err = errors.get(i);
      String line =
          err.path("exceptionClass").asText("") + ": " + err.path("message").asText("None");
      out.println("  recent error: " + (line.length() > 300 ? line.substring(0, 300) : line));
    }
  }

  private static String text(JsonNode n) {
    return n.isMissingNode() || n.isNull() ? "?" : n.asText();
  }

  /** {@code ./flowsight druid status}: the supervisor, the others, the datasource's rows. */
  public void status(String ds, boolean brief) {
    ObjectNode p = druid.supervisorStatus(ds);
    if (brief) {
      if (p.isEmpty()) {
        out.printf("supervisor %s: none (./flowsight druid apply)%n", ds);
        return;
      }
      JsonNode lag = p.path("aggregateLag");
      out.printf(
          "supervisor %s: %s, lag %s, %d reading and %d publishing task(s)%n",
          ds,
          p.path("detailedState").asText(p.path("state").asText()),
          lag.isMissingNode() || lag.isNull() ? "unknown" : lag.asText(),
          p.path("activeTasks").size(),
          p.path("publishingTasks").size());
      return;
    }
    printSupervisor(ds, p);
    List<String> others = druid.supervisors().stream().filter(s -> !s.equals(ds)).toList();
    if (!others.isEmpty()) {
      out.println("  other supervisors: " + String.join(", ", others));
    }
    out.println();
    SqlResult rows;
    try {
      rows =
          druid.sql(
              "SELECT COUNT(*) AS \"druid_rows\", SUM(\"rows\") AS \"input_rows\","
                  + " SUM(\"flowRecords\") AS \"flow_records\", MIN(\"__time\") AS \"first_minute\","
                  + " MAX(\"__time\") AS \"last_minute\" FROM \""
                  + ds.replace("\"", "\"\"")
                  + "\"");
    } catch (DruidException e) {
      if (e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("not found")) {
        out.printf("datasource %s: no rows yet%n", ds);
        return;
      }
      throw e;
    }
    out.printf("datasource %s (druid_rows: after rollup; input_rows: JSON rows ingested)%n", ds);
    OutputFormat.TABLE.print(rows, out);
    SqlResult segments =
        druid.sql(
            "SELECT COUNT(*) AS \"segments\", SUM(\"num_rows\") AS \"rows_in_segments\","
                + " SUM(\"size\") AS \"bytes\" FROM sys.segments WHERE \"datasource\" = ?"
                + " AND \"is_published\" = 1 AND \"is_overshadowed\" = 0",
            SqlParameter.varchar(ds));
    List<JsonNode> row = segments.rows().isEmpty() ? null : segments.rows().get(0);
    out.printf(
        "published: %s segment(s), %s Druid rows, %s bytes; newer rows are served by the indexing"
            + " tasks until their hand-off%n",
        orZero(row, 0), orZero(row, 1), orZero(row, 2));
  }

  private static String orZero(List<JsonNode> row, int i) {
    return row == null || row.get(i).isNull() ? "0" : row.get(i).asText();
  }

  /**
   * Terminates the supervisor of {@code ds}; with {@code dropData} its tasks publish and stop, its
   * committed offsets are reset and every segment of the datasource is deleted.
   */
  public void remove(String ds, boolean dropData, int timeoutSeconds) {
    BooleanSupplier noTasks =
        () -> {
          ObjectNode p = druid.supervisorStatus(ds);
          return p.path("activeTasks").isEmpty()
              && p.path("publishingTasks").isEmpty()
              && druid.unfinishedTasks(ds).isEmpty();
        };
    if (!druid.supervisorStatus(ds).isEmpty()) {
      if (dropData) {
        // Suspended, its tasks publish what they read and stop; the reset then forgets the
        // offsets they committed, so a new supervisor for this datasource starts from the topic's
        // beginning.
        druid.supervisorAction(ds, "suspend");
        sleep(2000);
        waitFor("tasks of " + ds, noTasks, timeoutSeconds);
        druid.supervisorAction(ds, "reset");
      }
      druid.supervisorAction(ds, "terminate");
      out.printf("supervisor %s: terminated%n", ds);
    } else {
      out.printf("supervisor %s: none%n", ds);
    }
    if (!dropData) {
      return;
    }
    waitFor("tasks of " + ds, noTasks, timeoutSeconds);
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    String task;
    while (true) {
      druid.markUnused(ds);
      task = killAllSegments(ds, timeoutSeconds);
      if (druid.usedSegments(ds).isEmpty()) {
        break;
      }
      if (System.nanoTime() >= deadline) {
        throw new DruidException(
            "datasource " + ds + ": segments still in use after " + timeoutSeconds + "s");
      }
    }
    out.printf("datasource %s: segments deleted (kill task %s)%n", ds, task);
  }

  /** Deletes every unused segment of the datasource, from the metadata and deep storage. */
  private String killAllSegments(String ds, int timeoutSeconds) {
    ObjectNode kill = DruidClient.JSON.createObjectNode();
    kill.put("type", "kill").put("dataSource", ds).put("interval", "1000-01-01/3000-01-01");
    String task = druid.submitTask(kill);
    awaitTask(druid, "kill task", task, timeoutSeconds);
    return task;
  }

  /**
   * Waits for task {@code id} ({@code what}, e.g. "ingestion task") to succeed.
   *
   * @throws DruidException with Druid's error and where the task's log is, if it fails; or when it
   *     is still running after {@code timeoutSeconds}
   */
  public static void awaitTask(DruidClient druid, String what, String id, int timeoutSeconds) {
    waitFor(
        what + " " + id,
        () -> {
          JsonNode status = druid.taskStatus(id);
          String code = status.path("statusCode").asText(status.path("status").asText());
          if (code.equals("FAILED")) {
            throw new DruidException(
                what
                    + " "
                    + id
                    + " failed: "
                    + status.path("errorMsg").asText(status.toString())
                    + " (its log: "
                    + druid.url()
                    + "/druid/indexer/v1/task/"
                    + id
                    + "/log)");
          }
          return code.equals("SUCCESS");
        },
        timeoutSeconds);
  }

  public static void waitFor(String what, BooleanSupplier done, int timeoutSeconds) {
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() >= deadline) {
        throw new DruidException(what + ": still not done after " + timeoutSeconds + "s");
      }
      sleep(1000);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DruidException("interrupted");
    }
  }
}
