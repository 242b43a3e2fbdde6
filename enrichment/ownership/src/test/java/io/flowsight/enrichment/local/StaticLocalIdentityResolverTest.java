package io.flowsight.enrichment.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.identityfile.StaticIdentities;
import io.flowsight.schemas.Identity;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StaticLocalIdentityResolverTest {

  private static final Instant NOW = Instant.parse("2026-01-01T10:00:00Z");

  @Test
  void shouldNameEveryAddressOfAVmOrMatchAFileByAddressThenLongestBlock() {
    Identity vm = Identity.newBuilder().setApp("billing").setLabels(Map.of()).build();
    assertThat(
            StaticLocalIdentityResolver.forEveryAddress(vm)
                .identityOf(IpAddresses.toInetAddress(IpAddresses.parse("10.9.9.9")), NOW))
        .contains(vm);

    StaticLocalIdentityResolver file =
        StaticLocalIdentityResolver.of(
            StaticIdentities.parse(
                """
                identities:
                  - ip: 127.0.0.2
                    app: frontend
                  - cidr: 127.0.0.0/8
                    app: localhost
                  - cidr: 127.0.0.0/16
                    app: loopback-16
                """,
                "ids.yaml"));
    assertThat(file.identityOf(IpAddresses.toInetAddress(IpAddresses.parse("127.0.0.2")), NOW))
        .map(Identity::getApp)
        .contains("frontend");
    assertThat(file.identityOf(IpAddresses.toInetAddress(IpAddresses.parse("127.0.9.1")), NOW))
        .map(Identity::getApp)
        .contains("loopback-16");
    assertThat(file.identityOf(IpAddresses.toInetAddress(IpAddresses.parse("127.1.0.1")), NOW))
        .map(Identity::getApp)
        .contains("localhost");
    assertThat(file.identityOf(IpAddresses.toInetAddress(IpAddresses.parse("10.0.0.1")), NOW))
        .isEmpty();
  }
}
