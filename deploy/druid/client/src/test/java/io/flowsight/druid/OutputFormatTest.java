package io.flowsight.druid;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutputFormatTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Two rows as Druid answers them: text, a long, a double, a null, an array, a timestamp. */
  static SqlResult fixed() throws Exception {
    List<List<JsonNode>> rows = new ArrayList<>();
    for (String row :
        List.of(
            "[\"frontend\", 123456, 1.5, null, [443, 8443], \"2026-01-31T12:00:00.000Z\"]",
            "[\"<NEVER_SEEN>\", 7, 0.1235, \"x,\\\"y\\\"\", [], \"2026-01-31T12:01:00.000Z\"]")) {
      List<JsonNode> values = new ArrayList<>();
      JSON.readTree(row).forEach(values::add);
      rows.add(values);
    }
    return new SqlResult(
        List.of("client_app", "bytes", "mean_rtt_ms", "note", "ports", "time"),
        List.of("STRING", "LONG", "DOUBLE", "STRING", "ARRAY<LONG>", "LONG"),
        List.of("VARCHAR", "BIGINT", "DOUBLE", "VARCHAR", "BIGINT ARRAY", "TIMESTAMP"),
        rows);
  }

  @Test
  void shouldPrintAnAlignedTableWithNumbersRightAlignedAndTheRowCount() throws Exception {
    assertThat(OutputFormat.TABLE.render(fixed()))
        .isEqualTo(
            """
            client_app     bytes  mean_rtt_ms  note   ports       time
            ------------  ------  -----------  -----  ----------  ------------------------
            frontend      123456          1.5         [443,8443]  2026-01-31T12:00:00.000Z
            <NEVER_SEEN>       7        0.124  x,"y"  []          2026-01-31T12:01:00.000Z
            (2 rows)
            """);
  }

  @Test
  void shouldPrintCsvWithQuotesOnlyWhereNeeded() throws Exception {
    assertThat(OutputFormat.CSV.render(fixed()))
        .isEqualTo(
            """
            client_app,bytes,mean_rtt_ms,note,ports,time
            frontend,123456,1.5,,"[443,8443]",2026-01-31T12:00:00.000Z
            <NEVER_SEEN>,7,0.124,"x,""y\""",[],2026-01-31T12:01:00.000Z
            """);
  }

  @Test
  void shouldPrintAJsonArrayOfObjectsInTheColumnsOrder() throws Exception {
    assertThat(OutputFormat.JSON.render(fixed()))
        .isEqualTo(
            """
            [
              {
                "client_app": "frontend",
                "bytes": 123456,
                "mean_rtt_ms": 1.5,
                "note": null,
                "ports": [
                  443,
                  8443
                ],
                "time": "2026-01-31T12:00:00.000Z"
              },
              {
                "client_app": "<NEVER_SEEN>",
                "bytes": 7,
                "mean_rtt_ms": 0.1235,
                "note": "x,\\"y\\"",
                "ports": [],
                "time": "2026-01-31T12:01:00.000Z"
              }
            ]
            """);
  }

  @Test
  void shouldSayWhenThereAreNoRows() throws Exception {
    SqlResult empty = fixed().withRows(List.of());
    assertThat(OutputFormat.TABLE.render(empty))
        .isEqualTo(
            """
            client_app  bytes  mean_rtt_ms  note  ports  time
            ----------  -----  -----------  ----  -----  ----
            (0 rows)
            """);
    assertThat(OutputFormat.JSON.render(empty)).isEqualTo("[]\n");
    assertThat(OutputFormat.CSV.render(empty))
        .isEqualTo("client_app,bytes,mean_rtt_ms,note,ports,time\n");
  }

  @Test
  void shouldWriteWholeDoublesWithAPointInJsonAndWithoutInTables() throws Exception {
    SqlResult one =
        new SqlResult(
            List.of("x"),
            List.of("DOUBLE"),
            List.of("DOUBLE"),
            List.of(List.of(JSON.readTree("100000000.0"))));
    assertThat(OutputFormat.JSON.render(one)).isEqualTo("[\n  {\n    \"x\": 100000000.0\n  }\n]\n");
    assertThat(OutputFormat.CSV.render(one)).isEqualTo("x\n100000000\n");
  }
}
