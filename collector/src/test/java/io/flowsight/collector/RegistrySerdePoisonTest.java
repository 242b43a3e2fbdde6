package io.flowsight.collector;

import static io.flowsight.collector.CollectorDriver.T0;
import static io.flowsight.collector.TestFlows.app;
import static io.flowsight.collector.TestFlows.change;
import static io.flowsight.collector.TestFlows.flow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flowsight.collector.attribution.DeadLetter;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Side;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.SerdeException;
import io.flowsight.schemas.serde.SerdeException.Reason;
import io.flowsight.testing.SchemaVersions;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.IOException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Poison through the registry's deserializer (the wire format, writer schemas resolved by id; here
 * from a table instead of a registry): each record becomes a dead letter with the serde's reason,
 * the good records around it are aggregated, and a registry that cannot be reached is not taken for
 * bad data.
 */
class RegistrySerdePoisonTest {

  private static final int FLOW_V2 = 1;
  private static final int IDENTITY_V2 = 2;
  private static final int FLOW_NEWER = 3;
  private static final int IDENTITY_NEWER = 4;
  private static final int UNPARSABLE = 5;
  private static final int WRONG_TYPE = 6;
  private static final int REGISTRY_DOWN = 7;
  private static final int FLOW_BEFORE_POD = 8;
  private static final String CLIENT = "10.1.0.1";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Schema flowNewer =
      SchemaVersions.newer(FlowRecord.getClassSchema(), "Protocol", "SCTP", "addedLater");

  /**
   * FlowRecord as the sidecars wrote it before the pod field: still in the topic after an upgrade.
   */
  private final Schema flowBeforePod = SchemaVersions.without(FlowRecord.getClassSchema(), "pod");

  private final Schema identityNewer =
      SchemaVersions.newer(
          IpIdentityChange.getClassSchema(), "IdentityAction", "TRANSFER", "addedLater");
  private CollectorDriver collector;

  private Schema schemaById(int id) {
    return switch (id) {
      case FLOW_V2 -> FlowRecord.getClassSchema();
      case IDENTITY_V2 -> IpIdentityChange.getClassSchema();
      case FLOW_NEWER -> flowNewer;
      case FLOW_BEFORE_POD -> flowBeforePod;
      case IDENTITY_NEWER -> identityNewer;
      case UNPARSABLE ->
          throw new SerdeException(
              Reason.UNPARSABLE_SCHEMA,
              "schema id 5 from the registry at http://registry is not a valid Avro schema: cut");
      case WRONG_TYPE -> Schema.create(Schema.Type.STRING);
      case REGISTRY_DOWN ->
          throw new SerdeException(
              Reason.REGISTRY_UNREACHABLE, "schema registry unreachable at http://registry");
      default -> throw new SerdeException(Reason.UNKNOWN_SCHEMA_ID, "no schema id " + id);
    };
  }

  private <T extends org.apache.avro.specific.SpecificRecord> Serde<T> serde(
      Class<T> type, int id, Schema schema) {
    return Serdes.serdeFrom(
        (topic, record) -> record == null ? null : SchemaVersions.wire(id, schema, record),
        new AvroDeserializer<>(this::schemaById, type));
  }

  private CollectorDriver start() {
    collector =
        new CollectorDriver(
            CollectorSettings.defaults(1),
            Topics.of(
                Topics.DEFAULT_FLOWS,
                Topics.DEFAULT_IDENTITIES,
                Topics.DEFAULT_AGGREGATED,
                Topics.DEFAULT_DEAD_LETTERS,
                serde(FlowRecord.class, FLOW_V2, FlowRecord.getClassSchema()),
                serde(IpIdentityChange.class, IDENTITY_V2, IpIdentityChange.getClassSchema())));
    return collector;
  }

  @AfterEach
  void close() {
    if (collector != null) {
      collector.close();
    }
  }

  private static Instant t(double seconds) {
    return T0.plusMillis(Math.round(seconds * 1000));
  }

