package io.flowsight.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The one exception the registry serde throws. It extends Kafka's {@link SerializationException} so
 * that Kafka clients and Kafka Streams treat it as a bad record, not as a broken application;
 * {@link #reason()} says which kind of failure it was, for dead-letter records and metrics.
 */
public final class SerdeException extends SerializationException {

  /** What went wrong, coarse enough to count and to route on. */
  public enum Reason {
    /** The record's first byte is not the Confluent wire format's magic byte 0. */
    WRONG_MAGIC_BYTE,
    /** The record is shorter than its header, or its Avro body ends early. */
    TRUNCATED,
    /** The Avro body does not decode with the writer schema (garbage, or trailing bytes). */
    MALFORMED,
    /**
     * A length or count in the Avro body is beyond the decoder's limits ({@link AvroLimits}): a
     * corrupt or hostile length prefix, refused before anything is allocated.
     */
    LIMIT_EXCEEDED,
    /** The registry does not know the schema id written in the record. */
    UNKNOWN_SCHEMA_ID,
    /** The registry returned the record's writer schema, but it is not a valid Avro schema. */
    UNPARSABLE_SCHEMA,
    /**
     * The record's writer schema is valid but cannot be read as the reader's type (another record
     * type, a removed field without a default): it was written for another topic or contract.
     */
    WRONG_SCHEMA,
    /** Auto-registration is off and the schema is not registered under the subject. */
    SCHEMA_NOT_REGISTERED,
    /** The registry refused a new schema version as incompatible with the subject's history. */
    INCOMPATIBLE_SCHEMA,
    /** The registry could not be reached (connection refused, timeout, DNS). */
    REGISTRY_UNREACHABLE,
    /** The registry answered with an unexpected error. */
    REGISTRY_ERROR,
    /**
     * The registry refused the client's credentials, or wants some (HTTP 401 or 403): a setting to
     * fix, never the record's fault.
     */
    REGISTRY_REFUSED,
    /** The configuration of the serde is wrong. */
    BAD_CONFIGURATION
  }

  private final Reason reason;

  public SerdeException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public SerdeException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
