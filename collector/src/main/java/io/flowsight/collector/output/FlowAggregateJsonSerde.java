package io.flowsight.collector.output;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Protocol;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The JSON form of a {@link FlowAggregate} on flows-aggregated-v1, which Druid ingests. One flat
 * object; every field is always present (null where unknown):
 *
 * <pre>
 * windowStart, windowEnd          epoch ms (Druid's timestamp: windowStart)
 * protocol, addressFamily         "TCP", "IPV4" | "IPV6"
 * clientIp, serverIp, servicePort canonical text, int
 * clientApp, clientCluster, clientNamespace, clientWorkloadKind, clientWorkloadName,
 * clientZone, clientRegion, clientAccount, clientAttribution     (and the same for server...)
 * observedBy                      "CLIENT" | "SERVER" | "BOTH"
 * connections, failedConnections, bytesClientToServer, bytesServerToClient,
 * segmentsClientToServer, segmentsServerToClient, retransmits,
 * rttMinMicros, rttMaxMicros (null without an RTT sample), rttSumMicros, rttCount,
 * ephemeralPorts (array of ints, ascending), ephemeralPortsOverflow,
 * firstSeen, lastSeen (epoch ms), flowRecords
 * </pre>
 */
public final class FlowAggregateJsonSerde
    implements Serde<FlowAggregate>, Serializer<FlowAggregate>, Deserializer<FlowAggregate> {

  private static final JsonFactory FACTORY = new JsonFactory();
  private static final ObjectMapper MAPPER = new ObjectMapper(FACTORY);

  /** The eight flattened identity fields, after the end's prefix ("client" or "server"). */
  public static final List<String> IDENTITY_FIELDS =
      List.of(
          "App",
          "Cluster",
          "Namespace",
          "WorkloadKind",
          "WorkloadName",
          "Zone",
          "Region",
          "Account");

  @Override
  public Serializer<FlowAggregate> serializer() {
    return this;
  }

  @Override
  public Deserializer<FlowAggregate> deserializer() {
    return this;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {}

  @Override
  public void close() {}

  @Override
  public byte[] serialize(String topic, FlowAggregate a) {
    if (a == null) {
      return null;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(768);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("windowStart", a.windowStart());
      g.writeNumberField("windowEnd", a.windowEnd());
      g.writeStringField("protocol", a.protocol().name());
      g.writeStringField("addressFamily", a.addressFamily().name());
      g.writeStringField("clientIp", a.clientIp());
      g.writeStringField("serverIp", a.serverIp());
      g.writeNumberField("servicePort", a.servicePort());
      writeEnd(g, "client", a.client(), a.clientAttribution());
      writeEnd(g, "server", a.server(), a.serverAttribution());
      g.writeStringField("observedBy", a.observedBy().name());
      g.writeNumberField("connections", a.connections());
      g.writeNumberField("failedConnections", a.failedConnections());
      g.writeNumberField("bytesClientToServer", a.bytesClientToServer());
      g.writeNumberField("bytesServerToClient", a.bytesServerToClient());
      g.writeNumberField("segmentsClientToServer", a.segmentsClientToServer());
      g.writeNumberField("segmentsServerToClient", a.segmentsServerToClient());
      g.writeNumberField("retransmits", a.retransmits());
      nullableInt(g, "rttMinMicros", a.rttMinMicros());
      nullableInt(g, "rttMaxMicros", a.rttMaxMicros());
      g.writeNumberField("rttSumMicros", a.rttSumMicros());
      g.writeNumberField("rttCount", a.rttCount());
      g.writeArrayFieldStart("ephemeralPorts");
      for (int port : a.ephemeralPorts()) {
        g.writeNumber(port);
      }
      g.writeEndArray();
      g.writeNumberField("ephemeralPortsOverflow", a.ephemeralPortsOverflow());
      g.writeNumberField("firstSeen", a.firstSeen());
      g.writeNumberField("lastSeen", a.lastSeen());
      g.writeNumberField("flowRecords", a.flowRecords());
      g.writeEndObject();
    } catch (IOException e) {
      throw new SerializationException("cannot write an aggregate as JSON: " + e, e);
    }
    return out.toByteArray();
  }

  private static void writeEnd(
      JsonGenerator g, String prefix, Owner owner, AttributionStatus status) throws IOException {
    String[] values =
        owner == null
            ? new String[8]
            : new String[] {
              owner.app(),
              owner.cluster(),
              owner.namespace(),
              owner.workloadKind(),
              owner.workloadName(),
              owner.zone(),
              owner.region(),
              owner.account()
            };
    for (int i = 0; i < IDENTITY_FIELDS.size(); i++) {
      String name = prefix + IDENTITY_FIELDS.get(i);
      if (values[i] == null) {
        g.writeNullField(name);
      } else {
        g.writeStringField(name, values[i]);
      }
    }
    g.writeStringField(prefix + "Attribution", status.name());
  }

  private static void nullableInt(JsonGenerator g, String name, Integer value) throws IOException {
    if (value == null) {
      g.writeNullField(name);
    } else {
      g.writeNumberField(name, value);
    }
  }

  @Override
  public FlowAggregate deserialize(String topic, byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      JsonNode n = MAPPER.readTree(bytes);
      List<Integer> ports = new ArrayList<>();
      n.get("ephemeralPorts").forEach(p -> ports.add(p.asInt()));
      return new FlowAggregate(
          n.get("windowStart").asLong(),
          n.get("windowEnd").asLong(),
          Protocol.valueOf(n.get("protocol").asText()),
          AddressFamily.valueOf(n.get("addressFamily").asText()),
          n.get("clientIp").asText(),
          n.get("serverIp").asText(),
          n.get("servicePort").asInt(),
          readOwner(n, "client"),
          AttributionStatus.valueOf(n.get("clientAttribution").asText()),
          readOwner(n, "server"),
          AttributionStatus.valueOf(n.get("serverAttribution").asText()),
          ObservedBy.valueOf(n.get("observedBy").asText()),
          n.get("connections").asLong(),
          n.get("failedConnections").asLong(),
          n.get("bytesClientToServer").asLong(),
          n.get("bytesServerToClient").asLong(),
          n.get("segmentsClientToServer").asLong(),
          n.get("segmentsServerToClient").asLong(),
          n.get("retransmits").asLong(),
          nullable(n, "rttMinMicros", JsonNode::asInt),
          nullable(n, "rttMaxMicros", JsonNode::asInt),
          n.get("rttSumMicros").asLong(),
          n.get("rttCount").asLong(),
          ports,
          n.get("ephemeralPortsOverflow").asLong(),
          n.get("firstSeen").asLong(),
          n.get("lastSeen").asLong(),
          n.get("flowRecords").asLong());
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("not an aggregate's JSON: " + e, e);
    }
  }

  private static Owner readOwner(JsonNode n, String prefix) {
    String[] v = new String[8];
    for (int i = 0; i < 8; i++) {
      v[i] = nullable(n, prefix + IDENTITY_FIELDS.get(i), JsonNode::asText);
    }
    if (v[0] == null) {
      return null;
    }
    return new Owner(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
  }

  private static <T> T nullable(JsonNode n, String field, Function<JsonNode, T> read) {
    JsonNode value = n.get(field);
    return value == null || value.isNull() ? null : read.apply(value);
  }
}