  private static FlowRecord clientFlow(int port, long sent) {
    return flow(Side.CLIENT, CLIENT, port, "10.2.0.5", 443, t(5), t(6))
        .setLocalIdentity(app("checkout"))
        .setBytesSent(sent)
        .setBytesReceived(1000)
        .build();
  }

  @Test
  void shouldDeadLetterEachPoisonWithTheSerdesReasonAndAggregateTheRest() throws Exception {
    CollectorDriver c = start();
    c.send(change(IdentityAction.ASSIGN, "10.2.0.5", null, app("billing"), T0.minusSeconds(60)));
    c.advanceTo(t(6.5));
    byte[] good = SchemaVersions.wire(FLOW_V2, FlowRecord.getClassSchema(), clientFlow(40000, 1));

    c.send(clientFlow(40001, 10)); // offset 0: fine
    GenericRecord sctp = SchemaVersions.convert(clientFlow(40002, 20), flowNewer);
    sctp.put("protocol", SchemaVersions.symbol(flowNewer, "protocol", "SCTP"));
    c.sendRaw(CLIENT, SchemaVersions.wire(FLOW_NEWER, flowNewer, sctp), t(6.3)); // 1
    GenericRecord tcpNewer = SchemaVersions.convert(clientFlow(40003, 30), flowNewer);
    tcpNewer.put("addedLater", 7L);
    c.sendRaw(CLIENT, SchemaVersions.wire(FLOW_NEWER, flowNewer, tcpNewer), t(6.3)); // 2: fine
    c.sendRaw(CLIENT, PoisonBytes.giantLengthPrefix(good), t(6.3)); // 3
    c.sendRaw(CLIENT, PoisonBytes.withSchemaId(good, UNPARSABLE), t(6.3)); // 4
    c.sendRaw(CLIENT, PoisonBytes.withSchemaId(good, WRONG_TYPE), t(6.3)); // 5
    byte[] json = "{\"observerId\":\"x\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    c.sendRaw(CLIENT, json, t(6.3)); // 6
    // Near the broker's default message size: a valid record and 1,000,000 bytes after it.
    byte[] oversized = Arrays.copyOf(good, good.length + 1_000_000);
    c.sendRaw(CLIENT, oversized, t(6.3)); // 7
    c.sendRaw(
        CLIENT, PoisonBytes.withSchemaId(good, UNPARSABLE), t(6.3)); // 8: the same schema id again
    GenericRecord transfer =
        SchemaVersions.convert(
            change(IdentityAction.ASSIGN, "10.2.0.7", null, app("x"), T0), identityNewer);
    transfer.put("action", SchemaVersions.symbol(identityNewer, "action", "TRANSFER"));
    c.identities.pipeInput(
        new TestRecord<>(
            "10.2.0.7".getBytes(java.nio.charset.StandardCharsets.UTF_8),
            SchemaVersions.wire(IDENTITY_NEWER, identityNewer, transfer),
            null,
            T0)); // identity offset 1

    List<TestRecord<byte[], byte[]>> dead = c.deadLetters();
    List<JsonNode> envelopes = dead.stream().map(r -> read(r.value())).toList();
    assertThat(envelopes)
        .extracting(e -> e.get("offset").asLong())
        .containsExactly(1L, 3L, 4L, 5L, 6L, 7L, 8L, 1L);
    assertThat(envelopes)
        .extracting(e -> e.get("reason").asText())
        .containsExactly(
            "invalid",
            "undecodable",
            "undecodable",
            "undecodable",
            "undecodable",
            "undecodable",
            "undecodable",
            "invalid");
    assertThat(envelopes)
        .extracting(e -> e.get("detail").asText())
        .satisfiesExactly(
            d -> assertThat(d).startsWith("protocol is a symbol this collector does not know"),
            d -> assertThat(d).startsWith("LIMIT_EXCEEDED: ").contains("beyond the decoder's"),
            d -> assertThat(d).startsWith("UNPARSABLE_SCHEMA: schema id 5 "),
            d -> assertThat(d).startsWith("WRONG_SCHEMA: schema id 6 is a string"),
            d -> assertThat(d).startsWith("WRONG_MAGIC_BYTE: "),
            d -> assertThat(d).startsWith("MALFORMED: ").contains("bytes left after"),
            d -> assertThat(d).startsWith("UNPARSABLE_SCHEMA: schema id 5 "),
            d -> assertThat(d).startsWith("action is a symbol this collector does not know"));

    // The oversized record's dead letter keeps a bounded prefix, its size and its digest.
    JsonNode big = envelopes.get(5);
    assertThat(dead.get(5).value().length).isLessThan(DeadLetter.MAX_ENVELOPE_BYTES);
    assertThat(big.get("valueTruncated").asBoolean()).isTrue();
    assertThat(big.get("valueSize").asInt()).isEqualTo(oversized.length);
    assertThat(big.get("valueSha256").asText())
        .isEqualTo(
            HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(oversized)));
    assertThat(java.util.Base64.getDecoder().decode(big.get("valueBase64").asText()))
        .isEqualTo(Arrays.copyOf(oversized, DeadLetter.MAX_VALUE_BYTES));
    assertThat(envelopes.get(4).get("valueTruncated").asBoolean()).isFalse();
    assertThat(counter("undecodable")).isEqualTo(6);
    assertThat(counter("invalid")).isEqualTo(2);

