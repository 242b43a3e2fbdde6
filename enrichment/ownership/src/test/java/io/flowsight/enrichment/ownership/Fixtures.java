package io.flowsight.enrichment.ownership;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import java.time.Instant;
import java.util.Map;

/** Identities, times and events for the ownership tests. */
final class Fixtures {

  private Fixtures() {}

  static final Identity CHECKOUT = pod("checkout", "checkout-7d9f8b6c5-x2x7q");
  static final Identity PAYMENTS = pod("payments", "payments-5f6d7c8b9-abcde");
  static final Identity SEARCH = pod("search", "search-0");

  static Identity pod(String app, String podName) {
    return Identity.newBuilder()
        .setApp(app)
        .setCluster("prod-east")
        .setNamespace("shop")
        .setWorkloadKind("Deployment")
        .setWorkloadName(app)
        .setInstanceId(podName)
        .setNode("node-1")
        .setZone("us-east-1a")
        .setRegion("us-east-1")
        .setLabels(Map.of())
        .build();
  }

  static Identity named(String app) {
    return Identity.newBuilder().setApp(app).setLabels(Map.of()).build();
  }

  /** 2026-01-01 at hh:mm or hh:mm:ss UTC. */
  static Instant at(String time) {
    return Instant.parse("2026-01-01T" + (time.length() == 5 ? time + ":00" : time) + "Z");
  }

  static IpIdentityChange change(
      IdentityAction action, String ip, Identity identity, String time, String source) {
    byte[] address = IpAddresses.parse(ip);
    return IpIdentityChange.newBuilder()
        .setAddressFamily(address.length == 4 ? AddressFamily.IPV4 : AddressFamily.IPV6)
        .setIp(IpAddresses.toBuffer(address))
        .setPrefixLength(null)
        .setAction(action)
        .setIdentity(identity)
        .setEventTime(at(time))
        .setSource(source)
        .setSourceInstance(source.equals("kubernetes") ? "prod-east" : "/etc/flowsight/ids.yaml")
        .build();
  }

  static IpIdentityChange assign(String ip, Identity identity, String time) {
    return change(IdentityAction.ASSIGN, ip, identity, time, "kubernetes");
  }

  static IpIdentityChange unassign(String ip, Identity identity, String time) {
    return change(IdentityAction.UNASSIGN, ip, identity, time, "kubernetes");
  }

  static IpIdentityChange block(String cidr, Identity identity, String time) {
    int slash = cidr.indexOf('/');
    IpIdentityChange c =
        change(IdentityAction.ASSIGN, cidr.substring(0, slash), identity, time, "static");
    c.setPrefixLength(Integer.parseInt(cidr.substring(slash + 1)));
    return c;
  }
}
