package io.flowsight.collector.output;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.AggregatedFlow;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Protocol;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * The output has one contract, {@code AggregatedFlow.avsc}; the JSON the collector writes and the
 * Druid supervisor spec ({@code deploy/druid/flows-supervisor.json}) are bound to it here by an
 * explicit mapping. A field added to, renamed in or dropped from any of the three fails this test
 * until the mapping says what Druid does with it.
 */
class OutputContractTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path SUPERVISOR = Path.of("..", "deploy", "druid", "flows-supervisor.json");

  /** Identity fields written for each end (as {@code client<Field>}, {@code server<Field>}). */
  private static final List<String> IDENTITY_WRITTEN =
      List.of(
          "app",
          "cluster",
          "namespace",
          "workloadKind",
          "workloadName",
          "zone",
          "region",
          "account");

  /**
   * Identity fields deliberately not in the output: a row sums many connections of one workload, so
   * the single instance, its host and free-form labels are not the row's (and would multiply
   * Druid's rows).
   */
  private static final Set<String> IDENTITY_LEFT_OUT = Set.of("instanceId", "node", "labels");

  private enum Role {
    TIMESTAMP,
    STRING_DIMENSION,
    AUTO_DIMENSION,
    LONG_SUM,
    LONG_MIN,
    LONG_MAX,
    NOT_INGESTED
  }

  /** What Druid does with each JSON field of a row. */
  private static final Map<String, Role> INGESTION = ingestion();

  private static Map<String, Role> ingestion() {
    Map<String, Role> m = new LinkedHashMap<>();
    m.put("windowStart", Role.TIMESTAMP);
    // Derivable: windowStart plus the collector's window; Druid's time column is the start.
    m.put("windowEnd", Role.NOT_INGESTED);
    for (String f : List.of("protocol", "addressFamily", "clientIp", "serverIp", "observedBy")) {
      m.put(f, Role.STRING_DIMENSION);
    }
    m.put("servicePort", Role.AUTO_DIMENSION);
    m.put("ephemeralPorts", Role.AUTO_DIMENSION);
    for (String end : List.of("client", "server")) {
      for (String f : IDENTITY_WRITTEN) {
        m.put(end + capitalize(f), Role.STRING_DIMENSION);
      }
      m.put(end + "Attribution", Role.STRING_DIMENSION);
    }
    for (String f :
        List.of(
            "flowRecords",
            "connections",
            "failedConnections",
            "bytesClientToServer",
            "bytesServerToClient",
            "segmentsClientToServer",
            "segmentsServerToClient",
            "retransmits",
            "rttSumMicros",
            "rttCount",
            "ephemeralPortsOverflow")) {
      m.put(f, Role.LONG_SUM);
    }
    m.put("rttMinMicros", Role.LONG_MIN);
    m.put("firstSeen", Role.LONG_MIN);
    m.put("rttMaxMicros", Role.LONG_MAX);
    m.put("lastSeen", Role.LONG_MAX);
    return m;
  }

  /** Metrics of the supervisor that read no field: Druid's {@code count} of ingested rows. */
  private static final Map<String, String> FIELDLESS_METRICS = Map.of("rows", "count");

  @Test
  void shouldWriteExactlyTheFieldsOfTheSchemaWithIdentitiesFlattened() throws Exception {
    assertThat(jsonFieldsWritten()).containsExactlyElementsOf(jsonFieldsOfTheSchema());
  }

  @Test
  void shouldSayForEveryIdentityFieldWhetherTheOutputCarriesIt() {
    Set<String> all =
        Identity.getClassSchema().getFields().stream()
            .map(Schema.Field::name)
            .collect(Collectors.toSet());
    Set<String> classified = new HashSet<>(IDENTITY_WRITTEN);
    classified.addAll(IDENTITY_LEFT_OUT);
    assertThat(classified).isEqualTo(all);
    assertThat(FlowAggregateJsonSerde.IDENTITY_FIELDS)
        .containsExactlyElementsOf(
            IDENTITY_WRITTEN.stream().map(OutputContractTest::capitalize).toList());
  }

  @Test
  void shouldMapEveryFieldOfTheOutputToWhatDruidDoesWithIt() throws Exception {
    assertThat(INGESTION.keySet()).containsExactlyInAnyOrderElementsOf(jsonFieldsWritten());
  }

  @Test
  void shouldIngestEachFieldInTheSupervisorAsTheMappingSays() throws IOException {
    JsonNode spec = JSON.readTree(SUPERVISOR.toFile());
    JsonNode schema =
        spec.has("spec") ? spec.get("spec").get("dataSchema") : spec.get("dataSchema");

    assertThat(schema.path("timestampSpec").path("column").asText())
        .isEqualTo(only(Role.TIMESTAMP));
    assertThat(schema.path("timestampSpec").path("format").asText()).isEqualTo("millis");

    Map<String, Role> dimensions = new TreeMap<>();
    for (JsonNode d : schema.path("dimensionsSpec").path("dimensions")) {
      if (d.isTextual()) {
        dimensions.put(d.asText(), Role.STRING_DIMENSION);
      } else {
        String name = d.path("name").asText();
        dimensions.put(
            name,
            switch (d.path("type").asText("string")) {
              case "string" -> Role.STRING_DIMENSION;
              case "auto" -> Role.AUTO_DIMENSION;
              default -> throw new AssertionError("dimension " + name + " of an unmapped type");
            });
      }
    }
    assertThat(dimensions).isEqualTo(withRoles(Role.STRING_DIMENSION, Role.AUTO_DIMENSION));

    Map<String, Role> metrics = new TreeMap<>();
    Map<String, String> fieldless = new TreeMap<>();
    for (JsonNode m : schema.path("metricsSpec")) {
      String type = m.path("type").asText();
      String name = m.path("name").asText();
      if (!m.has("fieldName")) {
        fieldless.put(name, type);
        continue;
      }
      // A metric named after its field: queries sum "connections", not "connections_sum".
      assertThat(m.path("fieldName").asText()).as("metric %s's field", name).isEqualTo(name);
      metrics.put(
          name,
          switch (type) {
            case "longSum" -> Role.LONG_SUM;
            case "longMin" -> Role.LONG_MIN;
            case "longMax" -> Role.LONG_MAX;
            default -> throw new AssertionError("metric " + name + " of unmapped type " + type);
          });
    }
    assertThat(metrics).isEqualTo(withRoles(Role.LONG_SUM, Role.LONG_MIN, Role.LONG_MAX));
    assertThat(fieldless).isEqualTo(FIELDLESS_METRICS);
  }

  @Test
  void shouldGiveEveryMetricALongAndEveryStringDimensionATextInTheSchema() {
    Map<String, Schema> types = jsonTypesOfTheSchema();
    INGESTION.forEach(
        (field, role) -> {
          Schema.Type type = types.get(field).getType();
          switch (role) {
            case TIMESTAMP, LONG_SUM, LONG_MIN, LONG_MAX ->
                assertThat(type).as(field).isIn(Schema.Type.LONG, Schema.Type.INT);
            case STRING_DIMENSION ->
                assertThat(type).as(field).isIn(Schema.Type.STRING, Schema.Type.ENUM);
            case AUTO_DIMENSION ->
                assertThat(type).as(field).isIn(Schema.Type.INT, Schema.Type.ARRAY);
            case NOT_INGESTED -> {}
          }
        });
  }

  // ---- the three sides
  // ---------------------------------------------------------------------------

  /** The JSON field names a fully populated row is written with, in order. */
  private static List<String> jsonFieldsWritten() throws IOException {
    Owner owner = new Owner("a", "c", "n", "Deployment", "w", "z", "r", "acct");
    FlowAggregate row =
        new FlowAggregate(
            60_000,
            120_000,
            Protocol.TCP,
            AddressFamily.IPV4,
            "10.0.0.1",
            "10.0.0.2",
            443,
            owner,
            AttributionStatus.OWNER,
            owner,
            AttributionStatus.OWNER,
            ObservedBy.BOTH,
            1,
            0,
            100,
            1000,
            3,
            4,
            0,
            250,
            250,
            250,
            1,
            List.of(40001),
            0,
            60_500,
            61_000,
            2);
    JsonNode n = JSON.readTree(new FlowAggregateJsonSerde().serialize("t", row));
    List<String> names = new ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** The schema's fields as JSON fields, in order: an identity becomes its written fields. */
  private static List<String> jsonFieldsOfTheSchema() {
    return new ArrayList<>(jsonTypesOfTheSchema().keySet());
  }

  private static Map<String, Schema> jsonTypesOfTheSchema() {
    Map<String, Schema> out = new LinkedHashMap<>();
    for (Schema.Field f : AggregatedFlow.getClassSchema().getFields()) {
      Schema type = nonNull(f.schema());
      if (type.getType() == Schema.Type.RECORD && type.getName().equals("Identity")) {
        String end = f.name().substring(0, f.name().length() - "Identity".length());
        for (String field : IDENTITY_WRITTEN) {
          out.put(end + capitalize(field), nonNull(type.getField(field).schema()));
        }
      } else {
        out.put(f.name(), type);
      }
    }
    return out;
  }

  private static Schema nonNull(Schema s) {
    if (s.getType() != Schema.Type.UNION) {
      return s;
    }
    return s.getTypes().stream().filter(t -> t.getType() != Schema.Type.NULL).findFirst().get();
  }

  private static String only(Role role) {
    List<String> fields = withRoles(role).keySet().stream().toList();
    assertThat(fields).hasSize(1);
    return fields.get(0);
  }

  private static Map<String, Role> withRoles(Role... roles) {
    Set<Role> wanted = Set.of(roles);
    Map<String, Role> out = new TreeMap<>();
    INGESTION.forEach(
        (field, role) -> {
          if (wanted.contains(role)) {
            out.put(field, role);
          }
        });
    return out;
  }

  private static String capitalize(String s) {
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
