package io.flowsight.collector;

import io.flowsight.collector.metrics.CollectorMetrics;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens when Kafka refuses a record the collector produces. A <b>dead letter</b> the broker
 * refuses for the record itself (too large for the topic's {@code max.message.bytes} or the
 * producer's {@code max.request.size}, or invalid for the topic, e.g. a null key on a compacted
 * topic) is dropped, logged with its source record's topic, partition and offset, and counted in
 * {@code flowsight_collector_dead_letters_unwritten_total}: losing the copy of a record already
 * refused must not stop the collector.
 *
 * <p>A send that failed for a <b>retriable</b> reason (the broker away past {@code max.block.ms} or
 * {@code delivery.timeout.ms}, a leader moving) is retried: Kafka Streams marks the task corrupted,
 * aborts its transaction and processes its input again from the last commit, on the same thread;
 * counted in {@code flowsight_collector_send_retries_total}. Failing instead would replace the
 * stream thread, and a thread that dies while the broker is away cannot leave its consumer group:
 * the group's next rebalance then waits for the dead member (up to {@code max.poll.interval.ms}, 5
 * minutes) and nothing is processed meanwhile.
 *
 * <p>Anything else (a record refused on the output, repartition or changelog topics, a fenced
 * producer, an authorization error) fails as by default: Kafka Streams' own handling applies.
 *
 * <p>Under exactly-once, the producer aborts the transaction a refused record was part of, and the
 * input is processed again: the dead letter's bound ({@link
 * io.flowsight.collector.attribution.DeadLetter#MAX_ENVELOPE_BYTES}, checked against the topic at
 * start) is what keeps that from happening; this handler keeps a misconfigured topic from stopping
 * the thread.
 *
 * <p>Configured by Kafka Streams: {@value #DEAD_LETTER_TOPIC} names the topic, {@value #METRICS}
 * carries the {@link CollectorMetrics} instance (optional).
 */
public final class DeadLetterProductionExceptionHandler implements ProductionExceptionHandler {

  public static final String DEAD_LETTER_TOPIC = "flowsight.collector.dead-letter-topic";
  public static final String METRICS = "flowsight.collector.metrics";

  private static final Logger log =
      LoggerFactory.getLogger(DeadLetterProductionExceptionHandler.class);

  private String deadLetterTopic;
  private CollectorMetrics metrics;

  @Override
  public void configure(Map<String, ?> configs) {
    Object topic = configs.get(DEAD_LETTER_TOPIC);
    deadLetterTopic = topic == null ? null : topic.toString();
    metrics = configs.get(METRICS) instanceof CollectorMetrics m ? m : null;
  }

  @Override
  public ProductionExceptionHandlerResponse handle(
      ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
    if (exception instanceof RetriableException) {
      if (metrics != null) {
        metrics.sendRetried(exception.getClass().getSimpleName());
      }
      return ProductionExceptionHandlerResponse.RETRY;
    }
    String refusal = recordRefusal(exception);
    if (refusal == null || deadLetterTopic == null || !deadLetterTopic.equals(record.topic())) {
      return ProductionExceptionHandlerResponse.FAIL;
    }
    if (metrics != null) {
      metrics.deadLetterUnwritten(refusal);
    }
    log.error(
        "dead letter of {}-{}@{} ({} bytes) not written to {}: {}; the record is lost, counted in"
            + " flowsight_collector_dead_letters_unwritten_total{reason=\"{}\"}",
        context == null ? "?" : context.topic(),
        context == null ? -1 : context.partition(),
        context == null ? -1 : context.offset(),
        record.value() == null ? 0 : record.value().length,
        record.topic(),
        exception.toString(),
        refusal);
    return ProductionExceptionHandlerResponse.CONTINUE;
  }

  /** The reason a broker or producer refused this record for itself, or null for other errors. */
  static String recordRefusal(Exception e) {
    if (e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException) {
      return "too_large";
    }
    if (e instanceof InvalidRecordException) {
      return "invalid_record";
    }
    return null;
  }
}
