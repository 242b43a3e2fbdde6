package io.flowsight.druid;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a {@link SqlResult} is printed: an aligned text table (numbers right-aligned, a row count at
 * the end), CSV (RFC 4180 quoting, one header line) or a JSON array of objects (two-space indent).
 */
public enum OutputFormat {
  TABLE,
  CSV,
  JSON;

  /** Strings with every character outside ASCII escaped, so the output is plain ASCII. */
  private static final ObjectMapper ASCII_JSON =
      JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

  public void print(SqlResult result, PrintStream out) {
    out.print(render(result));
    out.flush();
  }

  public String render(SqlResult result) {
    return switch (this) {
      case TABLE -> table(result);
      case CSV -> csv(result);
      case JSON -> json(result);
    };
  }

  /**
   * One value as text: empty for null, numbers without trailing zeros (floating point to three
   * decimals at most), arrays and objects as compact JSON.
   */
  static String cell(JsonNode value) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      return "";
    }
    if (value.isBoolean()) {
      return value.asBoolean() ? "true" : "false";
    }
    if (value.isFloatingPointNumber()) {
      double d = value.asDouble();
      if (Double.isNaN(d)) {
        return "";
      }
      String text = String.format(Locale.ROOT, "%.3f", d);
      return text.contains(".") ? text.replaceAll("0+$", "").replaceAll("\\.$", "") : text;
    }
    if (value.isContainerNode()) {
      return value.toString();
    }
    return value.asText();
  }

  private static boolean isNumber(JsonNode v) {
    return v != null && v.isNumber();
  }

  private static boolean isNull(JsonNode v) {
    return v == null || v.isNull() || v.isMissingNode();
  }

  static String table(SqlResult result) {
    List<String> columns = result.columns();
    if (columns.isEmpty()) {
      return "(no columns)\n";
    }
    int n = columns.size();
    List<List<String>> texts = new ArrayList<>();
    for (List<JsonNode> row : result.rows()) {
      List<String> line = new ArrayList<>(n);
      row.forEach(v -> line.add(cell(v)));
      texts.add(line);
    }
    // A column is right-aligned when every value it has is a number (and it has one).
    boolean[] numeric = new boolean[n];
    int[] widths = new int[n];
    for (int i = 0; i < n; i++) {
      boolean any = false;
      boolean all = true;
      for (List<JsonNode> row : result.rows()) {
        JsonNode v = row.get(i);
        if (!isNull(v)) {
          any = true;
          all &= isNumber(v);
        }
      }
      numeric[i] = any && all;
      widths[i] = columns.get(i).length();
      for (List<String> line : texts) {
        widths[i] = Math.max(widths[i], line.get(i).length());
      }
    }
    StringBuilder out = new StringBuilder();
    out.append(line(columns, widths, numeric)).append('\n');
    List<String> rules = new ArrayList<>();
    for (int w : widths) {
      rules.add("-".repeat(w));
    }
    out.append(String.join("  ", rules)).append('\n');
    for (List<String> line : texts) {
      out.append(line(line, widths, numeric)).append('\n');
    }
    int count = result.rows().size();
    out.append('(').append(count).append(count == 1 ? " row)" : " rows)").append('\n');
    return out.toString();
  }

  private static String line(List<String> values, int[] widths, boolean[] numeric) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        line.append("  ");
      }
      String v = values.get(i);
      String pad = " ".repeat(Math.max(0, widths[i] - v.length()));
      line.append(numeric[i] ? pad + v : v + pad);
    }
    return line.toString().stripTrailing();
  }

  static String csv(SqlResult result) {
    StringBuilder out = new StringBuilder();
    out.append(csvLine(result.columns()));
    for (List<JsonNode> row : result.rows()) {
      List<String> line = new ArrayList<>();
      row.forEach(v -> line.add(cell(v)));
      out.append(csvLine(line));
    }
    return out.toString();
  }

  private static String csvLine(List<String> fields) {
    if (fields.size() == 1 && fields.get(0).isEmpty()) {
      return "\"\"\n"; // a lone empty field would be an empty line
    }
    List<String> quoted = new ArrayList<>(fields.size());
    for (String f : fields) {
      boolean quote =
          f.indexOf(',') >= 0
              || f.indexOf('"') >= 0
              || f.indexOf('\n') >= 0
              || f.indexOf('\r') >= 0;
      quoted.add(quote ? '"' + f.replace("\"", "\"\"") + '"' : f);
    }
    return String.join(",", quoted) + "\n";
  }

  static String json(SqlResult result) {
    StringBuilder out = new StringBuilder();
    List<? extends JsonNode> objects = result.objects();
    if (objects.isEmpty()) {
      return "[]\n";
    }
    out.append("[\n");
    for (int i = 0; i < objects.size(); i++) {
      out.append("  ");
      writeJson(objects.get(i), 1, out);
      out.append(i + 1 < objects.size() ? ",\n" : "\n");
    }
    return out.append("]\n").toString();
  }

  /** JSON with two spaces per level, "key": value, empty containers as [] and {}. */
  private static void writeJson(JsonNode node, int depth, StringBuilder out) {
    String indent = "  ".repeat(depth + 1);
    String closing = "  ".repeat(depth);
    if (node.isObject()) {
      if (node.isEmpty()) {
        out.append("{}");
        return;
      }
      out.append("{\n");
      Iterator<Map.Entry<String, JsonNode>> fields = node.properties().iterator();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        out.append(indent).append(quote(field.getKey())).append(": ");
        writeJson(field.getValue(), depth + 1, out);
        out.append(fields.hasNext() ? ",\n" : "\n");
      }
      out.append(closing).append('}');
    } else if (node.isArray()) {
      if (node.isEmpty()) {
        out.append("[]");
        return;
      }
      out.append("[\n");
      for (int i = 0; i < node.size(); i++) {
        out.append(indent);
        writeJson(node.get(i), depth + 1, out);
        out.append(i + 1 < node.size() ? ",\n" : "\n");
      }
      out.append(closing).append(']');
    } else if (node.isFloatingPointNumber()) {
      out.append(floating(node.asDouble()));
    } else if (node.isTextual()) {
      out.append(quote(node.asText()));
    } else {
      out.append(node.toString());
    }
  }

  /** A double as its shortest decimal, always with a point: 1.0, 12.5, 100000000.0. */
  private static String floating(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return "null";
    }
    String plain = new BigDecimal(Double.toString(d)).toPlainString();
    return plain.contains(".") ? plain : plain + ".0";
  }

  private static String quote(String text) {
    try {
      return ASCII_JSON.writeValueAsString(text);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
