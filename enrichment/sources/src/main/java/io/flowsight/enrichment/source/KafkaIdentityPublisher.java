package io.flowsight.enrichment.source;

import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes IpIdentityChange events to the identity topic: key = the target's text ({@code
 * 10.1.2.3}, {@code 10.0.0.0/8}), value = Avro in the Confluent wire format (the project's registry
 * serde). Idempotent producer, acks=all: events of one IP stay in order in its partition. The
 * record timestamp is the publish time; the event's own time is its eventTime field.
 *
 * <p>A failed send is kept and thrown by the next {@link #publish} or {@link #flush}: a source
 * never goes on as if an event had been published.
 */
public final class KafkaIdentityPublisher implements IdentityChangeSink, AutoCloseable {

  private final Producer<String, IpIdentityChange> producer;
  private final String topic;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private final AtomicLong sent = new AtomicLong();

  public KafkaIdentityPublisher(PublisherConfig config, String clientId) {
    this(createProducer(config, clientId), config.topic());
  }

  KafkaIdentityPublisher(Producer<String, IpIdentityChange> producer, String topic) {
    this.producer = producer;
    this.topic = topic;
  }

  private static Producer<String, IpIdentityChange> createProducer(
      PublisherConfig config, String clientId) {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
    props.putAll(config.producerOverrides());
    SchemaRegistryClient registry = new SchemaRegistryClient(config.registry());
    return new KafkaProducer<>(
        props, new StringSerializer(), new AvroSerializer<IpIdentityChange>(registry, false));
  }

  @Override
  public void publish(IpIdentityChange change) {
    rethrowFailure();
    String key = IdentityChanges.targetOf(change);
    try {
      producer.send(
          new ProducerRecord<>(topic, key, change),
          (metadata, error) -> {
            if (error != null) {
              failure.compareAndSet(null, error);
            }
          });
    } catch (RuntimeException e) {
      throw new IdentitySourceException(
          "cannot publish " + change.getAction() + " " + key + " to " + topic + ": " + e, e);
    }
    sent.incrementAndGet();
  }

  @Override
  public void flush() {
    producer.flush();
    rethrowFailure();
  }

  /** Events handed to the producer so far. */
  public long sent() {
    return sent.get();
  }

  private void rethrowFailure() {
    Exception e = failure.get();
    if (e != null) {
      throw new IdentitySourceException("publishing to " + topic + " failed: " + e, e);
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
