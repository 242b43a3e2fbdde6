package io.flowsight.collector.bench;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * A region whose IPs change owner every few seconds, with the exact truth of who owned which IP
 * when: the workload of {@link AttributionBenchmark}. Deterministic from the seed (and the start,
 * which the benchmark puts on a window boundary); no Kafka here, only what to produce when.
 *
 * <h2>The world</h2>
 *
 * <ul>
 *   <li>20 apps of three kinds: Kubernetes apps (a sidecar on the node labels the pod's records,
 *       and the Kubernetes source publishes ASSIGN/UNASSIGN events; every pod is a new owner with
 *       its own name, in {@code workloadName} and {@code instanceId}), VM apps (a sidecar on the
 *       VM, no events; every VM a new instance) and managed services (events from the cloud
 *       inventory, no sidecar); plus apps of a fourth kind that are never published anywhere (no
 *       sidecar, no event): their ends are unattributable by definition.
 *   <li>300 IPs, 60 of them IPv6, half in the pod network (Kubernetes apps), half in a VPC subnet
 *       (the other kinds). 60 % change owner every 4–20 s (uniform); between two owners the IP is
 *       free for 0 s, 1–5 s or 8–15 s (a third each). The others keep one owner for the whole run.
 *   <li>Identity events carry the true time as {@code eventTime} and are delivered 0–30 s later (80
 *       %: 0–5 s, 20 %: 5–30 s), so they arrive reordered.
 *   <li>Every sidecar host has a clock off by up to ±300 ms; it applies to every time it writes
 *       (the records' times, the produce-time header). The truth is by true time.
 * </ul>
 *
 * <h2>The connections</h2>
 *
 * {@code rate} a second, for {@code seconds}: a client and a server IP of the same family, both
 * owned at the true start T, at least one with a sidecar; the service port is the server app's; a
 * client port unique per client IP over the run. Short connections (50 ms–2 s) end before either
 * owner's tenure does (a pod's connections die with it); each end with a sidecar reports a CLOSED
 * record (the server's connection start is the handshake's end, T + RTT) produced 0–1 s after the
 * close. 10 % of the connections between two sidecars lose one side's record (one-sided); 3 % have
 * records produced 1–5 minutes late; 3 % are long-lived (2–4 minutes, INTERIM records every 30 s,
 * then CLOSED) between a sidecar on an IP that keeps its owner and a server that may change owner
 * while the connection lasts: every window of such a connection belongs to the owners at T. Reports
 * are kept 301 ms away from a window boundary, so that both hosts' clocks put a report in the same
 * window and which end's record counts never changes the window.
 *
 * <p>Plus a handful of poison records (undecodable, invalid, mis-keyed), each with the dead-letter
 * reason it must get.
 */
final class ChurnWorkload {

  /** How an app's IPs are known to the collector. */
  enum Kind {
    KUBERNETES("K8s", true, true),
    VM("VM", true, false),
    MANAGED("managed", false, true),
    UNPUBLISHED("unpublished", false, false);

    final String label;
    final boolean sidecar;
    final boolean events;

    Kind(String label, boolean sidecar, boolean events) {
      this.label = label;
      this.sidecar = sidecar;
      this.events = events;
    }
  }

  /** An application; {@code workloadKind} and {@code namespace} as its identity source says. */
  record App(String name, Kind kind, int servicePort, String namespace, String workloadKind) {}

  /** The benchmark's knobs. */
  record Params(int seconds, double rate, long seed, long windowMs) {
    Params {
      if (seconds < 1) {
        throw new IllegalArgumentException("--seconds must be at least 1, not " + seconds);
      }
      if (!(rate > 0) || rate > 10_000) {
        throw new IllegalArgumentException("--rate must be above 0 and at most 10000, not " + rate);
      }
      if (windowMs < 1000) {
        throw new IllegalArgumentException("the window must be at least 1 s, not " + windowMs);
      }
    }
  }

  static final int IPS = 300;
  static final int IPV6 = 60;
  static final double CHURNING = 0.6;
  static final double ONE_SIDED = 0.10;
  static final double LATE = 0.03;
  static final double LONG_LIVED = 0.03;
  static final long INTERIM_INTERVAL_MS = 30_000;
  static final long MAX_SKEW_MS = 300;

  /** Reports stay this far from a window boundary (more than twice the largest skew apart). */
  static final long BOUNDARY_MARGIN_MS = MAX_SKEW_MS + 1;

