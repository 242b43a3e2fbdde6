package io.flowsight.enrichment.local;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.identityfile.StaticIdentities;
import io.flowsight.schemas.Identity;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The local identity from configuration, for VMs and bare hosts: either one identity for every
 * local address, or a static identity file (the same format as the static source, {@link
 * StaticIdentities}) matched by address, then by the longest block. Time does not matter: the
 * configuration is the truth for as long as the sidecar runs with it.
 */
public final class StaticLocalIdentityResolver implements LocalIdentityResolver {

  private final Identity everyAddress;
  private final StaticIdentities table;

  private StaticLocalIdentityResolver(Identity everyAddress, StaticIdentities table) {
    this.everyAddress = everyAddress;
    this.table = table;
  }

  /** Every local address belongs to {@code identity} (a VM running one application). */
  public static StaticLocalIdentityResolver forEveryAddress(Identity identity) {
    return new StaticLocalIdentityResolver(Objects.requireNonNull(identity, "identity"), null);
  }

  /** Addresses as a static identity file lists them. */
  public static StaticLocalIdentityResolver of(StaticIdentities identities) {
    return new StaticLocalIdentityResolver(null, identities);
  }

  /**
   * Reads a static identity file.
   *
   * @throws io.flowsight.enrichment.identityfile.StaticFileException naming the bad line
   */
  public static StaticLocalIdentityResolver fromFile(Path file) {
    return of(StaticIdentities.read(file));
  }

  @Override
  public Optional<Identity> identityOf(InetAddress localIp, Instant at) {
    if (everyAddress != null) {
      return Optional.of(everyAddress);
    }
    return table.match(IpAddresses.of(localIp));
  }
}
