package io.flowsight.collector.bench;

import io.flowsight.collector.bench.ChurnWorkload.Connection;
import io.flowsight.collector.bench.ChurnWorkload.Emission;
import io.flowsight.collector.bench.ChurnWorkload.Heartbeat;
import io.flowsight.collector.bench.ChurnWorkload.Report;
import io.flowsight.collector.bench.ChurnWorkload.Tenure;
import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.output.Owner;
import io.flowsight.schemas.AttributionStatus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Scores a collector's output against the truth of a {@link ChurnWorkload}, per end of every
 * connection-window (a connection counted in one window; a long-lived one is counted in every
 * window it reported in, each window attributed to the owners at the connection's start).
 *
 * <p>A connection-window's row is the row of its (window, client IP, server IP, service port) whose
 * {@code ephemeralPorts} hold its client port (there may be two when its records went out with
 * different answers: the end then gets the worse of them). Each end is
 *
 * <ul>
 *   <li><b>correct</b>: status OWNER, and the row's app and workloadName are the true owner's;
 *   <li><b>wrong</b>: an owner is named, and it is not the true one;
 *   <li>otherwise unattributed (NEVER_SEEN, GAP, CONFLICT, EXPIRED, CIDR), and then
 *       <ul>
 *         <li><b>knowable</b> when the true owner's ASSIGN of that tenure, or a heartbeat of it
 *             (any record of its sidecar with the IP as local IP whose range holds T, or begins at
 *             most the collector's start tolerance of 2 s after T), was produced before the flow's
 *             hold-back ended: the earliest produce time of the window's records that look this end
 *             up (the other end's records; this end's own where there are none) plus the variant's
 *             hold-back;
 *         <li><b>unattributable</b> otherwise (an owner that is never published, or whose evidence
 *             came too late).
 *       </ul>
 * </ul>
 *
 * A connection-window with no row holding its port is <b>missing</b>. Independently of the ends,
 * the connections and bytes of every (window, 4-tuple) are compared with the truth, which finds a
 * connection counted twice or not at all.
 */
final class AttributionScore {

  /** The collector's start tolerance (docs/collector.md "Attribution, and holding back"). */
  static final long START_TOLERANCE_MS = 2_000;

  /** Diagnostic lines kept per kind (wrong ends, knowable ends, counting differences). */
  static final int MAX_DIAGNOSTICS = 20;

  enum Outcome {
    CORRECT,
    WRONG,
    KNOWABLE,
    UNATTRIBUTABLE
  }

  /** An output row, and when it reached the output topic (its Kafka timestamp). */
  record ArrivedRow(FlowAggregate row, long arrivedAt) {}

  /** What one end got: the outcome, the unattributed status, the row it was judged by. */
  record EndScore(Outcome outcome, String reason, FlowAggregate row) {}

  /** The counts of one case. */
  static final class Tally {
    long connectionWindows;
    long missing;
    long ends;
    long correct;
    long wrong;
    long knowable;
    long unattributable;
    long wrongConnectionWindows;
    final Map<String, Long> reasons = new TreeMap<>();

    void add(EndScore e) {
      ends++;
      switch (e.outcome()) {
        case CORRECT -> correct++;
        case WRONG -> wrong++;
        case KNOWABLE -> knowable++;
        case UNATTRIBUTABLE -> unattributable++;
      }
      if (e.reason() != null) {
        reasons.merge(e.reason(), 1L, Long::sum);
      }
    }

    String reasonsText() {
      if (reasons.isEmpty()) {
        return "-";
      }
      StringBuilder s = new StringBuilder();
      reasons.forEach(
          (k, v) -> s.append(s.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
      return s.toString();
    }
  }

  /** The score of one collector's output. */
  static final class Result {
    final Map<String, Tally> cases = new LinkedHashMap<>();
    final List<String> wrongDiagnostics = new ArrayList<>();
    final List<String> knowableDiagnostics = new ArrayList<>();
    final List<String> countDiagnostics = new ArrayList<>();
    long connections;
    long connectionWindows;
    long missing;

    /** Connections whose port appears in a window they did not report in. */
    long duplicated;

    /** (window, 4-tuple)s whose connections or bytes differ from the truth. */
    long countMismatches;

    long extraConnections;
    long missingConnections;
    long unexpectedRows;
    long portOverflow;
    final List<Long> freshnessMs = new ArrayList<>();

    /** Wrong ends by whom they named and when the end was looked up. */
    final Map<String, Long> wrongKinds = new TreeMap<>();

    Tally all() {
      return cases.get("all");
    }

    long wrongEnds() {
      return all().wrong;
    }

    boolean countsExact() {
      return countMismatches == 0 && missing == 0 && duplicated == 0 && unexpectedRows == 0;
    }

    /** Nearest-rank percentile of the freshness, ms; -1 without samples. */
    long freshnessPercentile(double p) {
      if (freshnessMs.isEmpty()) {
        return -1;
      }
      List<Long> sorted = new ArrayList<>(freshnessMs);
      Collections.sort(sorted);
      int rank = (int) Math.ceil(p / 100.0 * sorted.size());
      return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }
  }

  private final List<Connection> connections;
  private final Map<String, List<Tenure>> tenures;
  private final long start;
  private final long windowMs;
  private final long holdBackMs;

  /**
   * @param connections the truth's connections
   * @param tenures every IP's owners, in time order (for the diagnostics)
   * @param start true time 0 of the run (diagnostics print times relative to it)
   * @param windowMs the collector's window
   * @param holdBackMs the collector's hold-back (how long a flow may wait for evidence)
   */
  AttributionScore(
      List<Connection> connections,
      Map<String, List<Tenure>> tenures,
      long start,
      long windowMs,
      long holdBackMs) {
    this.connections = connections;
    this.tenures = tenures;
    this.start = start;
    this.windowMs = windowMs;
    this.holdBackMs = holdBackMs;
  }

  static AttributionScore of(ChurnWorkload world, long windowMs, long holdBackMs) {
    return new AttributionScore(
        world.connections, world.tenures, world.start, windowMs, holdBackMs);
  }

  /** Scores {@code rows} (the output, markers left out). */
  Result score(List<ArrivedRow> rows) {
    Result result = new Result();
    result.cases.put("all", new Tally());
    for (String end : List.of("client", "server")) {
      for (ChurnWorkload.Kind kind : ChurnWorkload.Kind.values()) {
        result.cases.put(end + " " + kind.label, new Tally());
      }
    }
    for (ChurnWorkload.Sides sides : ChurnWorkload.Sides.values()) {
      result.cases.put(sides.label, new Tally());
    }
    result.cases.put("long-lived", new Tally());
    result.cases.put("late", new Tally());

    Map<String, List<ArrivedRow>> byWindowKey = new HashMap<>();
    Map<String, List<ArrivedRow>> byKey = new HashMap<>();
    for (ArrivedRow r : rows) {
      byWindowKey
          .computeIfAbsent(r.row().windowStart() + "|" + r.row().key(), k -> new ArrayList<>())
          .add(r);
      byKey.computeIfAbsent(r.row().key(), k -> new ArrayList<>()).add(r);
      if (r.row().ephemeralPortsOverflow() > 0) {
        result.portOverflow += r.row().ephemeralPortsOverflow();
      }
    }
    // Truth per (window, 4-tuple): connections, bytes client to server, server to client.
    Map<String, long[]> expected = new LinkedHashMap<>();
    Map<String, List<String>> truthNotes = new HashMap<>();
    Set<String> truthKeys = new HashSet<>();

    for (Connection c : connections) {
      result.connections++;
      String key = c.aggregationKey();
      truthKeys.add(key);
      Map<Long, List<Report>> windows = countedWindows(c);
      Set<Long> seenIn = new HashSet<>();
      for (ArrivedRow r : byKey.getOrDefault(key, List.of())) {
        if (r.row().ephemeralPorts().contains(c.clientPort)) {
          seenIn.add(r.row().windowStart());
        }
      }
      seenIn.removeAll(windows.keySet());
      if (!seenIn.isEmpty()) {
        result.duplicated++;
        note(
            result.countDiagnostics,
            String.format(
                "connection %d %s port %d appears in windows %s it did not report in",
                c.id, key, c.clientPort, relativeWindows(seenIn)));
      }
      long lastWindow = Long.MIN_VALUE;
      for (Map.Entry<Long, List<Report>> w : windows.entrySet()) {
        long window = w.getKey();
        lastWindow = Math.max(lastWindow, window);
        result.connectionWindows++;
        long[] e = expected.computeIfAbsent(window + "|" + key, k -> new long[3]);
        e[0]++;
        for (Report report : w.getValue()) {
          e[1] += report.bytesClientToServer;
          e[2] += report.bytesServerToClient;
        }
        truthNotes
            .computeIfAbsent(window + "|" + key, k -> new ArrayList<>())
            .add(describe(c, w.getValue()));
        List<FlowAggregate> holding = new ArrayList<>();
        for (ArrivedRow r : byWindowKey.getOrDefault(window + "|" + key, List.of())) {
          if (r.row().ephemeralPorts().contains(c.clientPort)) {
            holding.add(r.row());
          }
        }
        List<Tally> connectionCases = connectionCases(result, c);
        Tally clientCase = result.cases.get("client " + c.client.app.kind().label);
        Tally serverCase = result.cases.get("server " + c.server.app.kind().label);
        if (holding.isEmpty()) {
          result.missing++;
          connectionCases.forEach(t -> t.missing++);
          clientCase.missing++;
          serverCase.missing++;
          note(
              result.countDiagnostics,
              String.format(
                  "connection %d %s port %d: no row of window %s holds it",
                  c.id, key, c.clientPort, relative(window)));
          continue;
        }
        EndScore client = judge(c, true, holding, w.getValue());
        EndScore server = judge(c, false, holding, w.getValue());
        boolean wrong = client.outcome() == Outcome.WRONG || server.outcome() == Outcome.WRONG;
        for (Tally t : connectionCases) {
          t.connectionWindows++;
          t.add(client);
          t.add(server);
          if (wrong) {
            t.wrongConnectionWindows++;
          }
        }
        clientCase.connectionWindows++;
        clientCase.add(client);
        serverCase.connectionWindows++;
        serverCase.add(server);
        if (client.outcome() == Outcome.WRONG) {
          clientCase.wrongConnectionWindows++;
          result.wrongKinds.merge(wrongKind(c, true, client), 1L, Long::sum);
          note(result.wrongDiagnostics, diagnose(c, true, window, client));
        }
        if (server.outcome() == Outcome.WRONG) {
          serverCase.wrongConnectionWindows++;
          result.wrongKinds.merge(wrongKind(c, false, server), 1L, Long::sum);
          note(result.wrongDiagnostics, diagnose(c, false, window, server));
        }
        if (client.outcome() == Outcome.KNOWABLE) {
          note(result.knowableDiagnostics, diagnose(c, true, window, client));
        }
        if (server.outcome() == Outcome.KNOWABLE) {
          note(result.knowableDiagnostics, diagnose(c, false, window, server));
        }
      }
      // Freshness: from the close to the arrival of the row holding the connection's last window.
      if (!c.late && lastWindow != Long.MIN_VALUE) {
        long arrived = Long.MIN_VALUE;
        for (ArrivedRow r : byWindowKey.getOrDefault(lastWindow + "|" + key, List.of())) {
          if (r.row().ephemeralPorts().contains(c.clientPort)) {
            arrived = Math.max(arrived, r.arrivedAt());
          }
        }
        if (arrived != Long.MIN_VALUE) {
          result.freshnessMs.add(arrived - c.close);
        }
      }
    }

    // Connections and bytes per (window, 4-tuple), against the truth.
    Map<String, long[]> actual = new HashMap<>();
    for (ArrivedRow r : rows) {
      FlowAggregate a = r.row();
      if (!truthKeys.contains(a.key())) {
        result.unexpectedRows++;
        result.extraConnections += a.connections();
        note(
            result.countDiagnostics,
            String.format(
                "a row of window %s for %s, which no connection of the run has",
                relative(a.windowStart()), a.key()));
        continue;
      }
      long[] sum = actual.computeIfAbsent(a.windowStart() + "|" + a.key(), k -> new long[3]);
      sum[0] += a.connections();
      sum[1] += a.bytesClientToServer();
      sum[2] += a.bytesServerToClient();
    }
    Set<String> windowKeys = new HashSet<>(expected.keySet());
    windowKeys.addAll(actual.keySet());
    for (String wk : windowKeys) {
      long[] e = expected.getOrDefault(wk, new long[3]);
      long[] a = actual.getOrDefault(wk, new long[3]);
      if (e[0] != a[0] || e[1] != a[1] || e[2] != a[2]) {
        result.countMismatches++;
        result.extraConnections += Math.max(0, a[0] - e[0]);
        result.missingConnections += Math.max(0, e[0] - a[0]);
        int bar = wk.indexOf('|');
        StringBuilder line =
            new StringBuilder(
                String.format(
                    "window %s %s: %d connections, %d/%d bytes; truth %d connections, %d/%d"
                        + " bytes",
                    relative(Long.parseLong(wk.substring(0, bar))),
                    wk.substring(bar + 1),
                    a[0],
                    a[1],
                    a[2],
                    e[0],
                    e[1],
                    e[2]));
        for (String t : truthNotes.getOrDefault(wk, List.of())) {
          line.append("\n      truth: ").append(t);
        }
        for (ArrivedRow r : byWindowKey.getOrDefault(wk, List.of())) {
          line.append("\n      row: ").append(describe(r));
        }
        note(result.countDiagnostics, line.toString());
      }
    }
    return result;
  }

  /**
   * The windows a connection counts in, with the reports of each: the windows of its records'
   * endTimes (the hosts' clocks). The workload keeps every report away from window boundaries, so
   * both ends' records of a report are in the same window and it does not matter which counted.
   */
  Map<Long, List<Report>> countedWindows(Connection c) {
    Map<Long, List<Report>> windows = new TreeMap<>();
    for (Report r : c.reports) {
      Emission e = r.clientRecord != null ? r.clientRecord : r.serverRecord;
      if (e == null) {
        continue;
      }
      long end = e.timestamp;
      windows
          .computeIfAbsent(Math.floorDiv(end, windowMs) * windowMs, k -> new ArrayList<>())
          .add(r);
    }
    return windows;
  }

  private static List<Tally> connectionCases(Result result, Connection c) {
    List<Tally> list = new ArrayList<>();
    list.add(result.cases.get("all"));
    list.add(result.cases.get(c.sides.label));
    if (c.longLived) {
      list.add(result.cases.get("long-lived"));
    }
    if (c.late) {
      list.add(result.cases.get("late"));
    }
    return list;
  }

  /** One end of one connection-window, by the rows holding its port (the worst of them). */
  EndScore judge(Connection c, boolean clientEnd, List<FlowAggregate> rows, List<Report> reports) {
    Tenure truth = clientEnd ? c.client : c.server;
    EndScore worst = null;
    for (FlowAggregate row : rows) {
      AttributionStatus status = clientEnd ? row.clientAttribution() : row.serverAttribution();
      Owner owner = clientEnd ? row.client() : row.server();
      EndScore score;
      if (status == AttributionStatus.OWNER && owner != null) {
        boolean same =
            truth.app.name().equals(owner.app())
                && Objects.equals(truth.identity.getWorkloadName(), owner.workloadName());
        score = new EndScore(same ? Outcome.CORRECT : Outcome.WRONG, null, row);
      } else {
        boolean knowable = knowable(truth, c.start, deadline(clientEnd, reports));
        score =
            new EndScore(
                knowable ? Outcome.KNOWABLE : Outcome.UNATTRIBUTABLE, String.valueOf(status), row);
      }
      if (worst == null || rank(score.outcome()) > rank(worst.outcome())) {
        worst = score;
      }
    }
    return worst;
  }

  private static int rank(Outcome o) {
    return switch (o) {
      case CORRECT -> 0;
      case UNATTRIBUTABLE -> 1;
      case KNOWABLE -> 2;
      case WRONG -> 3;
    };
  }

  /**
   * When the hold-back of the window's records that look this end up ended: the earliest produce
   * time of the other end's records (this end's own where the other end has none) plus the
   * hold-back. Long.MIN_VALUE when none was produced.
   */
  long deadline(boolean clientEnd, List<Report> reports) {
    long earliest = Long.MAX_VALUE;
    for (boolean other : new boolean[] {true, false}) {
      for (Report r : reports) {
        Emission e = (clientEnd == other) ? r.serverRecord : r.clientRecord;
        if (e != null && e.sentAt >= 0) {
          earliest = Math.min(earliest, e.sentAt);
        }
      }
      if (earliest != Long.MAX_VALUE) {
        return earliest + holdBackMs;
      }
    }
    return Long.MIN_VALUE;
  }

  /** Whether the true owner's evidence for T was produced by {@code deadline}. */
  static boolean knowable(Tenure truth, long t, long deadline) {
    if (truth.assign != null && truth.assign.sentAt >= 0 && truth.assign.sentAt <= deadline) {
      return true;
    }
    for (Heartbeat h : truth.heartbeats) {
      if (h.from() - START_TOLERANCE_MS <= t
          && t <= h.to()
          && h.record().sentAt >= 0
          && h.record().sentAt <= deadline) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whom a wrong end named: an earlier or a later owner of the IP (the one holding the IP at the
   * lookup time, else the nearest), or one that never held it; and whether the record that looked
   * it up put T outside the true owner's tenure (its host's clock, and for a server's record the
   * handshake): no collector can tell those from the truth.
   */
  private String wrongKind(Connection c, boolean clientEnd, EndScore score) {
    Tenure truth = clientEnd ? c.client : c.server;
    Owner answer = clientEnd ? score.row().client() : score.row().server();
    long lookup = lookupTime(c, clientEnd);
    List<Tenure> list = tenures.getOrDefault(truth.ip, List.of());
    int at = list.indexOf(truth);
    int named = -1;
    for (int i = 0; i < list.size(); i++) {
      if (i == at || !sameOwner(list.get(i), answer)) {
        continue;
      }
      if (list.get(i).covers(lookup)) {
        named = i;
        break;
      }
      if (named < 0 || Math.abs(i - at) < Math.abs(named - at)) {
        named = i;
      }
    }
    String whom =
        named < 0 ? "an owner the IP never had" : named < at ? "an earlier owner" : "a later owner";
    if (lookup < truth.from) {
      return whom + ", looked up before the true tenure began";
    }
    if (lookup >= truth.to) {
      return whom + ", looked up after the true tenure ended";
    }
    return whom;
  }

  /**
   * The time an end is looked up at: the connectionStartTime of the other end's record, on its
   * host's clock; with no such record, the end's own (it carries its label).
   */
  static long lookupTime(Connection c, boolean clientEnd) {
    Report first = c.reports.get(0);
    if (clientEnd && first.serverRecord != null) {
      return c.start + Math.max(1, (c.rttMicros + 999) / 1000) + c.server.host.skewMs();
    }
    if (!clientEnd && first.clientRecord != null) {
      return c.start + c.client.host.skewMs();
    }
    return c.start;
  }

  private static boolean sameOwner(Tenure t, Owner answer) {
    return answer != null
        && t.app.name().equals(answer.app())
        && Objects.equals(t.identity.getWorkloadName(), answer.workloadName());
  }

  private String diagnose(Connection c, boolean clientEnd, long window, EndScore score) {
    Tenure truth = clientEnd ? c.client : c.server;
    FlowAggregate row = score.row();
    Owner answer = clientEnd ? row.client() : row.server();
    StringBuilder s = new StringBuilder();
    s.append(clientEnd ? "client " : "server ")
        .append(truth.ip)
        .append(" T=")
        .append(relative(c.start))
        .append(" window ")
        .append(relative(window))
        .append(" conn ")
        .append(c.id)
        .append(' ')
        .append(c.aggregationKey())
        .append(" port ")
        .append(c.clientPort)
        .append(c.longLived ? " long-lived" : "")
        .append(c.late ? " late" : "")
        .append(" (")
        .append(c.sides.label)
        .append(")\n      truth ")
        .append(owner(truth))
        .append(", answer ")
        .append(answer == null ? "-" : answer.app() + "/" + answer.workloadName())
        .append(" [")
        .append(clientEnd ? row.clientAttribution() : row.serverAttribution())
        .append("], observedBy ")
        .append(row.observedBy());
    // The time the collector looks the end up at: the other end's record's connectionStartTime.
    Report firstReport = c.reports.get(0);
    boolean byOther =
        clientEnd ? firstReport.serverRecord != null : firstReport.clientRecord != null;
    s.append("\n      looked up at ")
        .append(byOther ? (clientEnd ? "server clock " : "client clock ") : "")
        .append(relative(lookupTime(c, clientEnd)));
    s.append("\n      tenures of ").append(truth.ip).append(':');
    List<Tenure> list = tenures.getOrDefault(truth.ip, List.of());
    int at = list.indexOf(truth);
    for (int i = Math.max(0, at - 2); i <= Math.min(list.size() - 1, at + 1); i++) {
      Tenure t = list.get(i);
      s.append("\n        ")
          .append(i == at ? "* " : "  ")
          .append(owner(t))
          .append(" [")
          .append(t.from < start - 600_000 ? "before" : relative(t.from))
          .append(", ")
          .append(t.stable() ? "after" : relative(t.to))
          .append(")");
      if (t.assign != null) {
        s.append(" ASSIGN produced ").append(sent(t.assign));
      }
      if (t.unassign != null) {
        s.append(", UNASSIGN produced ").append(sent(t.unassign));
      }
      if (t.host != null) {
        long first = Long.MAX_VALUE;
        for (Heartbeat h : t.heartbeats) {
          if (h.record().sentAt >= 0) {
            first = Math.min(first, h.record().sentAt);
          }
        }
        s.append(", sidecar clock ")
            .append(String.format("%+d ms", t.host.skewMs()))
            .append(", ")
            .append(t.heartbeats.size())
            .append(" records");
        if (first != Long.MAX_VALUE) {
          s.append(", first produced ").append(relative(first));
        }
      }
    }
    return s.toString();
  }

  /** A connection's reports in one window, and when each record was produced. */
  private String describe(Connection c, List<Report> reports) {
    StringBuilder s =
        new StringBuilder(
            String.format(
                "conn %d port %d %s%s%s T=%s, reports ending",
                c.id,
                c.clientPort,
                c.sides.label,
                c.longLived ? " long-lived" : "",
                c.late ? " late" : "",
                relative(c.start)));
    for (Report r : reports) {
      s.append(' ').append(relative(r.to)).append(" (");
      if (r.clientRecord != null) {
        s.append("client record produced ").append(sent(r.clientRecord));
      }
      if (r.serverRecord != null) {
        s.append(r.clientRecord != null ? ", " : "")
            .append("server record produced ")
            .append(sent(r.serverRecord));
      }
      s.append(')');
    }
    return s.toString();
  }

  private String describe(ArrivedRow arrived) {
    FlowAggregate a = arrived.row();
    return String.format(
        "ports %s: %d connections, %d records, %d/%d bytes, client %s [%s], server %s [%s],"
            + " observedBy %s, seen %s to %s, arrived %s",
        a.ephemeralPorts(),
        a.connections(),
        a.flowRecords(),
        a.bytesClientToServer(),
        a.bytesServerToClient(),
        a.client() == null ? "-" : a.client().app() + "/" + a.client().workloadName(),
        a.clientAttribution(),
        a.server() == null ? "-" : a.server().app() + "/" + a.server().workloadName(),
        a.serverAttribution(),
        a.observedBy(),
        relative(a.firstSeen()),
        relative(a.lastSeen()),
        relative(arrived.arrivedAt()));
  }

  private static String owner(Tenure t) {
    return t.app.name() + "/" + t.identity.getWorkloadName() + " (" + t.app.kind().label + ")";
  }

  private String sent(Emission e) {
    return e.sentAt < 0 ? "never" : relative(e.sentAt);
  }

  private String relative(long t) {
    return String.format("%+.3fs", (t - start) / 1000.0);
  }

  private String relativeWindows(Set<Long> windows) {
    List<String> out = new ArrayList<>();
    new TreeSet<>(windows).forEach(w -> out.add(relative(w)));
    return out.toString();
  }

  private static void note(List<String> list, String line) {
    if (list.size() < MAX_DIAGNOSTICS) {
      list.add(line);
    }
  }
}