  static final String REGION = "eu-west-1";
  static final String ACCOUNT = "424242424242";
  static final String CLUSTER = "prod-eu-west-1";

  static final List<App> APPS =
      List.of(
          new App("frontend", Kind.KUBERNETES, 8080, "web", "Deployment"),
          new App("checkout", Kind.KUBERNETES, 8080, "shop", "Deployment"),
          new App("cart", Kind.KUBERNETES, 8080, "shop", "Deployment"),
          new App("catalog", Kind.KUBERNETES, 8080, "shop", "Deployment"),
          new App("search", Kind.KUBERNETES, 9200, "shop", "StatefulSet"),
          new App("recommendations", Kind.KUBERNETES, 50051, "shop", "Deployment"),
          new App("payments", Kind.KUBERNETES, 8443, "payments", "Deployment"),
          new App("fraud-scoring", Kind.KUBERNETES, 50051, "payments", "Deployment"),
          new App("notifications", Kind.KUBERNETES, 8080, "platform", "Deployment"),
          new App("billing-legacy", Kind.VM, 8443, "legacy", "VirtualMachine"),
          new App("ldap", Kind.VM, 636, "legacy", "VirtualMachine"),
          new App("sftp-gateway", Kind.VM, 22, "legacy", "VirtualMachine"),
          new App("erp-connector", Kind.VM, 8443, "legacy", "VirtualMachine"),
          new App("license-server", Kind.VM, 27000, "legacy", "VirtualMachine"),
          new App("orders-db", Kind.MANAGED, 5432, null, "RDSInstance"),
          new App("sessions-cache", Kind.MANAGED, 6379, null, "ElastiCacheNode"),
          new App("events-kafka", Kind.MANAGED, 9092, null, "MSKBroker"),
          new App("internal-lb", Kind.MANAGED, 443, null, "LoadBalancer"),
          new App("partner-vpn", Kind.UNPUBLISHED, 443, null, "Appliance"),
          new App("lab-workstation", Kind.UNPUBLISHED, 22, null, "Host"));

  // ---- the truth ---------------------------------------------------------------------------

  /** A sidecar host: its run id (sequence numbers are per run and local IP) and clock error. */
  record Host(String id, String runId, long skewMs, String zone) {}

  /** One record to produce, and (once the benchmark sent it) when and where it went. */
  static final class Emission {
    enum Target {
      FLOWS,
      IDENTITIES
    }

    final Target target;
    final String key;
    final FlowRecord flow;
    final IpIdentityChange change;

    /** Raw value bytes (poison); null with {@code tombstone} for a record without a value. */
    final byte[] raw;

    final boolean tombstone;

    /** The Kafka timestamp (flows: the record's endTime); null: the producer's clock. */
    final Long timestamp;

    /** The sidecar that sends it (its clock stamps the produce-time header); null: a source. */
    final Host host;

    final long scheduledAt;

    /** Poison: the dead-letter reason it must get; null for a good record. */
    final String expectedDeadLetter;

    final String description;
    int order;

    volatile long sentAt = -1;
    volatile int partition = -1;
    volatile long offset = -1;

    Emission(
        Target target,
        String key,
        FlowRecord flow,
        IpIdentityChange change,
        byte[] raw,
        boolean tombstone,
        Long timestamp,
        Host host,
        long scheduledAt,
        String expectedDeadLetter,
        String description) {
      this.target = target;
      this.key = key;
      this.flow = flow;
      this.change = change;
      this.raw = raw;
      this.tombstone = tombstone;
      this.timestamp = timestamp;
      this.host = host;
      this.scheduledAt = scheduledAt;
      this.expectedDeadLetter = expectedDeadLetter;
      this.description = description;
    }

    static Emission flow(String key, FlowRecord r, Host host, long at) {
      return new Emission(
          Target.FLOWS,
          key,
          r,
          null,
          null,
          false,
          r.getEndTime().toEpochMilli(),
          host,
          at,
          null,
          null);
    }

    static Emission change(IpIdentityChange c, long at) {
      String key = IpAddresses.toText(c.getIp());
      if (c.getPrefixLength() != null) {
        key += "/" + c.getPrefixLength();
      }
      return new Emission(Target.IDENTITIES, key, null, c, null, false, null, null, at, null, null);
    }

    /** Produced (the benchmark's send time), or -1 when it never was. */
    long sent() {
      return sentAt;
    }
  }

