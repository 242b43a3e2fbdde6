package io.flowsight.enrichment.identityfile;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.flowsight.enrichment.Cidr;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.Identity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A static identity file: IPs and CIDR blocks that no sidecar or cluster reports (VMs, load
 * balancers, data centers, cloud ranges), each with its identity.
 *
 * <h2>Format (YAML)</h2>
 *
 * <pre>
 * defaults:                # optional: fields every entry gets unless it sets them (not app)
 *   cluster: local
 *   zone: local-a
 * identities:
 *   - ip: 127.0.0.2        # one address (IPv4, or IPv6 in quotes: "2001:db8::1")
 *     app: frontend        # required
 *     instanceId: demo-1   # optional: cluster, namespace, workloadKind, workloadName,
 *                          #   instanceId, node, zone, region, account
 *     labels:              # optional: free-form string labels (merged over defaults' labels)
 *       team: web
 *   - cidr: 127.0.0.0/8    # a block: answered only where no per-IP owner is known
 *     app: localhost
 * </pre>
 *
 * Every entry has exactly one of {@code ip} and {@code cidr}, and an {@code app}. A block's host
 * bits must be zero. Each IP or block may appear once. Any other field is an error. Errors name the
 * file and line.
 */
public final class StaticIdentities {

  /** One entry: its target (canonical IP or block text), identity and line in the file. */
  public record Entry(String target, Identity identity, int line) {}

  private static final List<String> IDENTITY_FIELDS =
      List.of(
          "app",
          "cluster",
          "namespace",
          "workloadKind",
          "workloadName",
          "instanceId",
          "node",
          "zone",
          "region",
          "account",
          "labels");

  private static final YAMLFactory YAML = new YAMLFactory();

  private final List<Entry> entries;

  private StaticIdentities(List<Entry> entries) {
    this.entries = Collections.unmodifiableList(entries);
  }

  public List<Entry> entries() {
    return entries;
  }

  /** Target (canonical IP or block) to identity, in file order. */
  public Map<String, Identity> byTarget() {
    Map<String, Identity> out = new LinkedHashMap<>();
    for (Entry e : entries) {
      out.put(e.target(), e.identity());
    }
    return out;
  }

  /** The most specific identity for an address: its own entry, else the longest block. */
  public Optional<Identity> match(byte[] address) {
    String text = IpAddresses.toText(address);
    Entry best = null;
    int bestLength = -1;
    for (Entry e : entries) {
      if (e.target().equals(text)) {
        return Optional.of(e.identity());
      }
      if (e.target().indexOf('/') >= 0) {
        Cidr block = Cidr.parse(e.target());
        if (block.contains(address) && block.prefixLength() > bestLength) {
          best = e;
          bestLength = block.prefixLength();
        }
      }
    }
    return Optional.ofNullable(best).map(Entry::identity);
  }