    c.advanceTo(t(120));
    List<FlowAggregate> out = c.aggregates();
    assertThat(out).hasSize(1);
    assertThat(out.get(0).connections()).isEqualTo(2);
    assertThat(out.get(0).bytesClientToServer()).isEqualTo(10 + 30);
    assertThat(out.get(0).ephemeralPorts()).containsExactly(40001, 40003);
  }

  @Test
  void shouldAggregateRecordsWithAndWithoutThePodAlike() {
    CollectorDriver c = start();
    c.send(change(IdentityAction.ASSIGN, "10.2.0.5", null, app("billing"), T0.minusSeconds(60)));
    c.advanceTo(t(6.5));
    // A sidecar of before the pod field, and one of now naming the pod: the same aggregate.
    GenericRecord old = SchemaVersions.convert(clientFlow(40010, 100), flowBeforePod);
    assertThat(old.getSchema().getField("pod")).isNull();
    c.sendRaw(CLIENT, SchemaVersions.wire(FLOW_BEFORE_POD, flowBeforePod, old), t(6.3));
    FlowRecord withPod = clientFlow(40011, 200);
    withPod.setPod(app("checkout"));
    c.send(withPod);

    c.advanceTo(t(120));
    assertThat(c.deadLetters()).isEmpty();
    List<FlowAggregate> out = c.aggregates();
    assertThat(out).hasSize(1);
    assertThat(out.get(0).connections()).isEqualTo(2);
    assertThat(out.get(0).bytesClientToServer()).isEqualTo(100 + 200);
    assertThat(out.get(0).ephemeralPorts()).containsExactly(40010, 40011);
  }

  @Test
  void shouldFailInsteadOfDeadLetteringWhenTheRegistryCannotBeReached() {
    CollectorDriver c = start();
    byte[] good = SchemaVersions.wire(FLOW_V2, FlowRecord.getClassSchema(), clientFlow(40000, 1));

    assertThatThrownBy(
            () -> c.sendRaw(CLIENT, PoisonBytes.withSchemaId(good, REGISTRY_DOWN), t(6.3)))
        .isInstanceOf(StreamsException.class)
        .rootCause()
        .hasMessageContaining("schema registry unreachable");
    assertThat(c.deadLetters()).isEmpty();
  }

  private static JsonNode read(byte[] json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private double counter(String reason) {
    double sum = 0;
    for (MetricSnapshot s : collector.metrics.registry().scrape()) {
      if (!s.getMetadata().getName().equals("flowsight_collector_dead_letters")) {
        continue;
      }
      for (DataPointSnapshot p : s.getDataPoints()) {
        if (reason.equals(p.getLabels().get("reason"))) {
          sum += ((CounterSnapshot.CounterDataPointSnapshot) p).getValue();
        }
      }
    }
    return sum;
  }
}
