package io.flowsight.enrichment.ownership;

import io.flowsight.schemas.Identity;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What makes two {@link Identity} values the same owner, and a total order on identities (so that
 * every derived list is the same whatever order its inputs came in).
 *
 * <p>Two identities are the <b>same owner</b> when app, cluster, namespace, workloadName and
 * instanceId are equal (nulls equal). The other fields (workloadKind, node, zone, region, account,
 * labels) describe the owner; sources that know more or less of them (a sidecar's configured
 * identity, the Kubernetes source) still agree on who the owner is.
 */
public final class Owners {

  private Owners() {}

  /** The fields that decide who the owner is. */
  record Key(String app, String cluster, String namespace, String workloadName, String instanceId) {
    static Key of(Identity identity) {
      return new Key(
          identity.getApp(),
          identity.getCluster(),
          identity.getNamespace(),
          identity.getWorkloadName(),
          identity.getInstanceId());
    }
  }

  public static boolean sameOwner(Identity a, Identity b) {
    return Key.of(a).equals(Key.of(b));
  }

  /** A defensive deep copy (generated Avro records are mutable). */
  public static Identity copy(Identity identity) {
    return Identity.newBuilder(Objects.requireNonNull(identity, "identity")).build();
  }

  private static final Comparator<String> NULLS_FIRST =
      Comparator.nullsFirst(Comparator.naturalOrder());

  /** A total order consistent with {@link Identity#equals}. */
  public static final Comparator<Identity> ORDER =
      Comparator.comparing(Identity::getApp, NULLS_FIRST)
          .thenComparing(Identity::getCluster, NULLS_FIRST)
          .thenComparing(Identity::getNamespace, NULLS_FIRST)
          .thenComparing(Identity::getWorkloadKind, NULLS_FIRST)
          .thenComparing(Identity::getWorkloadName, NULLS_FIRST)
          .thenComparing(Identity::getInstanceId, NULLS_FIRST)
          .thenComparing(Identity::getNode, NULLS_FIRST)
          .thenComparing(Identity::getZone, NULLS_FIRST)
          .thenComparing(Identity::getRegion, NULLS_FIRST)
          .thenComparing(Identity::getAccount, NULLS_FIRST)
          .thenComparing(Owners::compareLabels);

  private static int compareLabels(Identity a, Identity b) {
    List<Map.Entry<String, String>> x = sortedLabels(a);
    List<Map.Entry<String, String>> y = sortedLabels(b);
    for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
      int c = x.get(i).getKey().compareTo(y.get(i).getKey());
      if (c == 0) {
        c = x.get(i).getValue().compareTo(y.get(i).getValue());
      }
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(x.size(), y.size());
  }

  /** The labels sorted by key (the serde writes them in this order). */
  static List<Map.Entry<String, String>> sortedLabels(Identity identity) {
    Map<String, String> labels = identity.getLabels();
    List<Map.Entry<String, String>> entries =
        new ArrayList<>(labels == null ? List.of() : labels.entrySet());
    entries.sort(Map.Entry.comparingByKey());
    return entries;
  }

  /** A short human-readable name: {@code app (namespace/instanceId)}. */
  public static String describe(Identity identity) {
    StringBuilder text = new StringBuilder(identity.getApp());
    String where =
        identity.getNamespace() == null
            ? identity.getInstanceId()
            : identity.getNamespace()
                + (identity.getInstanceId() == null ? "" : "/" + identity.getInstanceId());
    if (where != null) {
      text.append(" (").append(where).append(')');
    }
    return text.toString();
  }
}
