package io.flowsight.collector;

import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * A topic as a value: its name and the serdes of its keys and values.
 *
 * @param name the topic's name
 * @param keySerde serde of the keys
 * @param valueSerde serde of the values
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {

  public Topic {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a topic name must not be blank");
    }
  }
}