  /** A first-hand claim: a record of the owner's sidecar with this IP as local IP. */
  record Heartbeat(long from, long to, Emission record) {}

  /** One owner's time on one IP: [from, to), true times. */
  static final class Tenure {
    final String ip;
    final int index;
    final App app;
    final Identity identity;
    final long from;
    final long to;

    /** The sidecar host labelling its records; null for kinds without a sidecar. */
    final Host host;

    Emission assign;
    Emission unassign;
    final List<Heartbeat> heartbeats = new ArrayList<>();

    Tenure(String ip, int index, App app, Identity identity, long from, long to, Host host) {
      this.ip = ip;
      this.index = index;
      this.app = app;
      this.identity = identity;
      this.from = from;
      this.to = to;
      this.host = host;
    }

    boolean covers(long t) {
      return from <= t && t < to;
    }

    boolean stable() {
      return to == Long.MAX_VALUE;
    }
  }

  /** One period a connection's records cover: [from, to], true times. */
  static final class Report {
    final long from;
    final long to;
    final boolean closes;
    final long bytesClientToServer;
    final long bytesServerToClient;
    Emission clientRecord;
    Emission serverRecord;

    Report(long from, long to, boolean closes, long c2s, long s2c) {
      this.from = from;
      this.to = to;
      this.closes = closes;
      this.bytesClientToServer = c2s;
      this.bytesServerToClient = s2c;
    }
  }

  /** How many ends reported a connection. */
  enum Sides {
    BOTH("both-sided"),
    ONE_NO_SIDECAR("one-sided (no sidecar at the other end)"),
    ONE_DROPPED("one-sided (other end's record dropped)");

    final String label;

    Sides(String label) {
      this.label = label;
    }
  }

  /** One TCP connection and what was produced about it. */
  static final class Connection {
    final int id;
    final String clientIp;
    final String serverIp;
    final int servicePort;
    final int clientPort;
    final long start;
    final long close;
    final int rttMicros;
    final Tenure client;
    final Tenure server;
    final boolean longLived;
    final Sides sides;
    boolean late;
    final List<Report> reports = new ArrayList<>();

    Connection(
        int id,
        String clientIp,
        String serverIp,
        int servicePort,
        int clientPort,
        long start,
        long close,
        int rttMicros,
        Tenure client,
        Tenure server,
        boolean longLived,
        Sides sides) {
      this.id = id;
      this.clientIp = clientIp;
      this.serverIp = serverIp;
      this.servicePort = servicePort;
      this.clientPort = clientPort;
      this.start = start;
      this.close = close;
      this.rttMicros = rttMicros;
      this.client = client;
      this.server = server;
      this.longLived = longLived;
      this.sides = sides;
    }

    /** {@code PROTOCOL|clientIp|serverIp|servicePort}, the output's key. */
    String aggregationKey() {
      return "TCP|" + clientIp + "|" + serverIp + "|" + servicePort;
    }
  }

  // ---- the generated world -----------------------------------------------------------------

  final Params params;

  /** True time 0 of the run, epoch ms (a window boundary). */
  final long start;

  /** Connections start in [start + 2 s, start + seconds); churn goes on until this. */
  final long churnEnd;

  final Map<String, List<Tenure>> tenures = new LinkedHashMap<>();
  final List<Connection> connections = new ArrayList<>();
  final List<Emission> poison = new ArrayList<>();

  /** Everything to produce, in send order. */
  final List<Emission> emissions = new ArrayList<>();

  /** Connections not made: no pair of owners that fits was found at their time. */
  int skipped;

  private final Random random;
  private final List<String> ips = new ArrayList<>();
  private final Map<String, Boolean> podNetwork = new HashMap<>();
  private final List<Host> nodes = new ArrayList<>();
  private final Map<App, String> replicaSetHash = new HashMap<>();
  private final Map<String, Integer> nextPort = new HashMap<>();
  private int order;

  ChurnWorkload(Params params, long start) {
    this.params = params;
    this.start = start;
    this.random = new Random(params.seed());
    long lastStart = start + params.seconds() * 1000L;
    this.churnEnd = lastStart + 4 * 60_000 + 5_000;
    addresses();
    for (int n = 0; n < 12; n++) {
      String name =
          "ip-10-0-" + (16 * (n % 3)) + "-" + (11 + n) + "." + REGION + ".compute.internal";
      nodes.add(new Host(name, uuid(), skew(), REGION + (char) ('a' + n % 3)));
    }
    for (App app : APPS) {
      replicaSetHash.put(app, randomName(10));
    }
    for (String ip : ips) {
      churn(ip);
    }
    connections(lastStart);
    poison(lastStart);
    emissions.sort(
        Comparator.comparingLong((Emission e) -> e.scheduledAt).thenComparingInt(e -> e.order));
    numberRecords();
  }

