package io.flowsight.enrichment.source;

import io.flowsight.schemas.IpIdentityChange;

/**
 * Where identity sources put their change events: the identity topic, or an in-memory directory.
 */
public interface IdentityChangeSink {

  void publish(IpIdentityChange change);

  /** Makes what was published durable; throws when an earlier publish failed. */
  default void flush() {}
}