  public static StaticIdentities read(Path file) {
    String name = file.toString();
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), name);
    } catch (IOException e) {
      throw new StaticFileException(name, 0, "cannot read the file: " + e, e);
    }
  }

  /**
   * Parses the text of a static identity file.
   *
   * @param name the file's name, for error messages
   * @throws StaticFileException naming the line of the first problem
   */
  public static StaticIdentities parse(String text, String name) {
    try (JsonParser p = YAML.createParser(text)) {
      return new Reader(p, name).document();
    } catch (JsonProcessingException e) {
      JsonLocation where = e.getLocation();
      throw new StaticFileException(
          name,
          where == null ? 0 : where.getLineNr(),
          "not valid YAML: " + e.getOriginalMessage(),
          e);
    } catch (IOException e) {
      throw new StaticFileException(name, 0, "cannot parse: " + e, e);
    }
  }

  /** A recursive-descent reader over the YAML tokens that knows the line of every value. */
  private static final class Reader {
    private final JsonParser p;
    private final String name;
    private final Map<String, Field> defaults = new LinkedHashMap<>();
    private final Map<String, String> defaultLabels = new TreeMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, Integer> lineOf = new LinkedHashMap<>();

    Reader(JsonParser p, String name) {
      this.p = p;
      this.name = name;
    }

    private record Field(String value, int line) {}

    StaticIdentities document() throws IOException {
      JsonToken t = p.nextToken();
      if (t == null) {
        return new StaticIdentities(List.of()); // an empty file: no identities
      }
      if (t != JsonToken.START_OBJECT) {
        throw error(line(), "the file must be a mapping with an 'identities:' list");
      }
      boolean sawIdentities = false;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        int keyLine = line();
        p.nextToken();
        switch (key) {
          case "defaults" -> readDefaults();
          case "identities" -> {
            readIdentities();
            sawIdentities = true;
          }
          default ->
              throw error(
                  keyLine, "unknown field '" + key + "' (the file has: defaults, identities)");
        }
      }
      if (!sawIdentities) {
        throw error(line(), "no 'identities:' list");
      }
      return new StaticIdentities(entries);
    }

    private void readDefaults() throws IOException {
      if (p.currentToken() == JsonToken.VALUE_NULL) {
        return;
      }
      expectObject("defaults");
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        int keyLine = line();
        p.nextToken();
        if (key.equals("labels")) {
          defaultLabels.putAll(readLabels());
        } else if (key.equals("app") || key.equals("ip") || key.equals("cidr")) {
          throw error(keyLine, "'" + key + "' cannot be a default: give it in every entry");
        } else if (IDENTITY_FIELDS.contains(key)) {
          scalar(key).ifPresent(v -> defaults.put(key, new Field(v, keyLine)));
        } else {
          throw error(keyLine, unknownField(key));
        }
      }
    }

    private void readIdentities() throws IOException {
      if (p.currentToken() == JsonToken.VALUE_NULL) {
        return;
      }
      if (p.currentToken() != JsonToken.START_ARRAY) {
        throw error(line(), "'identities' must be a list of entries (- ip: ... app: ...)");
      }
      while (p.nextToken() != JsonToken.END_ARRAY) {
        if (p.currentToken() != JsonToken.START_OBJECT) {
          throw error(line(), "an entry must be a mapping (ip: ..., app: ...)");
        }
        readEntry();
      }
    }

    private void readEntry() throws IOException {
      int entryLine = line();
      Map<String, Field> fields = new LinkedHashMap<>();
      Map<String, String> labels = new TreeMap<>(defaultLabels);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        int keyLine = line();
        p.nextToken();
        if (fields.containsKey(key)
            || (key.equals("labels") && labels != defaultLabels && fields.containsKey("labels"))) {
          throw error(keyLine, "field '" + key + "' is given twice");
        }
        if (key.equals("labels")) {
          labels.putAll(readLabels());
          fields.put("labels", new Field("", keyLine));
        } else if (key.equals("ip") || key.equals("cidr") || IDENTITY_FIELDS.contains(key)) {
          int valueLine = line();
          Optional<String> value = scalar(key);
          if (value.isPresent()) {
            fields.put(key, new Field(value.get(), valueLine));
          }
        } else {
          throw error(keyLine, unknownField(key));
        }
      }
      Field ip = fields.get("ip");
      Field cidr = fields.get("cidr");
      if (ip == null && cidr == null) {
        throw error(entryLine, "an entry needs 'ip' or 'cidr'");
      }
      if (ip != null && cidr != null) {
        throw error(entryLine, "an entry has either 'ip' or 'cidr', not both");
      }
      String target;
      if (ip != null) {
        Optional<byte[]> address = IpAddresses.tryParse(ip.value());
        if (address.isEmpty()) {
          throw error(
              ip.line(),
              "ip '"
                  + ip.value()
                  + "' is not an IPv4 or IPv6 address"
                  + (ip.value().contains("/") ? " (use 'cidr:' for a block)" : ""));
        }
        target = IpAddresses.toText(address.get());
      } else {
        try {
          target = Cidr.parse(cidr.value()).toString();
        } catch (IllegalArgumentException e) {
          throw error(cidr.line(), "cidr " + e.getMessage());
        }
      }
      Field app = fields.get("app");
      if (app == null || app.value().isBlank()) {
        throw error(entryLine, "the entry for " + target + " has no 'app'");
      }
      Integer earlier = lineOf.putIfAbsent(target, entryLine);
      if (earlier != null) {
        throw error(entryLine, target + " is already listed on line " + earlier);
      }
      entries.add(new Entry(target, identity(fields, labels), entryLine));
    }

    private Identity identity(Map<String, Field> fields, Map<String, String> labels) {
      return Identity.newBuilder()
          .setApp(fields.get("app").value())
          .setCluster(field(fields, "cluster"))
          .setNamespace(field(fields, "namespace"))
          .setWorkloadKind(field(fields, "workloadKind"))
          .setWorkloadName(field(fields, "workloadName"))
          .setInstanceId(field(fields, "instanceId"))
          .setNode(field(fields, "node"))
          .setZone(field(fields, "zone"))
          .setRegion(field(fields, "region"))
          .setAccount(field(fields, "account"))
          .setLabels(new TreeMap<>(labels))
          .build();
    }

    private String field(Map<String, Field> fields, String key) {
      Field f = fields.getOrDefault(key, defaults.get(key));
      return f == null ? null : f.value();
    }

    private Map<String, String> readLabels() throws IOException {
      Map<String, String> labels = new TreeMap<>();
      if (p.currentToken() == JsonToken.VALUE_NULL) {
        return labels;
      }
      expectObject("labels");
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        p.nextToken();
        scalar("label '" + key + "'").ifPresent(v -> labels.put(key, v));
      }
      return labels;
    }

    /** The current value as text; empty for null; an error for a list or mapping. */
    private Optional<String> scalar(String what) throws IOException {
      JsonToken t = p.currentToken();
      if (t == JsonToken.VALUE_NULL) {
        return Optional.empty();
      }
      if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
        throw error(
            line(),
            what
                + " must be a single value, not a "
                + (t == JsonToken.START_OBJECT ? "mapping" : "list"));
      }
      return Optional.of(p.getText().trim());
    }

    private void expectObject(String what) throws IOException {
      if (p.currentToken() != JsonToken.START_OBJECT) {
        throw error(line(), "'" + what + "' must be a mapping (key: value lines)");
      }
    }

    private int line() {
      return p.currentTokenLocation().getLineNr();
    }

    private String unknownField(String key) {
      return "unknown field '"
          + key
          + "' (an entry has: ip or cidr, "
          + String.join(", ", IDENTITY_FIELDS)
          + ")";
    }

    private StaticFileException error(int line, String problem) {
      return new StaticFileException(name, line, problem);
    }
  }
}
