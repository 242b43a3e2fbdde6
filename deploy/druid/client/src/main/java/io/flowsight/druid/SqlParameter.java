package io.flowsight.druid;

/**
 * A value for one dynamic parameter ({@code ?}) of Druid SQL, with its SQL type, as Druid's SQL API
 * takes it: {@code {"type": "VARCHAR", "value": "frontend"}}.
 */
public record SqlParameter(String type, Object value) {

  public static SqlParameter varchar(String value) {
    return new SqlParameter("VARCHAR", value);
  }

  public static SqlParameter bigint(long value) {
    return new SqlParameter("BIGINT", value);
  }
}
