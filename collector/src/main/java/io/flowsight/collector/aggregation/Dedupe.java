package io.flowsight.collector.aggregation;

import io.flowsight.codec.Bin;
import io.flowsight.collector.wire.InternalFlow;
import io.flowsight.schemas.Side;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Which end of a connection seen by both ends is counted.
 *
 * <h2>Matching</h2>
 *
 * Two flow records are the same connection when they have the same protocol, client IP, client
 * (ephemeral) port, server IP and service port, and
 *
 * <ul>
 *   <li>the same side and exactly the same connectionStartTime (one observer's records of one
 *       connection: INTERIM and CLOSED), or
 *   <li>opposite sides and connectionStartTimes at most the tolerance apart (default 2 s: the
 *       client's start is its SYN, the server's the handshake's end, on two hosts' clocks). The
 *       first record of the second side pins its exact start, so its later records match exactly.
 * </ul>
 *
 * The first side seen counts; every record of the other side is a duplicate: it adds nothing to the
 * counters and marks the row of the counting side's latest record as seen by BOTH. (Reusing the
 * same 5-tuple within the tolerance is not possible for TCP while TIME_WAIT lasts.)
 *
 * <h2>Storage and expiry</h2>
 *
 * A window store keyed by the 5-tuple; an entry lives in the slot {@code bucket(firstStart + k *
 * epoch)}, where bucket rounds down to 2 × tolerance (at least 1 s) and k is the epoch of the
 * record that wrote it ({@code (endTime - connectionStartTime) / epoch}). A record probes the (at
 * most two) buckets within the tolerance of its own epoch, of the next one when it is past half of
 * its epoch, and of the previous one; it writes the entry to its own epoch's bucket. So a
 * long-lived connection's entry moves forward with its INTERIM records, while the store drops whole
 * segments older than three epochs (default 3 minutes each; segments of half the retention): an
 * entry expires 6 to 14 minutes after the end of the last record that renewed it, without a scan
 * and without tombstones.
 */
final class Dedupe {

  /**
   * The result for one record: whether it counts, its connection's entry (to update), and the slot
   * the entry is saved to, with the entries already there when they were read.
   */
  record Verdict(boolean counted, Entry entry, long slot, List<Entry> slotEntries) {}

  /** How many of a connection's counted windows an entry remembers. */
  static final int RECENT_WINDOWS = 8;

  /** One connection's entry. */
  static final class Entry {
    Side firstSide;
    long firstStart;
    long otherStart = Long.MIN_VALUE;
    long lastCountedWindow = Long.MIN_VALUE;
    long lastRowClientFp;
    long lastRowServerFp;

    /**
     * The windows the connection was counted in, the latest {@value #RECENT_WINDOWS} (ascending): a
     * record of a window already counted adds no connection, even when the connection's records
     * reach the aggregation out of order (one held back longer than a later one).
     */
    long[] countedWindows = new long[0];

    /** Whether the connection was counted in {@code window}; if not, notes that it now is. */
    boolean countIn(long window) {
      for (long w : countedWindows) {
        if (w == window) {
          return false;
        }
      }
      long[] next = Arrays.copyOf(countedWindows, countedWindows.length + 1);
      next[next.length - 1] = window;
      Arrays.sort(next);
      countedWindows =
          next.length > RECENT_WINDOWS
              ? Arrays.copyOfRange(next, next.length - RECENT_WINDOWS, next.length)
              : next;
      return true;
    }

    /**
     * Takes in another copy of this entry (an entry moves to a later epoch's slot with the
     * connection's records, and a record held back longer than a later one may have updated the
     * older copy): the union of what both know.
     */
    void merge(Entry other) {
      if (other == this) {
        return;
      }
      if (otherStart == Long.MIN_VALUE) {
        otherStart = other.otherStart;
      }
      if (other.lastCountedWindow > lastCountedWindow) {
        lastCountedWindow = other.lastCountedWindow;
        lastRowClientFp = other.lastRowClientFp;
        lastRowServerFp = other.lastRowServerFp;
      }
      for (long w : other.countedWindows) {
        countIn(w);
      }
    }

    boolean matches(Side side, long start, long tolerance) {
      if (side == firstSide) {
        return start == firstStart;
      }
      if (otherStart != Long.MIN_VALUE) {
        return start == otherStart;
      }
      return Math.abs(start - firstStart) <= tolerance;
    }
  }

  private final WindowStore<Bytes, byte[]> store;
  private final long tolerance;
  private final long bucket;
  private final long epoch;

  Dedupe(WindowStore<Bytes, byte[]> store, long toleranceMs, long epochMs) {
    this.store = store;
    this.tolerance = toleranceMs;
    this.bucket = bucketSize(toleranceMs);
    this.epoch = epochMs;
  }

  static long bucketSize(long toleranceMs) {
    return Math.max(2 * toleranceMs, 1000);
  }