  /** The owner of {@code ip} at true time {@code t}, or null. */
  Tenure ownerAt(String ip, long t) {
    for (Tenure tenure : tenures.getOrDefault(ip, List.of())) {
      if (tenure.covers(t)) {
        return tenure;
      }
    }
    return null;
  }

  long windowOf(long t) {
    return Math.floorDiv(t, params.windowMs()) * params.windowMs();
  }

  String relative(long t) {
    return String.format("+%.3fs", (t - start) / 1000.0);
  }

  // ---- generation --------------------------------------------------------------------------

  private void addresses() {
    // Half in the pod network, half in a VPC subnet; 30 IPv6 in each.
    for (int i = 0; i < IPS; i++) {
      boolean pods = i < IPS / 2;
      int j = pods ? i : i - IPS / 2;
      boolean v6 = j >= (IPS - IPV6) / 2;
      int k = v6 ? j - (IPS - IPV6) / 2 : j;
      String text =
          pods
              ? (v6 ? "fd00:42:0:1::" + Integer.toHexString(0x10 + k) : "10.42.1." + (10 + k))
              : (v6 ? "fd00:10:0:20::" + Integer.toHexString(0x20 + k) : "10.10.20." + (20 + k));
      String ip = IpAddresses.canonical(text);
      ips.add(ip);
      podNetwork.put(ip, pods);
    }
  }

  private void churn(String ip) {
    boolean pods = podNetwork.get(ip);
    List<App> candidates =
        APPS.stream().filter(a -> (a.kind() == Kind.KUBERNETES) == pods).toList();
    List<Tenure> list = new ArrayList<>();
    tenures.put(ip, list);
    if (random.nextDouble() >= CHURNING) {
      App app = candidates.get(random.nextInt(candidates.size()));
      list.add(tenure(ip, 0, app, start - 3_600_000, Long.MAX_VALUE));
      return;
    }
    long from = start - random.nextInt(20_000);
    int index = 0;
    while (from < churnEnd) {
      long to = from + 4_000 + random.nextInt(16_001);
      App app = candidates.get(random.nextInt(candidates.size()));
      list.add(tenure(ip, index++, app, from, to));
      long gap =
          switch (random.nextInt(3)) {
            case 0 -> 0;
            case 1 -> 1_000 + random.nextInt(4_001);
            default -> 8_000 + random.nextInt(7_001);
          };
      from = to + gap;
    }
  }

  private Tenure tenure(String ip, int index, App app, long from, long to) {
    Host host = null;
    Identity identity;
    switch (app.kind()) {
      case KUBERNETES -> {
        host = nodes.get(random.nextInt(nodes.size()));
        String pod = app.name() + "-" + replicaSetHash.get(app) + "-" + randomName(5);
        if (app.workloadKind().equals("StatefulSet")) {
          pod = app.name() + "-" + random.nextInt(8) + "-" + randomName(5);
        }
        identity =
            Identity.newBuilder()
                .setApp(app.name())
                .setCluster(CLUSTER)
                .setNamespace(app.namespace())
                .setWorkloadKind(app.workloadKind())
                // The pod's own name: a new pod on the same IP is another answer in the output.
                .setWorkloadName(pod)
                .setInstanceId(pod)
                .setNode(host.id())
                .setZone(host.zone())
                .setRegion(REGION)
                .setAccount(ACCOUNT)
                .setLabels(Map.of("app.kubernetes.io/name", app.name(), "team", team(app)))
                .build();
      }
      case VM -> {
        String instance = "i-0" + hex(16);
        String zone = REGION + (char) ('a' + random.nextInt(3));
        host = new Host(instance, uuid(), skew(), zone);
        identity =
            Identity.newBuilder()
                .setApp(app.name())
                .setNamespace(app.namespace())
                .setWorkloadKind(app.workloadKind())
                .setWorkloadName(app.name())
                .setInstanceId(instance)
                .setNode(instance)
                .setZone(zone)
                .setRegion(REGION)
                .setAccount(ACCOUNT)
                .setLabels(Map.of("team", team(app)))
                .build();
      }
      default -> {
        String zone = REGION + (char) ('a' + random.nextInt(3));
        identity =
            Identity.newBuilder()
                .setApp(app.name())
                .setWorkloadKind(app.workloadKind())
                .setWorkloadName(app.name() + "-prod")
                .setInstanceId(app.name() + "-prod-" + randomName(6))
                .setZone(zone)
                .setRegion(REGION)
                .setAccount(ACCOUNT)
                .build();
      }
    }
    Tenure t = new Tenure(ip, index, app, identity, from, to, host);
    if (app.kind().events) {
      t.assign = add(Emission.change(change(IdentityAction.ASSIGN, t, from), deliver(from)));
      if (to <= churnEnd) {
        t.unassign = add(Emission.change(change(IdentityAction.UNASSIGN, t, to), deliver(to)));
      }
    }
    return t;
  }

