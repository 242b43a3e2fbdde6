package io.flowsight.schemas.serde;

import org.apache.avro.Schema;

/**
 * Where a deserializer finds the writer schema of a record by the id in its header: the registry
 * ({@link SchemaRegistryClient}) in the services, a fixed table in unit tests.
 */
@FunctionalInterface
public interface WriterSchemas {

  /**
   * The schema registered under {@code id}.
   *
   * @throws SerdeException {@link SerdeException.Reason#UNKNOWN_SCHEMA_ID}, {@link
   *     SerdeException.Reason#UNPARSABLE_SCHEMA}, or a registry failure ({@link
   *     SerdeException.Reason#REGISTRY_UNREACHABLE}, {@link SerdeException.Reason#REGISTRY_ERROR})
   */
  Schema schemaById(int id);
}