  /** Finds (or starts) the record's connection entry; the caller updates it and calls save. */
  Verdict lookup(InternalFlow f) {
    Bytes key = f.connectionKey();
    long s = f.connectionStartTime();
    long age = Math.max(0, f.endTime() - s);
    long k = age / epoch;
    long[] epochs =
        age - k * epoch >= epoch / 2
            ? (k > 0 ? new long[] {k + 1, k, k - 1} : new long[] {k + 1, k})
            : (k > 0 ? new long[] {k, k - 1} : new long[] {k});
    Map<Long, List<Entry>> read = new HashMap<>(4);
    Entry found = null;
    // Every probed slot is read: copies of one entry in two epochs' slots are merged.
    for (long j : epochs) {
      long probe = s + j * epoch;
      for (long slot : new long[] {floor(probe - tolerance), floor(probe + tolerance)}) {
        if (read.containsKey(slot)) {
          continue;
        }
        byte[] value = store.fetch(key, slot);
        List<Entry> entries = value == null ? new ArrayList<>(1) : decode(value);
        read.put(slot, entries);
        for (Entry e : entries) {
          if (e.matches(f.side(), s, tolerance)
              && (found == null
                  || (e.firstSide == found.firstSide && e.firstStart == found.firstStart))) {
            if (found == null) {
              found = e;
            } else {
              found.merge(e);
            }
          }
        }
      }
    }
    if (found == null) {
      Entry e = new Entry();
      e.firstSide = f.side();
      e.firstStart = s;
      long slot = floor(s + k * epoch);
      return new Verdict(true, e, slot, read.get(slot));
    }
    boolean counted = found.firstSide == f.side();
    if (!counted && found.otherStart == Long.MIN_VALUE) {
      found.otherStart = s;
    }
    long slot = floor(found.firstStart + k * epoch);
    return new Verdict(counted, found, slot, read.get(slot));
  }

  /** Writes the entry into its slot (with the other connections of the same 5-tuple there). */
  void save(InternalFlow f, Verdict v) {
    Bytes key = f.connectionKey();
    List<Entry> entries = v.slotEntries();
    if (entries == null) {
      byte[] existing = store.fetch(key, v.slot());
      entries = existing == null ? new ArrayList<>(1) : decode(existing);
    }
    Entry mine = v.entry();
    entries.removeIf(
        e -> e != mine && e.firstSide == mine.firstSide && e.firstStart == mine.firstStart);
    if (!entries.contains(mine)) {
      entries.add(mine);
    }
    store.put(key, encode(entries), v.slot());
  }

  private long floor(long t) {
    return Math.floorDiv(t, bucket) * bucket;
  }

  /**
   * Layout, version 2: u8 version; uvarint entry count; per entry: u8 firstSide, zlong firstStart,
   * u8 has-otherStart, [zlong otherStart - firstStart], zlong lastCountedWindow, long8 client and
   * server row fingerprints, uvarint count of counted windows, each a zlong (ascending, epoch ms).
   * Version 1 (no counted windows: the last counted window stands for them) is still read.
   */
  static byte[] encode(List<Entry> entries) {
    Bin.Out out = new Bin.Out(64 * entries.size() + 2);
    out.u8(2).uvarint(entries.size());
    for (Entry e : entries) {
      out.u8(e.firstSide.ordinal()).zlong(e.firstStart).u8(e.otherStart == Long.MIN_VALUE ? 0 : 1);
      if (e.otherStart != Long.MIN_VALUE) {
        out.zlong(e.otherStart - e.firstStart);
      }
      out.zlong(e.lastCountedWindow).long8(e.lastRowClientFp).long8(e.lastRowServerFp);
      out.uvarint(e.countedWindows.length);
      for (long w : e.countedWindows) {
        out.zlong(w);
      }
    }
    return out.toByteArray();
  }

  static List<Entry> decode(byte[] bytes) {
    Bin.In in = new Bin.In(bytes, "dedupe entry");
    int version = in.u8();
    if (version != 1 && version != 2) {
      throw in.malformed("dedupe format version " + version + " is unknown");
    }
    int n = in.uint();
    List<Entry> entries = new ArrayList<>(n + 1);
    for (int i = 0; i < n; i++) {
      Entry e = new Entry();
      int side = in.u8();
      if (side >= Side.values().length) {
        throw in.malformed("side " + side + " is unknown");
      }
      e.firstSide = Side.values()[side];
      e.firstStart = in.zlong();
      if (in.u8() == 1) {
        e.otherStart = e.firstStart + in.zlong();
      }
      e.lastCountedWindow = in.zlong();
      e.lastRowClientFp = in.long8();
      e.lastRowServerFp = in.long8();
      if (version == 2) {
        int windows = in.uint();
        if (windows > RECENT_WINDOWS) {
          throw in.malformed(windows + " counted windows, more than " + RECENT_WINDOWS);
        }
        e.countedWindows = new long[windows];
        for (int w = 0; w < windows; w++) {
          e.countedWindows[w] = in.zlong();
        }
      } else if (e.lastCountedWindow != Long.MIN_VALUE) {
        e.countedWindows = new long[] {e.lastCountedWindow};
      }
      entries.add(e);
    }
    in.end();
    return entries;
  }
}
