package io.flowsight.sidecar.sink;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces flow records to Kafka, keyed by the local IP's text form, in the registry's Avro wire
 * format: idempotent, batched (linger), zstd-compressed.
 *
 * <p>The kernel consumer must never wait on Kafka, so {@link #accept} only offers the record to a
 * bounded queue; a sender thread moves it to the producer, which may block while the broker is
 * unreachable. When the queue is full the record is dropped and counted.
 */
public final class KafkaSink implements FlowSink {

  private static final Logger log = LoggerFactory.getLogger(KafkaSink.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final String topic;
  private final Producer<String, FlowRecord> producer;
  private final BlockingQueue<FlowRecord> queue;
  private final SidecarMetrics metrics;
  private final Thread sender;

  /** Records accepted but not yet handed to the producer (queued, or in the sender's hands). */
  private final java.util.concurrent.atomic.AtomicLong notYetSent =
      new java.util.concurrent.atomic.AtomicLong();

  private volatile boolean closing;

  /** Used by the sender thread only. */
  private final Map<ByteBuffer, String> keys = new HashMap<>();

  private long lossesLogged;

  /** One callback for every record: no allocation per send. */
  private final Callback delivered;

  public KafkaSink(
      String bootstrapServers,
      String registryUrl,
      String topic,
      int bufferRecords,
      SidecarMetrics metrics) {
    this.topic = topic;
    this.metrics = metrics;
    this.delivered =
        (metadata, error) -> {
          if (error == null) {
            metrics.recordProduced();
          } else {
            metrics.producerError();
            logLoss(error);
          }
        };
    this.queue = new ArrayBlockingQueue<>(bufferRecords);
    this.producer =
        new KafkaProducer<>(
            producerConfig(bootstrapServers),
            new StringSerializer(),
            new AvroSerializer<>(
                new SchemaRegistryClient(RegistrySerdeConfig.of(registryUrl)), false));
    metrics.outputBufferFill(() -> (double) queue.size() / bufferRecords);
    this.sender = new Thread(this::sendLoop, "flowsight-kafka-sender");
    sender.setDaemon(true);
    sender.start();
  }

  static Map<String, Object> producerConfig(String bootstrapServers) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.CLIENT_ID_CONFIG, "flowsight-sidecar");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    // lz4: a third of zstd's CPU on the sender thread for flow records, which compress well.
    config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    // Short enough that records do not outlive young collections in a 64 MB heap (a longer
    // linger promoted them and caused full GCs at 100k+ events/s), long enough to batch.
    config.put(ProducerConfig.LINGER_MS_CONFIG, 50);
    config.put(ProducerConfig.BATCH_SIZE_CONFIG, 128 * 1024);
    // Bounded memory on every host; the queue in front holds the rest.
    config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 8L * 1024 * 1024);
    // Only the sender thread blocks on a missing broker; records retry for up to 2 minutes.
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
    return config;
  }

  @Override
  public void accept(FlowRecord record) {
    notYetSent.incrementAndGet();
    if (!queue.offer(record)) {
      notYetSent.decrementAndGet();
      metrics.outputDropped();
    }
  }

  private void sendLoop() {
    while (!closing || !queue.isEmpty()) {
      FlowRecord record;
      try {
        record = queue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (record == null) {
        continue;
      }
      try {
        producer.send(new ProducerRecord<>(topic, key(record), record), delivered);
      } catch (RuntimeException e) {
        // Metadata timeout (broker unreachable), a full producer buffer, a registry failure.
        metrics.producerError();
        logLoss(e);
      } finally {
        notYetSent.decrementAndGet();
      }
    }
  }

  /** The local IP's text: a host has few local IPs, so each is formatted once. */
  private String key(FlowRecord record) {
    ByteBuffer ip = record.getLocalIp();
    String key = keys.get(ip);
    if (key == null) {
      if (keys.size() >= 4096) {
        keys.clear();
      }
      key = IpAddresses.toText(ip);
      keys.put(ip.duplicate(), key);
    }
    return key;
  }

  /** Logs the first loss with its stack trace, then one line per loss. */
  private void logLoss(Exception e) {
    if (lossesLogged++ == 0) {
      log.warn("record lost: Kafka did not take it", e);
    } else {
      log.warn("record lost: Kafka did not take it ({})", e.toString());
    }
  }

  @Override
  public void flush() {
    long deadline = System.nanoTime() + CLOSE_TIMEOUT.toNanos();
    while (notYetSent.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    producer.flush();
  }

  @Override
  public void close() {
    closing = true;
    try {
      sender.join(CLOSE_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(CLOSE_TIMEOUT);
  }
}
