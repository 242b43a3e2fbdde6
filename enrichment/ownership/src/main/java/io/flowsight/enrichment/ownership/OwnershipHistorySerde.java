package io.flowsight.enrichment.ownership;

import io.flowsight.codec.Bin;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The binary form of an {@link OwnershipHistory} in a Kafka Streams store: compact, versioned, not
 * registered (it never leaves the collector's state stores and changelogs).
 *
 * <h2>Layout, version 1</h2>
 *
 * <pre>
 * u8       format version = 1
 * u8       flags: bit 0 = a horizon follows
 * [zlong]  horizon, epoch ms (only with flag bit 0)
 * uvarint  identity count I, then I identities:
 *            string   app
 *            nstring  cluster, namespace, workloadKind, workloadName, instanceId, node, zone,
 *                     region, account (in this order)
 *            uvarint  label count L, then L × (string key, string value), sorted by key
 * uvarint  source count S, then S × (string source, nstring sourceInstance)
 * uvarint  observed range count R, then R × (sorted by from):
 *            uvarint  identity index
 *            zlong    from - previous range's from (the first: from itself), ms
 *            uvarint  to - from, ms (to exclusive)
 * uvarint  change event count E, then E × (sorted by eventTime):
 *            u8       action: 0 = ASSIGN, 1 = UNASSIGN
 *            uvarint  identity index
 *            uvarint  source index
 *            zlong    eventTime - previous event's eventTime (the first: eventTime itself), ms
 *
 * uvarint: unsigned LEB128 (7 bits a byte, low bits first, high bit = more follows)
 * zlong:   a signed long, zigzag-encoded ((n << 1) ^ (n >> 63)), then as uvarint
 * string:  uvarint (UTF-8 byte length + 1), then the bytes; nstring: the same, 0 = null
 * </pre>
 *
 * Identities and sources are written once each and referred to by index (a history repeats the same
 * owner in many ranges). The bytes are a function of the history's value: equal histories serialize
 * identically. A reader refuses a version it does not know with a {@link SerializationException}
 * naming it; a new version must keep reading version 1.
 */
public final class OwnershipHistorySerde
    implements Serde<OwnershipHistory>,
        Serializer<OwnershipHistory>,
        Deserializer<OwnershipHistory> {

  public static final int VERSION = 1;

  @Override
  public Serializer<OwnershipHistory> serializer() {
    return this;
  }

  @Override
  public Deserializer<OwnershipHistory> deserializer() {
    return this;
  }

  @Override
  public byte[] serialize(String topic, OwnershipHistory history) {
    return history == null ? null : encode(history);
  }

  @Override
  public OwnershipHistory deserialize(String topic, byte[] bytes) {
    return bytes == null ? null : decode(bytes);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {}

  @Override
  public void close() {}

  // ---- writing -------------------------------------------------------------------------------

  public static byte[] encode(OwnershipHistory history) {
    Map<Identity, Integer> identities = new LinkedHashMap<>();
    Map<List<String>, Integer> sources = new LinkedHashMap<>();
    for (OwnershipHistory.Observation o : history.observations()) {
      identities.putIfAbsent(o.owner(), identities.size());
    }
    for (OwnershipHistory.Change c : history.changes()) {
      identities.putIfAbsent(c.owner(), identities.size());
      sources.putIfAbsent(sourceKey(c), sources.size());
    }
    Bin.Out out = new Bin.Out(128);
    out.u8(VERSION);
    boolean hasHorizon = history.horizonMillis() != OwnershipHistory.NO_HORIZON;
    out.u8(hasHorizon ? 1 : 0);
    if (hasHorizon) {
      out.zlong(history.horizonMillis());
    }
    out.uvarint(identities.size());
    for (Identity identity : identities.keySet()) {
      writeIdentity(out, identity);
    }
    out.uvarint(sources.size());
    for (List<String> source : sources.keySet()) {
      out.string(source.get(0));
      out.nstring(source.get(1));
    }
    out.uvarint(history.observations().size());
    long previous = 0;
    for (OwnershipHistory.Observation o : history.observations()) {
      out.uvarint(identities.get(o.owner()));
      out.zlong(o.from() - previous);
      out.uvarint(o.to() - o.from());
      previous = o.from();
    }
    out.uvarint(history.changes().size());
    previous = 0;
    for (OwnershipHistory.Change c : history.changes()) {
      out.u8(c.action() == IdentityAction.ASSIGN ? 0 : 1);
      out.uvarint(identities.get(c.owner()));
      out.uvarint(sources.get(sourceKey(c)));
      out.zlong(c.time() - previous);
      previous = c.time();
    }
    return out.toByteArray();
  }

  private static List<String> sourceKey(OwnershipHistory.Change c) {
    return Arrays.asList(c.source(), c.sourceInstance());
  }

  private static void writeIdentity(Bin.Out out, Identity identity) {
    out.string(identity.getApp());
    out.nstring(identity.getCluster());
    out.nstring(identity.getNamespace());
    out.nstring(identity.getWorkloadKind());
    out.nstring(identity.getWorkloadName());
    out.nstring(identity.getInstanceId());
    out.nstring(identity.getNode());
    out.nstring(identity.getZone());
    out.nstring(identity.getRegion());
    out.nstring(identity.getAccount());
    List<Map.Entry<String, String>> labels = Owners.sortedLabels(identity);
    out.uvarint(labels.size());
    for (Map.Entry<String, String> label : labels) {
      out.string(label.getKey());
      out.string(label.getValue());
    }
  }

  // ---- reading -------------------------------------------------------------------------------

  public static OwnershipHistory decode(byte[] bytes) {
    Bin.In in = new Bin.In(bytes, "OwnershipHistory");
    int version = in.u8();
    if (version != VERSION) {
      throw new SerializationException(
          "OwnershipHistory format version "
              + version
              + " is unknown (this reader knows version "
              + VERSION
              + ")");
    }
    int flags = in.u8();
    long horizon = (flags & 1) != 0 ? in.zlong() : OwnershipHistory.NO_HORIZON;
    int identityCount = in.count();
    List<Identity> identities = new ArrayList<>(identityCount);
    for (int i = 0; i < identityCount; i++) {
      identities.add(readIdentity(in));
    }
    int sourceCount = in.count();
    List<String[]> sources = new ArrayList<>(sourceCount);
    for (int i = 0; i < sourceCount; i++) {
      sources.add(new String[] {in.string(), in.nstring()});
    }
    int observedCount = in.count();
    List<OwnershipHistory.Observation> observations = new ArrayList<>(observedCount);
    long previous = 0;
    for (int i = 0; i < observedCount; i++) {
      Identity owner = in.pick(identities);
      long from = previous + in.zlong();
      long to = from + in.uvarint();
      observations.add(new OwnershipHistory.Observation(owner, from, to));
      previous = from;
    }
    int changeCount = in.count();
    List<OwnershipHistory.Change> changes = new ArrayList<>(changeCount);
    previous = 0;
    for (int i = 0; i < changeCount; i++) {
      int action = in.u8();
      if (action > 1) {
        throw in.malformed("action " + action + " is neither 0 (ASSIGN) nor 1 (UNASSIGN)");
      }
      Identity owner = in.pick(identities);
      String[] source = in.pick(sources);
      long time = previous + in.zlong();
      changes.add(
          new OwnershipHistory.Change(
              action == 0 ? IdentityAction.ASSIGN : IdentityAction.UNASSIGN,
              owner,
              time,
              source[0],
              source[1]));
      previous = time;
    }
    if (in.remaining() != 0) {
      throw in.malformed(in.remaining() + " bytes follow the end of the history");
    }
    return new OwnershipHistory(horizon, observations, changes);
  }

  private static Identity readIdentity(Bin.In in) {
    Identity.Builder b =
        Identity.newBuilder()
            .setApp(in.string())
            .setCluster(in.nstring())
            .setNamespace(in.nstring())
            .setWorkloadKind(in.nstring())
            .setWorkloadName(in.nstring())
            .setInstanceId(in.nstring())
            .setNode(in.nstring())
            .setZone(in.nstring())
            .setRegion(in.nstring())
            .setAccount(in.nstring());
    int labelCount = in.count();
    Map<String, String> labels = new HashMap<>(Math.max(4, labelCount * 2));
    for (int i = 0; i < labelCount; i++) {
      labels.put(in.string(), in.string());
    }
    return b.setLabels(labels).build();
  }
}
