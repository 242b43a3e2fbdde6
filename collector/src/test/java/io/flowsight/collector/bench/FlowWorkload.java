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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A synthetic region, reproducible from a seed: client pods talking to a few thousand services, the
 * (client, service) pairs Zipf-distributed, random ephemeral ports, sidecars on most hosts (so many
 * connections are seen by both ends), Kubernetes identity events for the hosts without a sidecar,
 * some external services (unknown, or in a partner's CIDR block), a few failed connects, and IP
 * churn: some server IPs move to another app in the middle of the run.
 */
final class FlowWorkload {

  /** What the region looks like. */
  record Params(
      int clients,
      int clientApps,
      int services,
      int serverApps,
      int dependenciesPerClient,
      double zipfExponent,
      double clientSidecars,
      double serverSidecars,
      double externalServices,
      double churn,
      double failedConnects,
      int flowsPerSecond,
      long seed) {

    static Params defaults() {
      return new Params(10_000, 500, 3_000, 300, 20, 1.0, 0.9, 0.6, 0.03, 0.01, 0.02, 20_000, 7);
    }
  }

  /** What the generated data holds, for the comparison with 5-tuple aggregation. */
  record Stats(
      long records,
      long connections,
      long bothEnds,
      long identityEvents,
      long fiveTupleRows,
      long fourTupleRows,
      long windows) {}

  private static final int[] PORTS = {443, 8080, 8443, 5432, 6379, 9092, 3306, 50051};

  private final Params p;
  private final Random random;
  private final long windowMs;
  private final long t0;
  private final long tMove;
  private final long spanMs;

  private final String[] clientIp;
  private final Identity[] clientOwner;
  private final boolean[] clientSidecar;
  private final int[] nextPort;
  private final String[] serverIp;
  private final int[] servicePort;
  private final Identity[] serverOwner;
  private final Identity[] serverOwnerAfterMove;
  private final boolean[] serverSidecar;
  private final boolean[] serverExternal;
  private final int[][] dependencies;
  private final int[] pairOrder;
  private final double[] zipfCdf;

  /**
   * @param totalRecords how many flow records the run produces (both ends' records counted)
   * @param end event time of the last flow: the run's flows end in the span before it
   */
  FlowWorkload(Params params, long totalRecords, Instant end, long windowMs) {
    this.p = params;
    this.random = new Random(params.seed());
    this.windowMs = windowMs;
    this.spanMs = Math.max(1000, totalRecords * 1000 / Math.max(1, params.flowsPerSecond()));
    this.t0 = end.toEpochMilli() - spanMs;
    this.tMove = t0 + spanMs / 2;

    clientIp = new String[p.clients()];
    clientOwner = new Identity[p.clients()];
    clientSidecar = new boolean[p.clients()];
    nextPort = new int[p.clients()];
    for (int c = 0; c < p.clients(); c++) {
      clientIp[c] = "10.0." + (c / 250) + "." + (1 + c % 250);
      clientOwner[c] = identity("client-" + (c % p.clientApps()), c);
      clientSidecar[c] = random.nextDouble() < p.clientSidecars();
      nextPort[c] = 32768 + random.nextInt(28232);
    }
    serverIp = new String[p.services()];
    servicePort = new int[p.services()];
    serverOwner = new Identity[p.services()];
    serverOwnerAfterMove = new Identity[p.services()];
    serverSidecar = new boolean[p.services()];
    serverExternal = new boolean[p.services()];
    for (int s = 0; s < p.services(); s++) {
      int app = s % p.serverApps();
      servicePort[s] = PORTS[app % PORTS.length];
      serverExternal[s] = random.nextDouble() < p.externalServices();
      if (serverExternal[s]) {
        // Half in a partner's block the CIDR tables know, half on the open internet.
        serverIp[s] = (s % 2 == 0 ? "203.0.113." : "198.51.100.") + (1 + s % 250);
        continue;
      }
      serverIp[s] = "10.64." + (s / 250) + "." + (1 + s % 250);
      serverOwner[s] = identity("service-" + app, s);
      serverSidecar[s] = random.nextDouble() < p.serverSidecars();
      if (random.nextDouble() < p.churn()) {
        serverOwnerAfterMove[s] = identity("service-" + ((app + 1) % p.serverApps()), s + 7);
      }
    }
    // Each client talks to a few services, popular ones more often.
    double[] serviceCdf = zipfCdf(p.services(), 1.0);
    dependencies = new int[p.clients()][p.dependenciesPerClient()];
    for (int c = 0; c < p.clients(); c++) {
      for (int d = 0; d < p.dependenciesPerClient(); d++) {
        dependencies[c][d] = sample(serviceCdf);
      }
    }
    int pairs = p.clients() * p.dependenciesPerClient();
    pairOrder = new int[pairs];
    for (int i = 0; i < pairs; i++) {
      pairOrder[i] = i;
    }
    for (int i = pairs - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int tmp = pairOrder[i];
      pairOrder[i] = pairOrder[j];
      pairOrder[j] = tmp;
    }
    zipfCdf = zipfCdf(pairs, p.zipfExponent());
  }

  long startMillis() {
    return t0;
  }

  /** The identity events of the hosts without a sidecar (and of the moves), keyed by IP/block. */
  List<Map.Entry<String, IpIdentityChange>> identityEvents() {
    List<Map.Entry<String, IpIdentityChange>> events = new ArrayList<>();
    Instant before = Instant.ofEpochMilli(t0 - 3_600_000);
    events.add(
        Map.entry(
            "203.0.113.0/24",
            change(IdentityAction.ASSIGN, "203.0.113.0", 24, identity("partner-api", 0), before)));
    for (int c = 0; c < p.clients(); c++) {
      if (!clientSidecar[c]) {
        events.add(
            Map.entry(
                clientIp[c],
                change(IdentityAction.ASSIGN, clientIp[c], null, clientOwner[c], before)));
      }
    }
    for (int s = 0; s < p.services(); s++) {
      if (serverExternal[s]) {
        continue;
      }
      if (!serverSidecar[s]) {
        events.add(
            Map.entry(
                serverIp[s],
                change(IdentityAction.ASSIGN, serverIp[s], null, serverOwner[s], before)));
      }
      if (serverOwnerAfterMove[s] != null) {
        Instant move = Instant.ofEpochMilli(tMove);
        events.add(
            Map.entry(
                serverIp[s],
                change(IdentityAction.UNASSIGN, serverIp[s], null, serverOwner[s], move)));
        events.add(
            Map.entry(
                serverIp[s],
                change(IdentityAction.ASSIGN, serverIp[s], null, serverOwnerAfterMove[s], move)));
      }
    }
    return events;
  }

  /**
   * Generates {@code totalRecords} flow records in event-time order, handing each to {@code sink}
   * with its key (the local IP's text).
   */
  Stats generate(long totalRecords, BiConsumer<String, FlowRecord> sink) {
    long records = 0;
    long connections = 0;
    long both = 0;
    Set<Long> fiveTuples = new HashSet<>();
    Set<Long> fourTuples = new HashSet<>();
    Set<Long> windows = new HashSet<>();
    while (records < totalRecords) {
      int pair = pairOrder[sample(zipfCdf)];
      int c = pair / p.dependenciesPerClient();
      int s = dependencies[c][pair % p.dependenciesPerClient()];
      boolean clientSees = clientSidecar[c];
      boolean serverSees = serverSidecar[s] && !serverExternal[s];
      if (!clientSees && !serverSees) {
        continue; // nobody reports this connection
      }
      boolean failed = clientSees && random.nextDouble() < p.failedConnects();
      if (failed) {
        serverSees = false; // the server never accepted it
      }
      long end = t0 + records * spanMs / Math.max(1, totalRecords) + random.nextInt(50);
      long duration =
          failed ? 1 + random.nextInt(3000) : (long) Math.exp(random.nextGaussian() * 1.5 + 5);
      long start = end - Math.min(duration, 60_000);
      if (serverOwnerAfterMove[s] != null && start < tMove && end >= tMove) {
        end = tMove - 1; // the old owner's connections end when it gives the IP up
        start = Math.min(start, end - 1);
      }
      // Like the kernel: each client walks its ephemeral range from a random start, so a 5-tuple
      // is not reused while its previous connection could still be in TIME_WAIT.
      nextPort[c] = 32768 + (nextPort[c] - 32768 + 1 + random.nextInt(4)) % 28232;
      int port = nextPort[c];
      long c2s = failed ? 0 : (long) Math.exp(random.nextGaussian() * 2 + 7);
      long s2c = failed ? 0 : (long) Math.exp(random.nextGaussian() * 2 + 9);
      int rtt = failed ? 0 : 100 + random.nextInt(20_000);
      Identity server =
          start >= tMove && serverOwnerAfterMove[s] != null
              ? serverOwnerAfterMove[s]
              : serverOwner[s];
      connections++;
      long window = Math.floorDiv(end, windowMs);
      windows.add(window);
      fiveTuples.add(mix(window, c, s, failed ? 0 : port));
      fourTuples.add(mix(window, c, s, -1));
      if (clientSees) {
        FlowRecord r =
            record(Side.CLIENT, c, port, s, start, end, c2s, s2c, rtt, clientOwner[c])
                .setKind(failed ? FlowKind.FAILED_CONNECT : FlowKind.CLOSED)
                .setLocalPort(failed ? 0 : port)
                .build();
        sink.accept(clientIp[c], r);
        records++;
      }
      if (serverSees && records < totalRecords) {
        // The server's start is the end of the handshake, one round trip later.
        long serverStart = start + Math.max(1, rtt / 1000);
        FlowRecord r =
            record(
                    Side.SERVER,
                    c,
                    port,
                    s,
                    serverStart,
                    Math.max(end, serverStart),
                    c2s,
                    s2c,
                    rtt,
                    server)
                .build();
        sink.accept(serverIp[s], r);
        records++;
        if (clientSees) {
          both++;
        }
      }
    }
    long events = identityEvents().size();
    return new Stats(
        records, connections, both, events, fiveTuples.size(), fourTuples.size(), windows.size());
  }

  private FlowRecord.Builder record(
      Side side,
      int c,
      int port,
      int s,
      long start,
      long end,
      long c2s,
      long s2c,
      int rtt,
      Identity local) {
    boolean client = side == Side.CLIENT;
    return FlowRecord.newBuilder()
        .setObserverId(client ? "host-" + clientIp[c] : "host-" + serverIp[s])
        .setSidecarRunId("bench")
        .setSequence(0)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setAddressFamily(AddressFamily.IPV4)
        .setLocalIp(buffer(client ? clientIp[c] : serverIp[s]))
        .setLocalPort(client ? port : servicePort[s])
        .setRemoteIp(buffer(client ? serverIp[s] : clientIp[c]))
        .setRemotePort(client ? servicePort[s] : port)
        .setSide(side)
        .setServicePort(servicePort[s])
        .setConnectionStartTime(Instant.ofEpochMilli(start))
        .setStartTime(Instant.ofEpochMilli(start))
        .setEndTime(Instant.ofEpochMilli(end))
        .setBytesSent(client ? c2s : s2c)
        .setBytesReceived(client ? s2c : c2s)
        .setSegmentsSent(1 + (client ? c2s : s2c) / 1400)
        .setSegmentsReceived(1 + (client ? s2c : c2s) / 1400)
        .setRetransmits(random.nextInt(50) == 0 ? 1 : 0)
        .setSrttMicros(rtt)
        .setRttVarMicros(rtt / 4)
        .setCongestionWindow(10)
        .setConnectLatencyMicros(client ? (long) rtt : null)
        .setLocalIdentity(client ? (clientSidecar[c] ? local : null) : local);
  }

  private static Identity identity(String app, int instance) {
    return Identity.newBuilder()
        .setApp(app)
        .setCluster("prod-east")
        .setNamespace("default")
        .setWorkloadKind("Deployment")
        .setWorkloadName(app)
        .setInstanceId(app + "-" + Integer.toHexString(instance))
        .setNode("node-" + (instance % 200))
        .setZone("us-east-1" + (char) ('a' + instance % 3))
        .setRegion("us-east-1")
        .setAccount("123456789012")
        .setLabels(Map.of("team", "team-" + (app.hashCode() & 15)))
        .build();
  }

  private static IpIdentityChange change(
      IdentityAction action, String ip, Integer prefix, Identity who, Instant at) {
    return IpIdentityChange.newBuilder()
        .setAddressFamily(AddressFamily.IPV4)
        .setIp(buffer(ip))
        .setPrefixLength(prefix)
        .setAction(action)
        .setIdentity(who)
        .setEventTime(at)
        .setSource("kubernetes")
        .setSourceInstance("prod-east")
        .build();
  }

  private static ByteBuffer buffer(String ip) {
    return ByteBuffer.wrap(IpAddresses.parse(ip));
  }

  private static long mix(long window, int c, int s, int port) {
    long h = window * 0x9E3779B97F4A7C15L;
    h = (h ^ c) * 0xBF58476D1CE4E5B9L;
    h = (h ^ s) * 0x94D049BB133111EBL;
    h = (h ^ port) * 0x9E3779B97F4A7C15L;
    return h ^ (h >>> 31);
  }

  private static double[] zipfCdf(int n, double exponent) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += 1.0 / Math.pow(i + 1, exponent);
      cdf[i] = sum;
    }
    for (int i = 0; i < n; i++) {
      cdf[i] /= sum;
    }
    return cdf;
  }

  private int sample(double[] cdf) {
    int i = Arrays.binarySearch(cdf, random.nextDouble());
    return Math.min(cdf.length - 1, i >= 0 ? i : -i - 1);
  }
}
