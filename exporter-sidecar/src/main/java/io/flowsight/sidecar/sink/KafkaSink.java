package io.flowsight.sidecar.sink;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.FlowRecordHeaders;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.schemas.serde.SerdeException;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces flow records to Kafka, keyed by the local IP's text form, in the registry's Avro wire
 * format: idempotent, batched (linger), lz4-compressed. The Kafka timestamp of each record is its
 * {@code endTime} (event time); the moment it was handed to Kafka is the {@link
 * FlowRecordHeaders#PRODUCED_AT} header.
 *
 * <h2>Nothing is given up while there is room</h2>
 *
 * The kernel consumer must never wait on Kafka, so {@link #accept} only offers the record to a
 * bounded queue ({@code --output-buffer} records); one sender thread moves records from there to
 * the producer. While the broker or the schema registry is unreachable, records stay: the producer
 * retries without a delivery deadline ({@code delivery.timeout.ms} is unbounded), a send that
 * waited out {@code max.block.ms} for metadata or that the registry could not serve is tried again
 * with the same record, and the queue fills. Only three things lose a record, each counted: a full
 * queue ({@code output_dropped_total}), an error Kafka will never accept the record past ({@code
 * producer_errors_total}, e.g. a record too large), and records still held when the sidecar stops
 * and the broker does not come back within the close timeout ({@code
 * output_lost_at_shutdown_total}).
 *
 * <p>At most {@value #IN_FLIGHT} records are inside the producer at once (sent, not acknowledged);
 * the rest wait in the queue, where its fill ratio shows them. {@code
 * output_oldest_record_age_seconds} is the age (by its {@code endTime}) of the oldest record not
 * yet acknowledged, in the producer or in the queue.
 */
public final class KafkaSink implements FlowSink {

  private static final Logger log = LoggerFactory.getLogger(KafkaSink.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final Duration closeTimeout;

  /** Records inside the producer at most (a power of two: slots of a ring). */
  static final int IN_FLIGHT = 1 << 12;

  /** Pause before sending again a record the registry could not serve, ms. */
  private static final long REGISTRY_RETRY_MS = 1_000;

  private final String topic;
  private final Producer<String, FlowRecord> producer;
  private final BlockingQueue<FlowRecord> queue;
  private final SidecarMetrics metrics;
  private final Thread sender;

  /** Records the producer gave back with a retriable error after send() returned: sent first. */
  private final ConcurrentLinkedDeque<FlowRecord> retries = new ConcurrentLinkedDeque<>();

  /** Records accepted and not yet acknowledged, lost or dropped. */
  private final AtomicLong unacknowledged = new AtomicLong();

  /**
   * The records inside the producer, as a ring indexed by send sequence: each slot's {@code
   * endTime} (epoch ms, written by the sender) and whether Kafka has answered for it (written by
   * the producer's callback).
   */
  private final long[] slotEndTime;

  private final AtomicIntegerArray slotAnswered;

  private final int inFlight;
  private final int slotMask;

  /** Send sequence of the next record handed to the producer (sender thread only). */
  private long nextSlot;

  /** Every record before this send sequence has been answered for (written by the sender). */
  private volatile long answeredThrough;

  /** A retriable error was reported inside the current send() call (sender thread only). */
  private boolean retryInHand;

  /** What that error was: "broker" (no answer) or "auth" (credentials refused). */
  private String retryInHandCause;

  private volatile boolean closing;

  /** Used by the sender thread only. */
  private final Map<ByteBuffer, String> keys = new HashMap<>();

  private final AtomicLong lossesLogged = new AtomicLong();
  private long retriesLogged;

  public KafkaSink(
      String bootstrapServers,
      String registryUrl,
      String topic,
      int bufferRecords,
      SidecarMetrics metrics) {
    this(bootstrapServers, registryUrl, topic, bufferRecords, metrics, Map.of(), Map.of());
  }

  /**
   * @param clientProperties the producer's security ({@code security.protocol}, SASL, TLS stores),
   *     applied over the sink's own producer settings
   * @param registryProperties the registry client's authentication and trust ({@link
   *     io.flowsight.schemas.serde.RegistryTransport}'s keys)
   */
  public KafkaSink(
      String bootstrapServers,
      String registryUrl,
      String topic,
      int bufferRecords,
      SidecarMetrics metrics,
      Map<String, String> clientProperties,
      Map<String, String> registryProperties) {
    this(
        new KafkaProducer<>(
            producerConfig(bootstrapServers, clientProperties),
            new StringSerializer(),
            new AvroSerializer<FlowRecord>(
                new SchemaRegistryClient(RegistrySerdeConfig.of(registryUrl, registryProperties)),
                false,
                schema -> {
                  FlowRecordWriter fast = FlowRecordWriter.forSchema(schema);
                  return fast != null ? fast : AvroSerializer.specificWriter(schema);
                })),
        topic,
        bufferRecords,
        metrics,
        IN_FLIGHT,
        CLOSE_TIMEOUT);
  }

  KafkaSink(
      Producer<String, FlowRecord> producer,
      String topic,
      int bufferRecords,
      SidecarMetrics metrics,
      int inFlight,
      Duration closeTimeout) {
    if (Integer.bitCount(inFlight) != 1) {
      throw new IllegalArgumentException("inFlight must be a power of two, not " + inFlight);
    }
    this.inFlight = inFlight;
    this.slotMask = inFlight - 1;
    this.slotEndTime = new long[inFlight];
    this.slotAnswered = new AtomicIntegerArray(inFlight);
    this.topic = topic;
    this.closeTimeout = closeTimeout;
    this.metrics = metrics;
    this.producer = producer;
    this.queue = new ArrayBlockingQueue<>(bufferRecords);
    metrics.outputBufferFill(() -> (double) queue.size() / bufferRecords);
    metrics.outputOldestRecordAge(this::oldestRecordAgeSeconds);
    this.sender = new Thread(this::sendLoop, "flowsight-kafka-sender");
    sender.setDaemon(true);
    sender.start();
  }

  static Map<String, Object> producerConfig(
      String bootstrapServers, Map<String, String> clientProperties) {
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
    // A send waits this long for metadata or buffer space, then the sender tries it again: the
    // wait only bounds how long the sender is deaf to close().
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
    // No delivery deadline: a batch waits for the broker as long as it takes (an outage must not
    // turn into lost records); memory stays bounded by buffer.memory and IN_FLIGHT.
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.MAX_VALUE);
    // Security last: it concerns only how the producer connects, never what it sends.
    config.putAll(clientProperties);
    return config;
  }

  @Override
  public void accept(FlowRecord record) {
    unacknowledged.incrementAndGet();
    if (!queue.offer(record)) {
      unacknowledged.decrementAndGet();
      metrics.outputDropped();
    }
  }

  private void sendLoop() {
    FlowRecord inHand = null;
    while (true) {
      advanceAnswered();
      if (inHand == null) {
        inHand = retries.pollFirst();
      }
      if (inHand == null) {
        if (closing && queue.isEmpty()) {
          return;
        }
        try {
          inHand = queue.poll(100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        if (inHand == null) {
          continue;
        }
      }
      if (nextSlot - answeredThrough >= inFlight) {
        pause(5); // the producer holds inFlight records already: wait for answers
        continue;
      }
      if (send(inHand)) {
        inHand = null;
      } else if (closing && Thread.currentThread().isInterrupted()) {
        return;
      }
    }
  }

  /**
   * Hands one record to the producer. Returns false when it must be sent again: the send waited out
   * max.block.ms (no broker), or the registry could not be reached.
   */
  private boolean send(FlowRecord record) {
    long slot = nextSlot;
    int index = (int) (slot & slotMask);
    slotEndTime[index] = record.getEndTime().toEpochMilli();
    slotAnswered.set(index, 0);
    RecordHeaders headers = new RecordHeaders();
    headers.add(
        FlowRecordHeaders.PRODUCED_AT, FlowRecordHeaders.producedAt(System.currentTimeMillis()));
    ProducerRecord<String, FlowRecord> producerRecord =
        new ProducerRecord<>(
            topic, null, record.getEndTime().toEpochMilli(), key(record), record, headers);
    retryInHand = false;
    try {
      producer.send(producerRecord, new Delivery(slot, record));
    } catch (SerdeException e) {
      // Refused credentials too: the records are held (and the reason logged once a minute)
      // rather than each one lost and logged.
      if (e.reason() == SerdeException.Reason.REGISTRY_UNREACHABLE
          || e.reason() == SerdeException.Reason.REGISTRY_ERROR
          || e.reason() == SerdeException.Reason.REGISTRY_REFUSED) {
        retrying("registry", e);
        pause(REGISTRY_RETRY_MS);
        return false;
      }
      lost(e);
      return true;
    } catch (org.apache.kafka.common.errors.InterruptException e) {
      // close() interrupted a send waiting for the broker: the record is still held.
      Thread.currentThread().interrupt();
      return false;
    } catch (AuthenticationException | AuthorizationException e) {
      // Credentials the broker refuses (a wrong password, a missing ACL): a configuration to fix,
      // not a record to give up. Held like an outage, the reason logged once a minute.
      retrying("auth", e);
      pause(REGISTRY_RETRY_MS);
      return false;
    } catch (RuntimeException e) {
      // A record the serializer refuses, or a producer that is closed: it cannot be sent.
      lost(e);
      return true;
    }
    nextSlot = slot + 1;
    if (retryInHand) {
      // The producer answered inside send(): no metadata within max.block.ms, or refused
      // credentials. The slot is answered; the same record goes again, in order.
      retrying(retryInHandCause, null);
      if ("auth".equals(retryInHandCause)) {
        pause(REGISTRY_RETRY_MS);
      }
      return false;
    }
    return true;
  }

  /** Kafka's answer for one record. */
  private final class Delivery implements Callback {
    private final long slot;
    private final FlowRecord record;

    Delivery(long slot, FlowRecord record) {
      this.slot = slot;
      this.record = record;
    }

    @Override
    public void onCompletion(RecordMetadata metadata, Exception error) {
      if (error == null) {
        metrics.recordProduced();
        unacknowledged.decrementAndGet();
      } else if (closing) {
        // Aborted by close(): still counted in unacknowledged, which close() reports as lost.
      } else if (error instanceof RetriableException
          || error instanceof AuthenticationException
          || error instanceof AuthorizationException) {
        if (Thread.currentThread() == sender) {
          retryInHand = true; // reported inside send(): the sender still holds the record
          retryInHandCause = error instanceof RetriableException ? "broker" : "auth";
        } else {
          retries.addLast(record);
        }
      } else {
        lost(error);
      }
      slotAnswered.set((int) (slot & slotMask), 1);
    }
  }

  /** Moves answeredThrough past the slots Kafka has answered for (sender thread). */
  private void advanceAnswered() {
    long through = answeredThrough;
    while (through < nextSlot && slotAnswered.get((int) (through & slotMask)) == 1) {
      through++;
    }
    answeredThrough = through;
  }

  /** Age of the oldest record not yet acknowledged, seconds; 0 when there is none. */
  private double oldestRecordAgeSeconds() {
    long oldest = Long.MAX_VALUE;
    long through = answeredThrough;
    if (through < nextSlot) {
      oldest = slotEndTime[(int) (through & slotMask)];
    }
    FlowRecord retry = retries.peekFirst();
    if (retry != null) {
      oldest = Math.min(oldest, retry.getEndTime().toEpochMilli());
    }
    FlowRecord head = queue.peek();
    if (head != null) {
      oldest = Math.min(oldest, head.getEndTime().toEpochMilli());
    }
    return oldest == Long.MAX_VALUE ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
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

  private void lost(Exception e) {
    unacknowledged.decrementAndGet();
    metrics.producerError(e.getClass().getSimpleName());
    if (lossesLogged.getAndIncrement() == 0) {
      log.warn("record lost: Kafka will not take it", e);
    } else {
      log.warn("record lost: Kafka will not take it ({})", e.toString());
    }
  }

  /** Counts a retry; logs the first of each outage and then one line a minute at most. */
  private void retrying(String cause, Exception e) {
    metrics.outputRetry(cause);
    long now = System.currentTimeMillis();
    if (now - retriesLogged >= 60_000) {
      retriesLogged = now;
      if ("auth".equals(cause)) {
        log.error(
            "Kafka refused the sidecar's credentials: holding {} records until it takes them;"
                + " check --kafka-sasl-username, --kafka-sasl-mechanism and the password in"
                + " --kafka-sasl-password-file or FLOWSIGHT_SIDECAR_KAFKA_SASL_PASSWORD (and the"
                + " topic's ACLs){}",
            unacknowledged.get(),
            e == null ? "" : " (" + e.getMessage() + ")");
        return;
      }
      log.warn(
          "{} unreachable: holding {} records until it answers{}",
          "broker".equals(cause) ? "Kafka" : "schema registry",
          unacknowledged.get(),
          e == null ? "" : " (" + e.getMessage() + ")");
    }
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Records waiting in the queue. */
  int queued() {
    return queue.size();
  }

  /** Records accepted and not yet acknowledged by Kafka (nor counted as lost). */
  long unacknowledged() {
    return unacknowledged.get();
  }

  @Override
  public void flush() {
    long deadline = System.nanoTime() + closeTimeout.toNanos();
    while (unacknowledged.get() > 0 && System.nanoTime() < deadline) {
      pause(10);
      if (Thread.currentThread().isInterrupted()) {
        return;
      }
    }
  }

  /**
   * Waits up to the close timeout for Kafka to acknowledge what is held, then counts whatever is
   * still held as lost at shutdown.
   */
  @Override
  public void close() {
    flush();
    closing = true;
    sender.interrupt();
    try {
      sender.join(closeTimeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ZERO);
    long held = unacknowledged.getAndSet(0);
    if (held > 0) {
      metrics.outputLostAtShutdown(held);
      log.warn(
          "{} records not delivered: Kafka did not take them before the sidecar stopped", held);
    }
  }
}
