package io.flowsight.druid;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The analysts' named queries: one Druid SQL file per query in a directory ({@code
 * deploy/druid/queries/NAME.sql}). A file starts with comment lines that describe it (the first one
 * is its summary) and names its parameters as {@code {{name}}}; {@link #bind} turns each into a
 * dynamic parameter ({@code ?}) with its value, typed: {@code since_ms}, {@code until_ms} and
 * {@code limit} are BIGINT (epoch ms, a row count), the others VARCHAR. Values are never pasted
 * into the SQL text.
 */
public final class NamedQueries {

  /** The datasource the files name; {@link #bind} puts another one in its place. */
  public static final String DEFAULT_DATASOURCE = "flows";

  static final Set<String> INTEGER_PARAMETERS = Set.of("since_ms", "until_ms", "limit");
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*(\\w+)\\s*}}");
  private static final Pattern NAME = Pattern.compile("^[\\w-]+$");

  /** A query ready to run: SQL with {@code ?} and the values, in order. */
  public record Bound(String sql, List<SqlParameter> parameters) {}

  private final Path directory;

  public NamedQueries(Path directory) {
    this.directory = directory;
  }

  public Path directory() {
    return directory;
  }

  /** Every query name, sorted, to its summary (the first comment line). */
  public Map<String, String> list() {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String file = f.getFileName().toString();
        if (file.endsWith(".sql")) {
          String name = file.substring(0, file.length() - 4);
          List<String> description = describe(Files.readString(f));
          out.put(name, description.isEmpty() ? "" : description.get(0));
        }
      }
    } catch (IOException e) {
      throw new DruidException("cannot read the named queries in " + directory + ": " + e);
    }
    return out;
  }

  /** {@code ./flowsight query --list}: one line per query, its name and summary. */
  public String listing() {
    StringBuilder out = new StringBuilder();
    list().forEach((name, summary) -> out.append(String.format("%-20s %s%n", name, summary)));
    return out.toString();
  }

  /**
   * The text of query {@code name}.
   *
   * @throws DruidException listing the known names when there is no such query
   */
  public String load(String name) {
    Path file = directory.resolve(name + ".sql");
    if (!NAME.matcher(name).matches() || !Files.isRegularFile(file)) {
      throw new DruidException(
          "no query named '"
              + name
              + "'; the named queries are: "
              + String.join(", ", list().keySet())
              + " (./flowsight query --list)");
    }
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first comment lines of a query, without the dashes. */
  public static List<String> describe(String text) {
    List<String> lines = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      if (!line.startsWith("--")) {
        break;
      }
      lines.add(line.substring(2).strip());
    }
    return lines;
  }

  /**
   * Replaces each {@code {{name}}} with {@code ?} and its value from {@code values}, in order;
   * comment lines are dropped first (a placeholder in a comment is no parameter). The datasource
   * {@code "flows"} becomes {@code dataSource}.
   *
   * @throws DruidException naming a placeholder without a value
   */
  public static Bound bind(String text, Map<String, ?> values, String dataSource) {
    List<SqlParameter> parameters = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      if (!line.stripLeading().startsWith("--")) {
        lines.add(line);
      }
    }
    Matcher m = PLACEHOLDER.matcher(String.join("\n", lines));
    StringBuilder sql = new StringBuilder();
    while (m.find()) {
      String name = m.group(1);
      if (!values.containsKey(name)) {
        throw new DruidException("the query needs a value for {{" + name + "}}");
      }
      Object value = values.get(name);
      parameters.add(
          INTEGER_PARAMETERS.contains(name)
              ? SqlParameter.bigint(((Number) value).longValue())
              : SqlParameter.varchar(String.valueOf(value)));
      m.appendReplacement(sql, "?");
    }
    m.appendTail(sql);
    String out = sql.toString();
    if (!dataSource.equals(DEFAULT_DATASOURCE)) {
      out =
          out.replace(
              "\"" + DEFAULT_DATASOURCE + "\"", "\"" + dataSource.replace("\"", "\"\"") + "\"");
    }
    return new Bound(out, parameters);
  }
}
