package io.flowsight.druid.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.druid.DruidClient;
import io.flowsight.druid.DruidException;
import io.flowsight.druid.DruidFiles;
import io.flowsight.druid.Supervisors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * A datasource of a test's own in the real test Druid, with the flows supervisor's columns, metrics
 * and rollup, loaded from the collector's JSON rows by native batch ingestion (an inline input
 * instead of Kafka): the rows are known, so every sum a query returns is too. Shared by the
 * client's and the console's integration tests (this module's test-jar).
 */
public final class InlineDatasource {

  private static final ObjectMapper JSON = new ObjectMapper();

  private InlineDatasource() {}

  /**
   * Ingests {@code rows} (JSON lines, the collector's output format) into {@code dataSource} and
   * waits until Druid SQL counts {@code expectedRows} rows after rollup in it.
   */
  public static void load(DruidClient druid, String dataSource, String rows, long expectedRows) {
    load(druid, DruidFiles.supervisorSpec(), dataSource, rows, expectedRows);
  }

  /**
   * As {@link #load(DruidClient, String, String, long)}, with the dataSchema of another supervisor
   * spec (e.g. {@code deploy/druid/forecast-supervisor.json}: its rows as the forecasting job
   * writes them).
   */
  public static void load(
      DruidClient druid, Path supervisorSpec, String dataSource, String rows, long expectedRows) {
    JsonNode dataSchema =
        Supervisors.loadSpec(supervisorSpec, dataSource, null, null, Map.of())
            .path("spec")
            .path("dataSchema");
    ObjectNode task = JSON.createObjectNode().put("type", "index_parallel");
    ObjectNode spec = task.putObject("spec");
    spec.set("dataSchema", dataSchema);
    ObjectNode io = spec.putObject("ioConfig").put("type", "index_parallel");
    io.putObject("inputSource").put("type", "inline").put("data", rows);
    io.putObject("inputFormat").put("type", "json");
    spec.putObject("tuningConfig").put("type", "index_parallel").put("maxNumConcurrentSubTasks", 1);
    String id = druid.submitTask(task);
    Supervisors.awaitTask(druid, "ingestion task", id, 180);
    // Queryable once the historical has loaded the segment and the broker knows it.
    Supervisors.waitFor(
        "the rows of " + dataSource + " in SQL",
        () -> {
          try {
            return druid
                    .sql("SELECT COUNT(*) AS \"n\" FROM \"" + dataSource + "\"")
                    .value(0, "n")
                    .asLong()
                == expectedRows;
          } catch (DruidException notYet) {
            return false;
          }
        },
        180);
  }

  /** Drops the datasource and its segments. */
  public static void drop(DruidClient druid, String dataSource) {
    new Supervisors(
            druid, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
        .remove(dataSource, true, 120);
  }
}
