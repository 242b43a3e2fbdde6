package io.flowsight.collector.attribution;

import io.flowsight.codec.Bin;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.schemas.FlowRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Counts the flow records lost between a sidecar and the collector. A sidecar numbers the records
 * it sends 0, 1, 2... per run ({@code sidecarRunId}) and local IP (the record's key), after its own
 * exclusions, so that all the numbers of one (run, key) reach one partition, in order. Per (run,
 * key) this keeps the highest number seen; a record whose number jumps past the next one counts the
 * numbers skipped in {@code flowsight_collector_sequence_gaps_total}. A number at or below the
 * highest (a record sent again out of order) counts nothing. The first record of a run seen starts
 * its count: numbers before it are not counted (the topic's retention may have removed them before
 * this collector started).
 *
 * <p>The store is logged like the others, so a restarted collector neither forgets nor counts
 * twice. A (run, key) not seen for the late horizon is forgotten by the sweep.
 */
final class SequenceTracker {

  static final String STORE = "sequences";
  private static final int VERSION = 1;

  private final KeyValueStore<String, byte[]> store;
  private final CollectorMetrics metrics;

  SequenceTracker(KeyValueStore<String, byte[]> store, CollectorMetrics metrics) {
    this.store = store;
    this.metrics = metrics;
  }

  /** Notes one record's sequence number; {@code now} is the wall clock, epoch ms. */
  void observe(byte[] key, FlowRecord r, long now) {
    String id =
        r.getSidecarRunId() + "|" + (key == null ? "" : new String(key, StandardCharsets.UTF_8));
    long sequence = r.getSequence();
    byte[] previous = store.get(id);
    long highest = sequence;
    if (previous != null) {
      long[] entry = decode(previous);
      if (sequence > entry[0] + 1) {
        metrics.sequenceGap(sequence - entry[0] - 1);
      }
      highest = Math.max(entry[0], sequence);
    }
    store.put(id, encode(highest, now));
  }

  /** Forgets the (run, key) pairs whose last record arrived before {@code cutoff}, epoch ms. */
  void forgetRunsIdleSince(long cutoff) {
    List<String> idle = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> e = it.next();
        if (decode(e.value)[1] < cutoff) {
          idle.add(e.key);
        }
      }
    }
    idle.forEach(store::delete);
  }

  /** version 1 | highest sequence (zig-zag varint) | last seen, epoch ms (zig-zag varint). */
  static byte[] encode(long highest, long lastSeen) {
    return new Bin.Out(20).u8(VERSION).zlong(highest).zlong(lastSeen).toByteArray();
  }

  static long[] decode(byte[] bytes) {
    Bin.In in = new Bin.In(bytes, "sequence entry");
    int version = in.u8();
    if (version != VERSION) {
      throw in.malformed("sequence entry format version " + version + " is unknown");
    }
    long[] entry = {in.zlong(), in.zlong()};
    in.end();
    return entry;
  }
}