  private IpIdentityChange change(IdentityAction action, Tenure t, long at) {
    boolean k8s = t.app.kind() == Kind.KUBERNETES;
    return IpIdentityChange.newBuilder()
        .setAddressFamily(family(t.ip))
        .setIp(ByteBuffer.wrap(IpAddresses.parse(t.ip)))
        .setPrefixLength(null)
        .setAction(action)
        .setIdentity(t.identity)
        .setEventTime(Instant.ofEpochMilli(at))
        .setSource(k8s ? "kubernetes" : "cloud")
        .setSourceInstance(k8s ? CLUSTER : "aws:" + ACCOUNT + "/" + REGION)
        .build();
  }

  /** When an event of true time {@code at} is delivered: 0–5 s later, one in five 5–30 s later. */
  private long deliver(long at) {
    long delay = random.nextDouble() < 0.8 ? random.nextInt(5_001) : 5_000 + random.nextInt(25_001);
    return Math.max(start, at + delay);
  }

  private void connections(long lastStart) {
    int n = (int) Math.round(params.seconds() * params.rate());
    double spacing = 1000.0 / params.rate();
    for (int i = 0; i < n; i++) {
      long t = start + 2_000 + (long) (i * spacing) + random.nextInt((int) Math.max(1, spacing));
      if (t >= lastStart) {
        t = lastStart - 1;
      }
      boolean longLived = random.nextDouble() < LONG_LIVED;
      boolean late = !longLived && random.nextDouble() < LATE;
      boolean v6 = random.nextDouble() < (double) IPV6 / IPS;
      Connection c = connection(i, t, longLived, v6);
      if (c == null) {
        skipped++;
        continue;
      }
      records(c, late);
      connections.add(c);
    }
  }

  private Connection connection(int id, long t, boolean longLived, boolean v6) {
    List<String> family = ips.stream().filter(ip -> ip.contains(":") == v6).toList();
    for (int attempt = 0; attempt < 500; attempt++) {
      String clientIp = family.get(random.nextInt(family.size()));
      String serverIp = family.get(random.nextInt(family.size()));
      Tenure client = ownerAt(clientIp, t);
      Tenure server = ownerAt(serverIp, t);
      if (clientIp.equals(serverIp) || client == null || server == null) {
        continue;
      }
      if (!client.app.kind().sidecar && !server.app.kind().sidecar) {
        continue; // nobody would see it
      }
      long close;
      if (longLived) {
        // The sidecars' IPs keep their owners; a server without a sidecar may move meanwhile.
        if (!client.app.kind().sidecar || !client.stable()) {
          continue;
        }
        if (server.app.kind().sidecar && !server.stable()) {
          continue;
        }
        close = offBoundary(t + 120_000 + random.nextInt(120_001));
      } else {
        close = offBoundary(t + 50 + random.nextInt(1_951));
        if (close >= client.to || close >= server.to) {
          continue; // a pod's connections end with it
        }
      }
      int rtt = 150 + random.nextInt(4_851);
      Sides sides;
      if (client.host != null && server.host != null) {
        sides = random.nextDouble() < ONE_SIDED ? Sides.ONE_DROPPED : Sides.BOTH;
      } else {
        sides = Sides.ONE_NO_SIDECAR;
      }
      int port = port(clientIp);
      return new Connection(
          id,
          clientIp,
          serverIp,
          server.app.servicePort(),
          port,
          t,
          close,
          rtt,
          client,
          server,
          longLived,
          sides);
    }
    return null;
  }

