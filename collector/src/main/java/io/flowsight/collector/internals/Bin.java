package io.flowsight.collector.internals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The encodings of the collector's internal records (repartition topics and state stores; never
 * read outside the collector, so not registered):
 *
 * <pre>
 * uvarint: unsigned LEB128 (7 bits a byte, low bits first, high bit = more follows)
 * zlong:   a signed long, zigzag-encoded ((n &lt;&lt; 1) ^ (n &gt;&gt; 63)), then as uvarint
 * nstring: uvarint (UTF-8 byte length + 1), then the bytes; 0 = null
 * long8:   8 bytes, big-endian (keys whose byte order must follow the number's order)
 * </pre>
 */
final class Bin {

  private Bin() {}

  /** A growing byte buffer. */
  static final class Out {
    private byte[] buf;
    private int pos;

    Out(int capacity) {
      buf = new byte[capacity];
    }

    private void ensure(int more) {
      if (pos + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
      }
    }

    Out u8(int v) {
      ensure(1);
      buf[pos++] = (byte) v;
      return this;
    }

    Out uvarint(long v) {
      ensure(10);
      while ((v & ~0x7fL) != 0) {
        buf[pos++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      buf[pos++] = (byte) v;
      return this;
    }

    Out zlong(long v) {
      return uvarint((v << 1) ^ (v >> 63));
    }

    Out long8(long v) {
      ensure(8);
      for (int shift = 56; shift >= 0; shift -= 8) {
        buf[pos++] = (byte) (v >>> shift);
      }
      return this;
    }

    Out bytes(byte[] b) {
      uvarint(b.length);
      return raw(b);
    }

    Out raw(byte[] b) {
      ensure(b.length);
      System.arraycopy(b, 0, buf, pos, b.length);
      pos += b.length;
      return this;
    }

    Out nstring(String s) {
      if (s == null) {
        return uvarint(0);
      }
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      uvarint(utf8.length + 1L);
      return raw(utf8);
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, pos);
    }
  }

  /** A reader that names what is wrong. */
  static final class In {
    private final byte[] bytes;
    private final String what;
    private int pos;

    In(byte[] bytes, String what) {
      this.bytes = bytes;
      this.what = what;
    }

    int remaining() {
      return bytes.length - pos;
    }

    int u8() {
      if (pos >= bytes.length) {
        throw truncated();
      }
      return bytes[pos++] & 0xff;
    }

    long uvarint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int b = u8();
        v |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw malformed("a varint is longer than 10 bytes");
    }

    int uint() {
      long v = uvarint();
      if (v > Integer.MAX_VALUE) {
        throw malformed("value " + v + " does not fit an int");
      }
      return (int) v;
    }

    long zlong() {
      long v = uvarint();
      return (v >>> 1) ^ -(v & 1);
    }

    long long8() {
      if (remaining() < 8) {
        throw truncated();
      }
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (bytes[pos++] & 0xff);
      }
      return v;
    }

    byte[] bytes() {
      int n = uint();
      if (n > remaining()) {
        throw truncated();
      }
      byte[] b = Arrays.copyOfRange(bytes, pos, pos + n);
      pos += n;
      return b;
    }

    String nstring() {
      long n = uvarint();
      if (n == 0) {
        return null;
      }
      long length = n - 1;
      if (length > remaining()) {
        throw truncated();
      }
      String s = new String(bytes, pos, (int) length, StandardCharsets.UTF_8);
      pos += (int) length;
      return s;
    }

    void end() {
      if (remaining() != 0) {
        throw malformed(remaining() + " bytes follow the end");
      }
    }

    SerializationException truncated() {
      return new SerializationException(what + " bytes are truncated (" + bytes.length + " bytes)");
    }

    SerializationException malformed(String problem) {
      return new SerializationException(
          what + " bytes are malformed at offset " + pos + ": " + problem);
    }
  }

  /** Writes {@code v} big-endian into {@code dst} at {@code offset}. */
  static void putLong8(byte[] dst, int offset, long v) {
    for (int i = 7; i >= 0; i--) {
      dst[offset + i] = (byte) v;
      v >>>= 8;
    }
  }

  static long getLong8(byte[] src, int offset) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (src[offset + i] & 0xff);
    }
    return v;
  }
}
