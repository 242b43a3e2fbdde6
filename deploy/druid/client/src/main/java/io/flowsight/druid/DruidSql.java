package io.flowsight.druid;

import java.util.List;

/**
 * Druid SQL with dynamic parameters: what the named queries need of Druid. {@link DruidClient} is
 * the real one; a program that only queries (the console) takes this, so that its answers can be
 * checked against fixed rows without a server.
 */
@FunctionalInterface
public interface DruidSql {

  /** Runs Druid SQL with its dynamic parameters ({@code ?}) bound in order; times in UTC. */
  SqlResult sql(String query, List<SqlParameter> parameters);
}
