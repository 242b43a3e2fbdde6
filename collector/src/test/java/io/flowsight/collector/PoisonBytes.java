package io.flowsight.collector;

import java.nio.ByteBuffer;

/** Poison made from a good record in the Confluent wire format (magic byte, schema id, Avro). */
final class PoisonBytes {

  private PoisonBytes() {}

  /** {@code wire} with its first Avro length (the observerId's) claiming 3 GiB. */
  static byte[] giantLengthPrefix(byte[] wire) {
    int old = 0;
    while ((wire[5 + old] & 0x80) != 0) {
      old++;
    }
    old++;
    long n = (3L << 30) << 1; // zigzag of a positive length
    byte[] varint = new byte[10];
    int len = 0;
    while ((n & ~0x7fL) != 0) {
      varint[len++] = (byte) ((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    varint[len++] = (byte) n;
    ByteBuffer out = ByteBuffer.allocate(wire.length - old + len);
    out.put(wire, 0, 5).put(varint, 0, len).put(wire, 5 + old, wire.length - 5 - old);
    return out.array();
  }

  /** {@code wire} with another schema id (bytes 1-4, big-endian). */
  static byte[] withSchemaId(byte[] wire, int id) {
    byte[] copy = wire.clone();
    ByteBuffer.wrap(copy).putInt(1, id);
    return copy;
  }
}
