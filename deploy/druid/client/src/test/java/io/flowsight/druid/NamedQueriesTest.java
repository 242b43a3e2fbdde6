package io.flowsight.druid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamedQueriesTest {

  private final NamedQueries repository = new NamedQueries(DruidFiles.queries());

  @Test
  void shouldListEveryQueryOfTheRepositoryWithItsFirstCommentLine() {
    assertThat(repository.list().keySet())
        .containsExactly(
            "dependencies",
            "ephemeral-ports",
            "failed-connections",
            "graph",
            "hotspots",
            "timeseries",
            "timeseries-zones",
            "top-talkers",
            "zone-pairs");
    assertThat(repository.list().get("top-talkers"))
        .isEqualTo("Application pairs by bytes, both directions added, most first.");
  }

  @Test
  void shouldBindEachPlaceholderAsADynamicParameterInOrderTyped() {
    NamedQueries.Bound bound =
        NamedQueries.bind(
            repository.load("dependencies"),
            Map.of("app", "checkout", "since_ms", 1000L, "until_ms", 2000L, "limit", 5),
            "flows");

    assertThat(bound.sql())
        .doesNotContain("{{")
        .doesNotContain("checkout")
        .contains("FROM \"flows\"");
    assertThat(bound.sql().chars().filter(c -> c == '?').count()).isEqualTo(7);
    assertThat(bound.parameters())
        .containsExactly(
            SqlParameter.varchar("checkout"),
            SqlParameter.varchar("checkout"),
            SqlParameter.varchar("checkout"),
            SqlParameter.varchar("checkout"),
            SqlParameter.bigint(1000),
            SqlParameter.bigint(2000),
            SqlParameter.bigint(5));
  }

  @Test
  void shouldIgnorePlaceholdersInCommentsAndPutTheDatasourceInPlaceOfFlows() {
    String text =
        "-- Parameters: {{app}}, since_ms.\n"
            + "SELECT COUNT(*) FROM \"flows\"\n"
            + "  -- {{limit}} in a comment\n"
            + "WHERE \"clientApp\" = {{ app }} AND x = 'it''s'";

    NamedQueries.Bound bound = NamedQueries.bind(text, Map.of("app", "a'b"), "my \"ds\"");

    assertThat(bound.sql())
        .isEqualTo(
            "SELECT COUNT(*) FROM \"my \"\"ds\"\"\"\nWHERE \"clientApp\" = ? AND x = 'it''s'");
    assertThat(bound.parameters()).containsExactly(SqlParameter.varchar("a'b"));
  }

  @Test
  void shouldNameThePlaceholderWithoutAValue() {
    assertThatThrownBy(() -> NamedQueries.bind("SELECT {{app}}", Map.of(), "flows"))
        .isInstanceOf(DruidException.class)
        .hasMessage("the query needs a value for {{app}}");
  }

  @Test
  void shouldListTheKnownQueriesForAnUnknownName(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("b-query.sql"), "-- B.\nSELECT 1");
    Files.writeString(dir.resolve("a-query.sql"), "-- A.\nSELECT 1");
    Files.writeString(dir.resolve("notes.txt"), "not a query");
    NamedQueries queries = new NamedQueries(dir);

    assertThatThrownBy(() -> queries.load("top-talker"))
        .isInstanceOf(DruidException.class)
        .hasMessage(
            "no query named 'top-talker'; the named queries are: a-query, b-query"
                + " (./flowsight query --list)");
    assertThatThrownBy(() -> queries.load("../notes"))
        .hasMessageStartingWith("no query named '../notes'");
    assertThat(queries.listing())
        .isEqualTo(String.format("%-20s A.%n%-20s B.%n", "a-query", "b-query"));
  }

  @Test
  void shouldTellTheSummaryLinesOfAQuery() {
    assertThat(NamedQueries.describe("-- one\n--two \nSELECT 1\n-- not this"))
        .isEqualTo(List.of("one", "two"));
  }
}