  private void records(Connection c, boolean late) {
    boolean clientReports = c.client.host != null;
    boolean serverReports = c.server.host != null;
    if (c.sides == Sides.ONE_DROPPED) {
      if (random.nextBoolean()) {
        clientReports = false;
      } else {
        serverReports = false;
      }
    }
    boolean clientLate = false;
    boolean serverLate = false;
    if (late) {
      while (!clientLate && !serverLate) {
        clientLate = clientReports && random.nextDouble() < 0.6;
        serverLate = serverReports && random.nextDouble() < 0.6;
      }
      c.late = true;
    }
    // The reporting periods: every 30 s while open, then the close.
    List<long[]> periods = new ArrayList<>();
    long from = c.start;
    if (c.longLived) {
      for (long tick = c.start + INTERIM_INTERVAL_MS;
          tick < c.close - 1_000;
          tick += INTERIM_INTERVAL_MS) {
        long at = offBoundary(tick);
        periods.add(new long[] {from, at});
        from = at;
      }
    }
    periods.add(new long[] {from, c.close});
    long rttMs = Math.max(1, (c.rttMicros + 999) / 1000);
    for (int k = 0; k < periods.size(); k++) {
      long[] p = periods.get(k);
      boolean closes = k == periods.size() - 1;
      long c2s = Math.min(50_000_000, (long) Math.exp(random.nextGaussian() * 1.5 + 6));
      long s2c = Math.min(200_000_000, (long) Math.exp(random.nextGaussian() * 2 + 8));
      Report report = new Report(p[0], p[1], closes, c2s, s2c);
      if (clientReports) {
        Host h = c.client.host;
        long produced =
            clientLate ? p[1] + 60_000 + random.nextInt(240_001) : p[1] + random.nextInt(1_001);
        FlowRecord r =
            record(
                    Side.CLIENT,
                    c,
                    h,
                    c.start + h.skewMs(),
                    p[0] + h.skewMs(),
                    p[1] + h.skewMs(),
                    c2s,
                    s2c,
                    c.client.identity)
                .setKind(closes ? FlowKind.CLOSED : FlowKind.INTERIM)
                .setConnectLatencyMicros(k == 0 ? (long) c.rttMicros : null)
                .build();
        report.clientRecord = add(Emission.flow(c.clientIp, r, h, produced));
        c.client.heartbeats.add(new Heartbeat(p[0], p[1], report.clientRecord));
      }
      if (serverReports) {
        Host h = c.server.host;
        long produced =
            serverLate ? p[1] + 60_000 + random.nextInt(240_001) : p[1] + random.nextInt(1_001);
        long serverStart = c.start + rttMs;
        long periodStart = k == 0 ? serverStart : p[0];
        FlowRecord r =
            record(
                    Side.SERVER,
                    c,
                    h,
                    serverStart + h.skewMs(),
                    periodStart + h.skewMs(),
                    p[1] + h.skewMs(),
                    s2c,
                    c2s,
                    c.server.identity)
                .setKind(closes ? FlowKind.CLOSED : FlowKind.INTERIM)
                .build();
        report.serverRecord = add(Emission.flow(c.serverIp, r, h, produced));
        c.server.heartbeats.add(new Heartbeat(periodStart, p[1], report.serverRecord));
      }
      c.reports.add(report);
    }
  }

  private FlowRecord.Builder record(
      Side side,
      Connection c,
      Host host,
      long connectionStart,
      long from,
      long to,
      long sent,
      long received,
      Identity local) {
    boolean client = side == Side.CLIENT;
    boolean k8s = (client ? c.client : c.server).app.kind() == Kind.KUBERNETES;
    return FlowRecord.newBuilder()
        .setObserverId(host.id())
        .setSidecarRunId(host.runId())
        .setSequence(0)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setAddressFamily(family(c.clientIp))
        .setLocalIp(ByteBuffer.wrap(IpAddresses.parse(client ? c.clientIp : c.serverIp)))
        .setLocalPort(client ? c.clientPort : c.servicePort)
        .setRemoteIp(ByteBuffer.wrap(IpAddresses.parse(client ? c.serverIp : c.clientIp)))
        .setRemotePort(client ? c.servicePort : c.clientPort)
        .setSide(side)
        .setServicePort(c.servicePort)
        .setConnectionStartTime(Instant.ofEpochMilli(connectionStart))
        .setStartTime(Instant.ofEpochMilli(from))
        .setEndTime(Instant.ofEpochMilli(Math.max(to, from)))
        .setBytesSent(sent)
        .setBytesReceived(received)
        .setSegmentsSent(2 + sent / 1_400)
        .setSegmentsReceived(2 + received / 1_400)
        .setRetransmits(random.nextInt(40) == 0 ? 1 : 0)
        .setSrttMicros(c.rttMicros)
        .setRttVarMicros(c.rttMicros / 4)
        .setCongestionWindow(10)
        .setConnectLatencyMicros(null)
        .setPid(client ? 1_000 + random.nextInt(30_000) : null)
        .setProcessName(client ? (k8s ? "java" : "python3") : null)
        .setCgroupId(client ? 4_000L + random.nextInt(1_000) : null)
        .setContainerId(client && k8s ? hex(64) : null)
        .setLocalIdentity(local)
        .setPartial(false);
  }

