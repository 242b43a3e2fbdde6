package io.flowsight.enrichment;

import java.util.Arrays;

/**
 * A block of addresses: the first address (host bits zero, normalized like {@link IpAddresses}) and
 * a prefix length (0-32 for IPv4, 0-128 for IPv6). Immutable; equal when address and length are.
 */
public final class Cidr {

  private final byte[] network;
  private final int prefixLength;

  private Cidr(byte[] network, int prefixLength) {
    this.network = network;
    this.prefixLength = prefixLength;
  }

  /**
   * The block {@code network/prefixLength}.
   *
   * @throws IllegalArgumentException when the length is out of range or host bits are set (say
   *     {@code 10.0.0.0/8}, not {@code 10.1.2.3/8}: a typo there would silently claim the wrong
   *     space)
   */
  public static Cidr of(byte[] network, int prefixLength) {
    byte[] address = IpAddresses.normalize(network).clone();
    int bits = address.length * 8;
    if (prefixLength < 0 || prefixLength > bits) {
      throw new IllegalArgumentException(
          "prefix length " + prefixLength + " is out of range 0-" + bits);
    }
    byte[] masked = mask(address, prefixLength);
    if (!Arrays.equals(masked, address)) {
      throw new IllegalArgumentException(
          IpAddresses.toText(address)
              + "/"
              + prefixLength
              + " has host bits set: the block starts at "
              + IpAddresses.toText(masked)
              + "/"
              + prefixLength);
    }
    return new Cidr(address, prefixLength);
  }

  /** The block of length {@code prefixLength} that contains {@code address}. */
  public static Cidr containing(byte[] address, int prefixLength) {
    byte[] a = IpAddresses.normalize(address);
    if (prefixLength < 0 || prefixLength > a.length * 8) {
      throw new IllegalArgumentException("prefix length " + prefixLength + " is out of range");
    }
    return new Cidr(mask(a, prefixLength), prefixLength);
  }

  /**
   * Parses {@code address/length}.
   *
   * @throws IllegalArgumentException naming the text when malformed
   */
  public static Cidr parse(String text) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("'" + text + "' is not a CIDR block (address/length)");
    }
    byte[] address =
        IpAddresses.tryParse(text.substring(0, slash))
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "'"
                            + text
                            + "' is not a CIDR block: '"
                            + text.substring(0, slash)
                            + "' is not an IP address"));
    int length;
    try {
      length = Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a CIDR block: the prefix length is not a number");
    }
    try {
      return of(address, length);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + text + "': " + e.getMessage(), e);
    }
  }

  /** A copy of the first address of the block. */
  public byte[] network() {
    return network.clone();
  }

  public int prefixLength() {
    return prefixLength;
  }

  /** 32 for an IPv4 block, 128 for IPv6. */
  public int bits() {
    return network.length * 8;
  }

  public boolean contains(byte[] address) {
    byte[] a = IpAddresses.normalize(address);
    return a.length == network.length && Arrays.equals(mask(a, prefixLength), network);
  }

  /** Canonical text, e.g. {@code 10.0.0.0/8}, {@code 2001:db8::/32}. */
  @Override
  public String toString() {
    return IpAddresses.toText(network) + "/" + prefixLength;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr other
        && prefixLength == other.prefixLength
        && Arrays.equals(network, other.network);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(network) + prefixLength;
  }

  private static byte[] mask(byte[] address, int prefixLength) {
    byte[] out = address.clone();
    for (int i = 0; i < out.length; i++) {
      int bitsHere = Math.max(0, Math.min(8, prefixLength - 8 * i));
      out[i] &= (byte) (0xff << (8 - bitsHere));
    }
    return out;
  }
}
