package io.flowsight.enrichment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.schemas.AddressFamily;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class IpAddressesTest {

  @Test
  void shouldParseAndPrintCanonicalText() {
    assertThat(IpAddresses.parse("10.1.2.3")).containsExactly(10, 1, 2, 3);
    assertThat(IpAddresses.toText(new byte[] {(byte) 192, (byte) 168, 0, 1}))
        .isEqualTo("192.168.0.1");
    assertThat(IpAddresses.canonical("2001:0DB8:0000:0000:0000:0000:0000:0001"))
        .isEqualTo("2001:db8::1");
    assertThat(IpAddresses.canonical("::")).isEqualTo("::");
    assertThat(IpAddresses.canonical("::1")).isEqualTo("::1");
    assertThat(IpAddresses.canonical("fe80::")).isEqualTo("fe80::");
    // RFC 5952: the longest zero run is compressed, the first on a tie; a single zero group is not.
    assertThat(IpAddresses.canonical("2001:db8:0:0:1:0:0:1")).isEqualTo("2001:db8::1:0:0:1");
    assertThat(IpAddresses.canonical("2001:0:0:1:0:0:0:1")).isEqualTo("2001:0:0:1::1");
    assertThat(IpAddresses.canonical("2001:db8:0:1:1:1:1:1")).isEqualTo("2001:db8:0:1:1:1:1:1");
    assertThat(IpAddresses.canonical("64:ff9b::192.0.2.33")).isEqualTo("64:ff9b::c000:221");
    assertThat(IpAddresses.parse("2001:db8::1")).hasSize(16);
  }

  @Test
  void shouldNormalizeIpv4MappedIpv6ToIpv4() throws Exception {
    assertThat(IpAddresses.parse("::ffff:10.0.0.1")).containsExactly(10, 0, 0, 1);
    assertThat(IpAddresses.parse("::FFFF:a00:1")).containsExactly(10, 0, 0, 1);
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    mapped[12] = 127;
    mapped[15] = 2;
    assertThat(IpAddresses.toText(mapped)).isEqualTo("127.0.0.2");
    assertThat(IpAddresses.family(mapped)).isEqualTo(AddressFamily.IPV4);
    assertThat(IpAddresses.of(InetAddress.getByName("::1"))).hasSize(16);
    assertThat(IpAddresses.toInetAddress(IpAddresses.parse("10.0.0.1")).getHostAddress())
        .isEqualTo("10.0.0.1");
  }

  @Test
  void shouldRefuseWhatIsNotALiteralWithoutResolvingIt() {
    for (String bad :
        new String[] {
          "", "10.0.0", "10.0.0.256", "10.0.0.01", "1.2.3.4.5", "localhost", "example.com",
          "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "12345::", "fe80::1%eth0", "1.2.3.4::", "[::1]",
          "::ffff:1.2.3", "10.0.0.1 "
        }) {
      assertThat(IpAddresses.tryParse(bad)).as(bad).isEmpty();
    }
    assertThatThrownBy(() -> IpAddresses.parse("10.0.0.300"))
        .hasMessage("'10.0.0.300' is not an IPv4 or IPv6 address");
    assertThatThrownBy(() -> IpAddresses.normalize(new byte[5]))
        .hasMessage("an IP address is 4 or 16 bytes, not 5 bytes");
  }

  @Test
  void shouldParseCidrBlocksAndRefuseHostBits() {
    Cidr block = Cidr.parse("10.1.0.0/16");
    assertThat(block.contains(IpAddresses.parse("10.1.200.3"))).isTrue();
    assertThat(block.contains(IpAddresses.parse("10.2.0.1"))).isFalse();
    assertThat(block.contains(IpAddresses.parse("::1"))).isFalse();
    assertThat(Cidr.parse("2001:db8::/32").toString()).isEqualTo("2001:db8::/32");
    assertThat(Cidr.containing(IpAddresses.parse("10.1.2.3"), 20).toString())
        .isEqualTo("10.1.0.0/20");
    assertThat(Cidr.parse("0.0.0.0/0").contains(IpAddresses.parse("8.8.8.8"))).isTrue();
    assertThatThrownBy(() -> Cidr.parse("10.1.2.3/8"))
        .hasMessage("'10.1.2.3/8': 10.1.2.3/8 has host bits set: the block starts at 10.0.0.0/8");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33"))
        .hasMessage("'10.0.0.0/33': prefix length 33 is out of range 0-32");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0"))
        .hasMessage("'10.0.0.0' is not a CIDR block (address/length)");
  }
}