  /** Poison, each with the reason its dead letter must give. */
  private void poison(long lastStart) {
    Host host = new Host("poison-host", uuid(), 0, REGION + "a");
    String ip = "192.0.2.250";
    long span = Math.max(1, lastStart - start - 5_000);
    List<Emission> list = new ArrayList<>();
    FlowRecord good = poisonRecord(ip, host).build();
    list.add(
        raw(
            Emission.Target.FLOWS,
            ip,
            "{\"observerId\":\"not avro\"}".getBytes(StandardCharsets.UTF_8),
            host,
            "undecodable",
            "plain JSON"));
    byte[] header = {0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0};
    list.add(
        raw(
            Emission.Target.FLOWS,
            ip,
            concat(header, "avro-ish".getBytes(StandardCharsets.UTF_8)),
            host,
            "undecodable",
            "a schema id the registry does not know"));
    list.add(
        raw(Emission.Target.FLOWS, ip, new byte[] {0, 0, 0}, host, "undecodable", "truncated"));
    list.add(
        new Emission(
            Emission.Target.FLOWS,
            ip,
            null,
            null,
            null,
            true,
            null,
            host,
            0,
            "invalid",
            "a flow record without a value"));
    FlowRecord wrongPort = FlowRecord.newBuilder(good).setServicePort(8081).build();
    list.add(invalid(ip, wrongPort, host, "servicePort is not the remote port of a CLIENT record"));
    FlowRecord backwards =
        FlowRecord.newBuilder(good)
            .setEndTime(good.getStartTime().minusMillis(500))
            .setKind(FlowKind.CLOSED)
            .build();
    list.add(invalid(ip, backwards, host, "endTime before startTime"));
    FlowRecord serverFailed =
        FlowRecord.newBuilder(good)
            .setSide(Side.SERVER)
            .setKind(FlowKind.FAILED_CONNECT)
            .setLocalPort(443)
            .setRemotePort(40_000)
            .setServicePort(443)
            .build();
    list.add(invalid(ip, serverFailed, host, "a FAILED_CONNECT from a server"));
    list.add(
        raw(
            Emission.Target.IDENTITIES,
            ip,
            new byte[] {0, 0, 0, 0, 1, 2, 3},
            null,
            "undecodable",
            "identity change with a schema id and a cut body"));
    IpIdentityChange block =
        IpIdentityChange.newBuilder()
            .setAddressFamily(AddressFamily.IPV4)
            .setIp(ByteBuffer.wrap(IpAddresses.parse("192.0.2.77")))
            .setPrefixLength(24)
            .setAction(IdentityAction.ASSIGN)
            .setIdentity(Identity.newBuilder().setApp("partner-range").build())
            .setEventTime(Instant.ofEpochMilli(start))
            .setSource("static")
            .build();
    list.add(
        new Emission(
            Emission.Target.IDENTITIES,
            "192.0.2.77/24",
            null,
            block,
            null,
            false,
            null,
            null,
            0,
            "invalid",
            "a CIDR block with host bits set"));
    IpIdentityChange misKeyed =
        IpIdentityChange.newBuilder(block).setIp(ByteBuffer.wrap(IpAddresses.parse(ip))).build();
    misKeyed.setPrefixLength(null);
    list.add(
        new Emission(
            Emission.Target.IDENTITIES,
            "192.0.2.251",
            null,
            misKeyed,
            null,
            false,
            null,
            null,
            0,
            "key-mismatch",
            "an identity change keyed by another IP"));
    for (Emission e : list) {
      Emission timed =
          new Emission(
              e.target,
              e.key,
              e.flow,
              e.change,
              e.raw,
              e.tombstone,
              e.flow != null ? e.flow.getEndTime().toEpochMilli() : null,
              e.host,
              start + 5_000 + (long) (random.nextDouble() * span),
              e.expectedDeadLetter,
              e.description);
      poison.add(add(timed));
    }
  }

