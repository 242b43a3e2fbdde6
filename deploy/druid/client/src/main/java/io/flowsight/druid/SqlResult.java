package io.flowsight.druid;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The answer to one Druid SQL query: the columns in order, with Druid's native type ({@code LONG},
 * {@code STRING}...) and SQL type ({@code BIGINT}, {@code VARCHAR}, {@code TIMESTAMP}...) of each,
 * and the rows, one value per column (JSON as Druid sent it: timestamps are ISO 8601 text in UTC).
 */
public record SqlResult(
    List<String> columns, List<String> types, List<String> sqlTypes, List<List<JsonNode>> rows) {

  public SqlResult {
    columns = List.copyOf(columns);
    types = List.copyOf(types);
    sqlTypes = List.copyOf(sqlTypes);
    rows = rows.stream().map(r -> (List<JsonNode>) new ArrayList<>(r)).toList();
  }

  /** The rows as JSON objects, column name to value, in the columns' order. */
  public List<ObjectNode> objects() {
    List<ObjectNode> out = new ArrayList<>(rows.size());
    for (List<JsonNode> row : rows) {
      ObjectNode object = JsonNodeFactory.instance.objectNode();
      for (int i = 0; i < columns.size(); i++) {
        object.set(columns.get(i), row.get(i));
      }
      out.add(object);
    }
    return out;
  }

  /** The value of {@code column} in row {@code row}. */
  public JsonNode value(int row, String column) {
    int index = columns.indexOf(column);
    if (index < 0) {
      throw new IllegalArgumentException("no column " + column + " in " + columns);
    }
    return rows.get(row).get(index);
  }

  /** The same columns with other rows. */
  public SqlResult withRows(List<List<JsonNode>> newRows) {
    return new SqlResult(columns, types, sqlTypes, newRows);
  }
}
