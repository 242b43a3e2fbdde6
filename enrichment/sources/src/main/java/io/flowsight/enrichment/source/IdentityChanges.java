package io.flowsight.enrichment.source;

import io.flowsight.enrichment.Cidr;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import java.time.Instant;

/**
 * IpIdentityChange events and their keys. A <i>target</i> is the canonical text of a single IP
 * ({@code 10.1.2.3}, {@code 2001:db8::1}) or of a CIDR block ({@code 10.0.0.0/8}); it is also the
 * Kafka key of the event on the identity topic.
 */
public final class IdentityChanges {

  /** The identity topic's default name (major version 1 of IpIdentityChange). */
  public static final String DEFAULT_TOPIC = "ip-identity-v1";

  private IdentityChanges() {}

  /** The canonical text of an IP or a CIDR block; throws naming the text when it is neither. */
  public static String target(String ipOrCidr) {
    return ipOrCidr.indexOf('/') >= 0
        ? Cidr.parse(ipOrCidr).toString()
        : IpAddresses.canonical(ipOrCidr);
  }

  /** The target (and Kafka key) of an event. */
  public static String targetOf(IpIdentityChange change) {
    String ip = IpAddresses.toText(change.getIp());
    return change.getPrefixLength() == null ? ip : ip + "/" + change.getPrefixLength();
  }

  public static IpIdentityChange of(
      String target,
      IdentityAction action,
      Identity identity,
      Instant eventTime,
      String source,
      String sourceInstance) {
    byte[] address;
    Integer prefixLength;
    if (target.indexOf('/') >= 0) {
      Cidr block = Cidr.parse(target);
      address = block.network();
      prefixLength = block.prefixLength();
    } else {
      address = IpAddresses.parse(target);
      prefixLength = null;
    }
    return IpIdentityChange.newBuilder()
        .setAddressFamily(address.length == 4 ? AddressFamily.IPV4 : AddressFamily.IPV6)
        .setIp(IpAddresses.toBuffer(address))
        .setPrefixLength(prefixLength)
        .setAction(action)
        .setIdentity(identity)
        .setEventTime(eventTime)
        .setSource(source)
        .setSourceInstance(sourceInstance)
        .build();
  }
}
