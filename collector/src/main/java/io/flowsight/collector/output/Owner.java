package io.flowsight.collector.output;

import io.flowsight.schemas.Identity;
import java.nio.charset.StandardCharsets;

/**
 * The part of an {@link Identity} the aggregates are grouped by and Druid sees: the workload, not
 * the instance. Two pods of one Deployment are the same owner here (instanceId, node and labels are
 * left out on purpose: as dimensions they would split every row per pod).
 *
 * <p>In the output each field is flattened with the end's prefix: {@code clientApp}, {@code
 * serverZone}...
 */
public record Owner(
    String app,
    String cluster,
    String namespace,
    String workloadKind,
    String workloadName,
    String zone,
    String region,
    String account) {

  public static Owner of(Identity identity) {
    if (identity == null) {
      return null;
    }
    return new Owner(
        identity.getApp(),
        identity.getCluster(),
        identity.getNamespace(),
        identity.getWorkloadKind(),
        identity.getWorkloadName(),
        identity.getZone(),
        identity.getRegion(),
        identity.getAccount());
  }

  /**
   * A 64-bit FNV-1a hash of the fields (null and "" kept apart), for row keys: rows of one 4-tuple
   * and window are split by the owners of both ends, and 64 bits make a collision among the few
   * owners one 4-tuple sees in one window negligible.
   */
  public long fingerprint() {
    long h = 0xcbf29ce484222325L;
    for (String s :
        new String[] {app, cluster, namespace, workloadKind, workloadName, zone, region, account}) {
      if (s == null) {
        h = mix(h, 0xff);
      } else {
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
          h = mix(h, b & 0xff);
        }
        h = mix(h, 0xfe);
      }
    }
    return h;
  }

  private static long mix(long h, int b) {
    return (h ^ b) * 0x100000001b3L;
  }
}
