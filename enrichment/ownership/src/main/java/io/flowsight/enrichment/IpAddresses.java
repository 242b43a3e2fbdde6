package io.flowsight.enrichment;

import io.flowsight.schemas.AddressFamily;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * IP addresses as the project's records carry them: IPv4 as 4 bytes, IPv6 as 16 bytes, network byte
 * order (big-endian), an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) always as its 4 IPv4
 * bytes. The text form is canonical (dotted quad; RFC 5952 for IPv6: lower case, no leading zeros,
 * the longest run of zero groups as {@code ::}), so it can key Kafka topics and stores.
 *
 * <p>Parsing accepts literals only and never resolves a host name.
 */
public final class IpAddresses {

  private IpAddresses() {}

  /**
   * The address bytes of a literal, normalized (IPv4-mapped IPv6 becomes 4 bytes).
   *
   * @throws IllegalArgumentException naming the text when it is not an IPv4 or IPv6 literal
   */
  public static byte[] parse(String text) {
    return tryParse(text)
        .orElseThrow(
            () -> new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 address"));
  }

  /** The address bytes of a literal, normalized; empty when it is not one. */
  public static Optional<byte[]> tryParse(String text) {
    if (text == null || text.isEmpty()) {
      return Optional.empty();
    }
    byte[] bytes = text.indexOf(':') >= 0 ? parseV6(text) : parseV4(text);
    return bytes == null ? Optional.empty() : Optional.of(normalize(bytes));
  }

  /** The canonical text form of a literal: {@code toText(parse(text))}. */
  public static String canonical(String text) {
    return toText(parse(text));
  }

  /**
   * The address as 4 bytes (IPv4, also for an IPv4-mapped IPv6 address) or 16 bytes (IPv6). The
   * argument is never modified; the result may be the same array.
   *
   * @throws IllegalArgumentException when the length is neither 4 nor 16
   */
  public static byte[] normalize(byte[] address) {
    if (address == null || (address.length != 4 && address.length != 16)) {
      throw new IllegalArgumentException(
          "an IP address is 4 or 16 bytes, not "
              + (address == null ? "null" : address.length + " bytes"));
    }
    if (address.length == 16 && isV4Mapped(address)) {
      byte[] v4 = new byte[4];
      System.arraycopy(address, 12, v4, 0, 4);
      return v4;
    }
    return address;
  }

  /** The bytes of an Avro {@code bytes} field, normalized; the buffer's position is untouched. */
  public static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer view = buffer.duplicate();
    byte[] bytes = new byte[view.remaining()];
    view.get(bytes);
    return normalize(bytes);
  }

  /** A buffer for an Avro {@code bytes} field: a copy of the normalized address. */
  public static ByteBuffer toBuffer(byte[] address) {
    return ByteBuffer.wrap(normalize(address).clone());
  }

  public static AddressFamily family(byte[] address) {
    return normalize(address).length == 4 ? AddressFamily.IPV4 : AddressFamily.IPV6;
  }

  /** Bits in an address of this family: 32 or 128. */
  public static int bits(byte[] address) {
    return normalize(address).length * 8;
  }

  public static InetAddress toInetAddress(byte[] address) {
    try {
      return InetAddress.getByAddress(normalize(address));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e.getMessage(), e); // cannot happen: the length is valid
    }
  }

  public static byte[] of(InetAddress address) {
    return normalize(address.getAddress());
  }

  /** Canonical text form of the address bytes. */
  public static String toText(byte[] address) {
    byte[] a = normalize(address);
    if (a.length == 4) {
      return (a[0] & 0xff) + "." + (a[1] & 0xff) + "." + (a[2] & 0xff) + "." + (a[3] & 0xff);
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((a[2 * i] & 0xff) << 8) | (a[2 * i + 1] & 0xff);
    }
    // RFC 5952: the longest run of two or more zero groups becomes "::", the first one on a tie.
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder text = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        text.append("::");
        i += bestLength - 1;
        continue;
      }
      if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
        text.append(':');
      }
      text.append(Integer.toHexString(groups[i]));
    }
    return text.toString();
  }

  /** Canonical text form of an Avro {@code bytes} address field. */
  public static String toText(ByteBuffer address) {
    return toText(bytes(address));
  }

  private static boolean isV4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
  }

  /** Dotted quad, decimal, no leading zeros (an octal reading of "010" would be a trap). */
  private static byte[] parseV4(String text) {
    byte[] out = new byte[4];
    int part = 0;
    int value = -1;
    int digits = 0;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : '.';
      if (c == '.') {
        if (digits == 0 || part > 3) {
          return null;
        }
        out[part++] = (byte) value;
        value = -1;
        digits = 0;
      } else if (c >= '0' && c <= '9') {
        if (digits > 0 && value == 0) {
          return null; // leading zero
        }
        value = (value < 0 ? 0 : value * 10) + (c - '0');
        digits++;
        if (value > 255) {
          return null;
        }
      } else {
        return null;
      }
    }
    return part == 4 ? out : null;
  }

  private static byte[] parseV6(String text) {
    int doubleColon = text.indexOf("::");
    if (doubleColon >= 0 && text.indexOf("::", doubleColon + 1) >= 0) {
      return null;
    }
    String head = doubleColon >= 0 ? text.substring(0, doubleColon) : text;
    String tail = doubleColon >= 0 ? text.substring(doubleColon + 2) : "";
    int[] headGroups = groups(head, doubleColon < 0);
    int[] tailGroups = groups(tail, true);
    if (headGroups == null || tailGroups == null) {
      return null;
    }
    int total = headGroups.length + tailGroups.length;
    if (doubleColon >= 0 ? total > 7 : total != 8) {
      return null;
    }
    int[] all = new int[8];
    System.arraycopy(headGroups, 0, all, 0, headGroups.length);
    System.arraycopy(tailGroups, 0, all, 8 - tailGroups.length, tailGroups.length);
    byte[] out = new byte[16];
    for (int i = 0; i < 8; i++) {
      out[2 * i] = (byte) (all[i] >>> 8);
      out[2 * i + 1] = (byte) all[i];
    }
    return out;
  }

  /**
   * The 16-bit groups of a colon-separated part; an IPv4 dotted quad may end the last part. Null
   * when malformed.
   */
  private static int[] groups(String part, boolean mayEndWithV4) {
    if (part.isEmpty()) {
      return new int[0];
    }
    String[] fields = part.split(":", -1);
    int count = fields.length;
    String last = fields[count - 1];
    boolean v4 = last.indexOf('.') >= 0;
    if (v4 && !mayEndWithV4) {
      return null;
    }
    int[] out = new int[v4 ? count + 1 : count];
    for (int i = 0; i < (v4 ? count - 1 : count); i++) {
      String f = fields[i];
      if (f.isEmpty() || f.length() > 4) {
        return null;
      }
      int value = 0;
      for (int k = 0; k < f.length(); k++) {
        int digit = Character.digit(f.charAt(k), 16);
        if (digit < 0) {
          return null;
        }
        value = value * 16 + digit;
      }
      out[i] = value;
    }
    if (v4) {
      byte[] quad = parseV4(last);
      if (quad == null) {
        return null;
      }
      out[count - 1] = ((quad[0] & 0xff) << 8) | (quad[1] & 0xff);
      out[count] = ((quad[2] & 0xff) << 8) | (quad[3] & 0xff);
    }
    return out;
  }
}
