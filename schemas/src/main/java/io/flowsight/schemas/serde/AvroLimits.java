package io.flowsight.schemas.serde;

import org.apache.avro.SystemLimitException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds on what Avro's binary decoder accepts from a length or count prefix, so that a record
 * whose varint claims a string of gigabytes is refused at once ({@link SystemLimitException}, read
 * as {@link SerdeException.Reason#LIMIT_EXCEEDED}) instead of allocating it.
 *
 * <p>Avro reads the limits once, from the system properties {@code org.apache.avro.limits.*}, when
 * its {@code SystemLimitException} class is first used: {@link #install()} sets them (unless the
 * operator already did, with {@code -D}) and must run before the first record is decoded. The
 * deserializer calls it from its static initializer, the services' {@code main} first thing.
 */
public final class AvroLimits {

  /**
   * Longest string or bytes value, in bytes: 1 MiB. A whole record in Kafka is at most the broker's
   * message size (1 MiB by default); the longest legitimate field of these schemas (an identity
   * label) is a few hundred bytes.
   */
  public static final int MAX_LENGTH = 1 << 20;

  /** Most items in one array or map: 100,000 (a map of that many labels would be absurd). */
  public static final int MAX_COLLECTION_ITEMS = 100_000;

  private static final Logger log = LoggerFactory.getLogger(AvroLimits.class);
  private static volatile Boolean effective;

  private AvroLimits() {}

  /**
   * Sets the limits where the JVM does not have them yet and says whether Avro uses these (or
   * stricter) limits: false when its decoder was used before with its defaults (2 GiB).
   */
  public static synchronized boolean install() {
    if (effective != null) {
      return effective;
    }
    setIfAbsent(SystemLimitException.MAX_STRING_LENGTH_PROPERTY, MAX_LENGTH);
    setIfAbsent(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, MAX_LENGTH);
    setIfAbsent(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, MAX_COLLECTION_ITEMS);
    boolean ok = refuses(MAX_LENGTH + 1L);
    if (!ok) {
      log.warn(
          "Avro's decoder limits were read before they could be set: a record claiming a string"
              + " of up to 2 GiB would be allocated. Start the JVM with -D{}={} -D{}={} -D{}={}",
          SystemLimitException.MAX_STRING_LENGTH_PROPERTY,
          MAX_LENGTH,
          SystemLimitException.MAX_BYTES_LENGTH_PROPERTY,
          MAX_LENGTH,
          SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY,
          MAX_COLLECTION_ITEMS);
    }
    effective = ok;
    return ok;
  }

  private static void setIfAbsent(String property, int value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, Integer.toString(value));
    }
  }

  /** Whether the decoder refuses a string and a bytes value of {@code length} bytes. */
  private static boolean refuses(long length) {
    boolean strings;
    try {
      SystemLimitException.checkMaxStringLength(length);
      strings = false;
    } catch (SystemLimitException e) {
      strings = true;
    }
    try {
      SystemLimitException.checkMaxBytesLength(length);
      return false;
    } catch (SystemLimitException e) {
      return strings;
    }
  }
}
