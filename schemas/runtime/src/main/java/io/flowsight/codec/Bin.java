package io.flowsight.codec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;

/**
 * A compact binary encoding for the services' internal records (the collector's repartition topics
 * and state stores, the ownership histories; never read outside Flowsight, so not registered):
 *
 * <pre>
 * uvarint: unsigned LEB128 (7 bits a byte, low bits first, high bit = more follows)
 * zlong:   a signed long, zigzag-encoded ((n &lt;&lt; 1) ^ (n &gt;&gt; 63)), then as uvarint
 * nstring: uvarint (UTF-8 byte length + 1), then the bytes; 0 = null (string: the same, never null)
 * long8:   8 bytes, big-endian (keys whose byte order must follow the number's order)
 * </pre>
 */
public final class Bin {

  private Bin() {}

  /** A growing byte buffer. */
  public static final class Out {
    private byte[] buf;
    private int pos;

    public Out(int capacity) {
      buf = new byte[capacity];
    }

    private void ensure(int more) {
      if (pos + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
      }
    }

    public Out u8(int v) {
      ensure(1);
      buf[pos++] = (byte) v;
      return this;
    }

    public Out uvarint(long v) {
      ensure(10);
      while ((v & ~0x7fL) != 0) {
        buf[pos++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      buf[pos++] = (byte) v;
      return this;
    }

    public Out zlong(long v) {
      return uvarint((v << 1) ^ (v >> 63));
    }

    public Out long8(long v) {
      ensure(8);
      for (int shift = 56; shift >= 0; shift -= 8) {
        buf[pos++] = (byte) (v >>> shift);
      }
      return this;
    }

    public Out bytes(byte[] b) {
      uvarint(b.length);
      return raw(b);
    }

    public Out raw(byte[] b) {
      ensure(b.length);
      System.arraycopy(b, 0, buf, pos, b.length);
      pos += b.length;
      return this;
    }

    public Out nstring(String s) {
      if (s == null) {
        return uvarint(0);
      }
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      uvarint(utf8.length + 1L);
      return raw(utf8);
    }

    /** A string that must not be null (written like {@link #nstring}). */
    public Out string(String s) {
      return nstring(Objects.requireNonNull(s, "a required string is null"));
    }

    public byte[] toByteArray() {
      return Arrays.copyOf(buf, pos);
    }
  }

  /** A reader that names what is wrong. */
  public static final class In {
    private final byte[] bytes;
    private final String what;
    private int pos;

    public In(byte[] bytes, String what) {
      this.bytes = bytes;
      this.what = what;
    }

    public int remaining() {
      return bytes.length - pos;
    }

    public int u8() {
      if (pos >= bytes.length) {
        throw truncated();
      }
      return bytes[pos++] & 0xff;
    }

    public long uvarint() {
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

    public int uint() {
      long v = uvarint();
      if (v > Integer.MAX_VALUE) {
        throw malformed("value " + v + " does not fit an int");
      }
      return (int) v;
    }

    public long zlong() {
      long v = uvarint();
      return (v >>> 1) ^ -(v & 1);
    }

    public long long8() {
      if (remaining() < 8) {
        throw truncated();
      }
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (bytes[pos++] & 0xff);
      }
      return v;
    }

    public byte[] bytes() {
      int n = uint();
      if (n > remaining()) {
        throw truncated();
      }
      byte[] b = Arrays.copyOfRange(bytes, pos, pos + n);
      pos += n;
      return b;
    }

    public String nstring() {
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

    public String string() {
      String s = nstring();
      if (s == null) {
        throw malformed("a required string is null");
      }
      return s;
    }

    /** A count, checked against the bytes left (each element takes at least one byte). */
    public int count() {
      long n = uvarint();
      if (n > remaining()) {
        throw malformed("a count of " + n + " exceeds the " + remaining() + " bytes left");
      }
      return (int) n;
    }

    /** An element of {@code table}, by its uvarint index. */
    public <T> T pick(List<T> table) {
      long index = uvarint();
      if (index >= table.size()) {
        throw malformed("index " + index + " is past the table of " + table.size());
      }
      return table.get((int) index);
    }

    public void end() {
      if (remaining() != 0) {
        throw malformed(remaining() + " bytes follow the end");
      }
    }

    public SerializationException truncated() {
      return new SerializationException(what + " bytes are truncated (" + bytes.length + " bytes)");
    }

    public SerializationException malformed(String problem) {
      return new SerializationException(
          what + " bytes are malformed at offset " + pos + ": " + problem);
    }
  }

  /** Writes {@code v} big-endian into {@code dst} at {@code offset}. */
  public static void putLong8(byte[] dst, int offset, long v) {
    for (int i = 7; i >= 0; i--) {
      dst[offset + i] = (byte) v;
      v >>>= 8;
    }
  }

  public static long getLong8(byte[] src, int offset) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (src[offset + i] & 0xff);
    }
    return v;
  }
}
