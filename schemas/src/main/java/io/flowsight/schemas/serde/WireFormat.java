package io.flowsight.schemas.serde;

/**
 * The Confluent wire format: byte 0 is the magic byte 0, bytes 1-4 the schema id as a big-endian
 * (network byte order) signed 32-bit integer, then the Avro binary encoding of the record.
 */
final class WireFormat {
  static final byte MAGIC_BYTE = 0;
  static final int HEADER_SIZE = 5;

  private WireFormat() {}

  /** The subject a topic's keys or values are registered under (the topic name strategy). */
  static String subject(String topic, boolean isKey) {
    return topic + (isKey ? "-key" : "-value");
  }
}