  private FlowRecord.Builder poisonRecord(String ip, Host host) {
    long t = start + 1_000;
    return FlowRecord.newBuilder()
        .setObserverId(host.id())
        .setSidecarRunId(host.runId())
        .setSequence(0)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setAddressFamily(AddressFamily.IPV4)
        .setLocalIp(ByteBuffer.wrap(IpAddresses.parse(ip)))
        .setLocalPort(40_000)
        .setRemoteIp(ByteBuffer.wrap(IpAddresses.parse("192.0.2.251")))
        .setRemotePort(443)
        .setSide(Side.CLIENT)
        .setServicePort(443)
        .setConnectionStartTime(Instant.ofEpochMilli(t))
        .setStartTime(Instant.ofEpochMilli(t))
        .setEndTime(Instant.ofEpochMilli(t + 100))
        .setBytesSent(1)
        .setBytesReceived(1)
        .setSegmentsSent(1)
        .setSegmentsReceived(1)
        .setRetransmits(0)
        .setSrttMicros(100)
        .setRttVarMicros(10)
        .setCongestionWindow(10)
        .setLocalIdentity(Identity.newBuilder().setApp("poison").build());
  }

  private static Emission raw(
      Emission.Target target,
      String key,
      byte[] value,
      Host host,
      String reason,
      String description) {
    return new Emission(target, key, null, null, value, false, null, host, 0, reason, description);
  }

  private static Emission invalid(String key, FlowRecord r, Host host, String description) {
    return new Emission(
        Emission.Target.FLOWS, key, r, null, null, false, null, host, 0, "invalid", description);
  }

  /** Numbers each sidecar run's records per local IP in send order, as a sidecar does. */
  private void numberRecords() {
    Map<String, Long> next = new HashMap<>();
    for (Emission e : emissions) {
      if (e.flow != null && e.expectedDeadLetter == null) {
        String series = e.flow.getSidecarRunId() + "|" + e.key;
        long n = next.merge(series, 1L, Long::sum) - 1;
        e.flow.setSequence(n);
      }
    }
  }

  private Emission add(Emission e) {
    e.order = order++;
    emissions.add(e);
    return e;
  }

  /** {@code t}, moved past a window boundary when it is within the margin of one. */
  long offBoundary(long t) {
    long w = params.windowMs();
    long m = Math.floorMod(t, w);
    if (m < BOUNDARY_MARGIN_MS) {
      return t + (BOUNDARY_MARGIN_MS - m);
    }
    if (m > w - BOUNDARY_MARGIN_MS) {
      return t + (w - m) + BOUNDARY_MARGIN_MS;
    }
    return t;
  }

  /** The next client port of {@code ip}: kernel-like steps through the ephemeral range. */
  private int port(String ip) {
    int p =
        nextPort.computeIfAbsent(ip, k -> 32_768 + random.nextInt(28_232)) + 1 + random.nextInt(3);
    if (p > 60_999) {
      p = 32_768 + (p - 61_000);
    }
    nextPort.put(ip, p);
    return p;
  }

  private long skew() {
    return -MAX_SKEW_MS + random.nextInt((int) (2 * MAX_SKEW_MS + 1));
  }

  private String uuid() {
    return new UUID(random.nextLong(), random.nextLong()).toString();
  }

  private String randomName(int n) {
    String alphabet = "bcdfghjklmnpqrstvwxz2456789";
    StringBuilder s = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      s.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return s.toString();
  }

  private String hex(int n) {
    StringBuilder s = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      s.append(Character.forDigit(random.nextInt(16), 16));
    }
    return s.toString();
  }

  private static String team(App app) {
    return "team-" + (app.namespace() == null ? "platform" : app.namespace());
  }

  static AddressFamily family(String ip) {
    return ip.contains(":") ? AddressFamily.IPV6 : AddressFamily.IPV4;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** The IPs, in generation order. */
  List<String> ips() {
    return Collections.unmodifiableList(ips);
  }
}
