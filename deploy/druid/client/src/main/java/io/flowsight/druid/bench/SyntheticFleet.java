package io.flowsight.druid.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A fleet's traffic as the collector hands it to Druid: per minute, one row per (client IP, server
 * IP, service port) that had connections in that minute, in the collector's JSON output format (the
 * columns of {@code deploy/druid/flows-supervisor.json}). Deterministic: the same {@link Shape}
 * gives the same rows, byte for byte, whatever the order the days are written in.
 *
 * <p>The skew is what a fleet has:
 *
 * <ul>
 *   <li>apps have Zipf-distributed sizes (exponent 0.8): with 1,000 apps and 50,000 IPs the largest
 *       has about 3,000 IPs and half the apps have fewer than 25;
 *   <li>each app calls a few others (1 + geometric, mean 6), picked by popularity (Zipf 1.0), so a
 *       few servers (the databases, the auth service) are called by most apps;
 *   <li>a pool of conversations (client IP, server IP, port), 20 per row a minute, has Zipf(1.0)
 *       activity: the heaviest are active every minute, the tail now and then. A minute holds about
 *       {@code rowsPerMinute} of them, more by day than by night (a daily cycle of ±35 %, UTC) and
 *       fewer on the weekend;
 *   <li>bytes are log-normal per connection; 3 % of app pairs fail now and then; RTT follows the
 *       zone pair (same zone, cross-zone, cross-region), retransmits too;
 *   <li>2 % of conversations have an end outside the fleet: NEVER_SEEN clients calling in, and
 *       CIDR-attributed servers (the internet) called out.
 * </ul>
 */
public final class SyntheticFleet {

  /**
   * What to generate.
   *
   * @param apps applications (1,000 for a fleet)
   * @param ips IP addresses, at least 2 per app (50,000)
   * @param days days of 1-minute rows
   * @param rowsPerMinute rows a minute at the daily mean (3,000)
   * @param seed seed of every random choice
   * @param startMs the first minute, epoch ms (a day's start, UTC)
   */
  public record Shape(int apps, int ips, int days, int rowsPerMinute, long seed, long startMs) {
    public Shape {
      if (apps < 2 || ips < 2L * apps || days < 1 || rowsPerMinute < 1) {
        throw new IllegalArgumentException(
            "need apps >= 2, ips >= 2 x apps, days >= 1, rows a minute >= 1: " + this);
      }
      if (startMs % DAY_MS != 0) {
        throw new IllegalArgumentException("startMs must be a day's start (UTC): " + startMs);
      }
    }
  }

  static final long MINUTE_MS = 60_000;
  static final long DAY_MS = 86_400_000;
  static final int CONVERSATIONS_PER_ROW = 20;
  static final int LISTED_PORTS = 16; // the collector lists at most --max-ports (64); fewer here
  private static final String[] REGIONS = {"us-east-1", "us-west-2", "eu-west-1"};
  private static final int ZONES_PER_REGION = 3;
  private static final int CLUSTERS_PER_REGION = 4;
  private static final int[] PORTS = {443, 8080, 8443, 5432, 6379, 9092, 3306, 9042, 11211, 50051};

  /** An application: its identity columns and its IPs (indexes into the IP tables). */
  record App(
      String name,
      String namespace,
      String workloadKind,
      String cluster,
      int region,
      String account,
      int[] ips,
      int port) {}

  /** A client IP calling a server IP on a port, with its activity and its pair's traits. */
  record Conversation(
      int clientApp, // -1: outside the fleet (NEVER_SEEN)
      int clientIp,
      int serverApp, // -1: outside the fleet (CIDR)
      int serverIp,
      int port,
      double activity, // probability of a row in a minute at the daily mean, at most 1
      boolean failing) {}

  private final Shape shape;
  private final List<App> apps = new ArrayList<>();
  private final int[] ipZone; // IP index -> zone index (region * ZONES_PER_REGION + zone)
  private final List<Conversation> conversations = new ArrayList<>();

  public SyntheticFleet(Shape shape) {
    this.shape = shape;
    SplittableRandom random = new SplittableRandom(shape.seed());
    ipZone = new int[shape.ips()];
    layOutApps(random);
    pickConversations(random);
  }

  public Shape shape() {
    return shape;
  }

  /** The name of app {@code rank} (0 the most called). */
  public static String appName(int rank) {
    return String.format("app-%04d", rank);
  }

  /** The IPs of each app, by app rank. */
  int[] appSizes() {
    return apps.stream().mapToInt(a -> a.ips().length).toArray();
  }

  /**
   * The most active application pair (its conversations' activity summed): client app, server app.
   */
  public String[] heaviestPair() {
    double[] weight = new double[shape.apps() * shape.apps()];
    int best = -1;
    for (Conversation c : conversations) {
      if (c.clientApp() >= 0 && c.serverApp() >= 0) {
        int k = c.clientApp() * shape.apps() + c.serverApp();
        weight[k] += c.activity();
        if (best < 0 || weight[k] > weight[best]) {
          best = k;
        }
      }
    }
    return new String[] {appName(best / shape.apps()), appName(best % shape.apps())};
  }

  /** A zone's name, e.g. us-east-1b. */
  public static String zoneName(int zone) {
    return REGIONS[zone / ZONES_PER_REGION] + (char) ('a' + zone % ZONES_PER_REGION);
  }

  private void layOutApps(SplittableRandom random) {
    int n = shape.apps();
    double[] size = new double[n];
    double total = 0;
    for (int i = 0; i < n; i++) {
      size[i] = Math.pow(i + 1, -0.8);
      total += size[i];
    }
    // Sizes are Zipf by a rank of their own: the most called app need not be the largest.
    int[] sizeRank = permutation(n, random);
    int spare = shape.ips() - 2 * n;
    int[] count = new int[n];
    int given = 0;
    for (int i = 0; i < n; i++) {
      count[i] = 2 + (int) (spare * size[sizeRank[i]] / total);
      given += count[i];
    }
    for (int i = 0; given < shape.ips(); i = (i + 1) % n, given++) {
      count[i]++;
    }
    int next = 0;
    for (int i = 0; i < n; i++) {
      int region = random.nextInt(REGIONS.length);
      String cluster = "prod-" + REGIONS[region] + "-" + (1 + random.nextInt(CLUSTERS_PER_REGION));
      int[] ips = new int[count[i]];
      for (int k = 0; k < ips.length; k++) {
        ips[k] = next++;
        ipZone[ips[k]] = region * ZONES_PER_REGION + random.nextInt(ZONES_PER_REGION);
      }
      apps.add(
          new App(
              appName(i),
              String.format("team-%02d", random.nextInt(60)),
              random.nextInt(10) == 0 ? "StatefulSet" : "Deployment",
              cluster,
              region,
              String.format("acct-%02d", random.nextInt(20)),
              ips,
              PORTS[random.nextInt(PORTS.length)]));
    }
  }

  private void pickConversations(SplittableRandom random) {
    int n = shape.apps();
    // Server popularity: Zipf(1.0) by app rank, as a cumulative table to sample from.
    double[] cumulative = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += 1.0 / (i + 1);
      cumulative[i] = sum;
    }
    List<int[]> pairs = new ArrayList<>(); // client app, server app
    List<Boolean> failing = new ArrayList<>();
    double weightSum = 0;
    List<Double> pairWeight = new ArrayList<>();
    for (int client = 0; client < n; client++) {
      int calls = 1 + geometric(random, 1.0 / 6);
      for (int k = 0; k < calls; k++) {
        int server = sample(cumulative, random.nextDouble() * sum);
        if (server == client) {
          continue;
        }
        pairs.add(new int[] {client, server});
        failing.add(random.nextInt(100) < 3);
        double w =
            Math.sqrt((double) apps.get(client).ips().length * apps.get(server).ips().length);
        pairWeight.add(w);
        weightSum += w;
      }
    }
    // 98 % of the pool inside the fleet, shared among the pairs by their weight (at least one
    // each); 2 % with an end outside: half NEVER_SEEN clients, half internet (CIDR) servers.
    int inside = shape.rowsPerMinute() * CONVERSATIONS_PER_ROW * 49 / 50;
    List<int[]> ends = new ArrayList<>(); // client app, client IP, server app, server IP, port
    List<Boolean> endsFailing = new ArrayList<>();
    for (int p = 0; p < pairs.size(); p++) {
      int[] pair = pairs.get(p);
      App client = apps.get(pair[0]);
      App server = apps.get(pair[1]);
      long possible = (long) client.ips().length * server.ips().length;
      long count =
          Math.min(possible, Math.max(1, Math.round(inside * pairWeight.get(p) / weightSum)));
      for (int k = 0; k < count; k++) {
        ends.add(
            new int[] {
              pair[0],
              client.ips()[random.nextInt(client.ips().length)],
              pair[1],
              server.ips()[random.nextInt(server.ips().length)],
              server.port()
            });
        endsFailing.add(failing.get(p));
      }
    }
    int outside = ends.size() / 49;
    for (int k = 0; k < outside; k++) {
      int app = sample(cumulative, random.nextDouble() * sum);
      int appIp = apps.get(app).ips()[random.nextInt(apps.get(app).ips().length)];
      int outsideIp = -1 - random.nextInt(1 << 20); // negative: an address outside the fleet
      ends.add(
          k % 2 == 0
              ? new int[] {-1, outsideIp, app, appIp, apps.get(app).port()}
              : new int[] {app, appIp, -1, outsideIp, 443});
      endsFailing.add(false);
    }
    // Activity: Zipf(1.0) by a random rank, scaled so that the expected rows a minute are
    // rowsPerMinute (a conversation has at most one row a minute).
    int[] rank = permutation(ends.size(), random);
    double[] zipf = new double[ends.size()];
    for (int i = 0; i < zipf.length; i++) {
      zipf[i] = 1.0 / (rank[i] + 1);
    }
    double scale = scaleFor(zipf, shape.rowsPerMinute());
    for (int i = 0; i < ends.size(); i++) {
      int[] e = ends.get(i);
      conversations.add(
          new Conversation(
              e[0], e[1], e[2], e[3], e[4], Math.min(1, zipf[i] * scale), endsFailing.get(i)));
    }
  }

  /** The factor s with sum(min(1, s * w)) = target, by bisection. */
  static double scaleFor(double[] weights, double target) {
    double low = 0;
    double high = 1;
    while (expected(weights, high) < target && high < 1e18) {
      high *= 2;
    }
    for (int i = 0; i < 100; i++) {
      double mid = (low + high) / 2;
      if (expected(weights, mid) < target) {
        low = mid;
      } else {
        high = mid;
      }
    }
    return high;
  }

  private static double expected(double[] weights, double scale) {
    double sum = 0;
    for (double w : weights) {
      sum += Math.min(1, w * scale);
    }
    return sum;
  }

  /** The daily and weekly cycle: 1 on average over a weekday, ±35 % over the day, 0.8 weekends. */
  static double cycle(long minuteMs) {
    double hour = (minuteMs % DAY_MS) / 3_600_000.0;
    long day = Math.floorDiv(minuteMs, DAY_MS); // 1970-01-01 was a Thursday
    boolean weekend = Math.floorMod(day + 3, 7) >= 5;
    return (weekend ? 0.8 : 1.0) * (1 + 0.35 * Math.sin(2 * Math.PI * (hour - 9) / 24));
  }

  /** The rows of day {@code day} (0-based), as JSON lines; returns how many. */
  public long writeDay(int day, OutputStream out) throws IOException {
    if (day < 0 || day >= shape.days()) {
      throw new IllegalArgumentException("no day " + day + " in " + shape.days());
    }
    long rows = 0;
    JsonFactory factory = new JsonFactory();
    try (JsonGenerator json = factory.createGenerator(out)) {
      json.setRootValueSeparator(new com.fasterxml.jackson.core.io.SerializedString("\n"));
      long first = shape.startMs() + day * DAY_MS;
      for (long t = first; t < first + DAY_MS; t += MINUTE_MS) {
        // A random stream per minute: a day's rows do not depend on the days written before.
        SplittableRandom random = new SplittableRandom(shape.seed() * 1_000_003L + t);
        double cycle = cycle(t);
        for (Conversation c : conversations) {
          double p = Math.min(1, c.activity() * cycle);
          if (random.nextDouble() < p) {
            writeRow(json, t, c, random);
            rows++;
          }
        }
      }
      json.writeRaw('\n');
    }
    return rows;
  }

  private void writeRow(JsonGenerator json, long minute, Conversation c, SplittableRandom random)
      throws IOException {
    // Connections in the minute: more for the heavier conversations.
    int connections = 1 + geometric(random, 1 / (1 + 4 * c.activity()));
    int failed = 0;
    if (c.failing() && random.nextInt(4) == 0) {
      failed = 1 + random.nextInt(connections);
    } else if (random.nextInt(1000) == 0) {
      failed = 1;
    }
    int established = connections - Math.min(failed, connections);
    long up = 0;
    long down = 0;
    for (int k = 0; k < established; k++) {
      up += (long) Math.exp(6.5 + 1.2 * gaussian(random));
      down += (long) Math.exp(8.5 + 1.8 * gaussian(random));
    }
    long segmentsUp = established * 3L + up / 1_400;
    long segmentsDown = established * 3L + down / 1_400;
    int clientZone = c.clientApp() >= 0 ? ipZone[c.clientIp()] : -1;
    int serverZone = c.serverApp() >= 0 ? ipZone[c.serverIp()] : -1;
    double rttMs;
    double retransmitRate;
    if (clientZone < 0 || serverZone < 0) {
      rttMs = 40;
      retransmitRate = 0.004;
    } else if (clientZone / ZONES_PER_REGION != serverZone / ZONES_PER_REGION) {
      rttMs = 65;
      retransmitRate = 0.002;
    } else if (clientZone != serverZone) {
      rttMs = 1.2;
      retransmitRate = 0.0005;
    } else {
      rttMs = 0.25;
      retransmitRate = 0.0001;
    }
    long segments = segmentsUp + segmentsDown;
    long retransmits = (long) (segments * retransmitRate * 2 * random.nextDouble());

    json.writeStartObject();
    json.writeNumberField("windowStart", minute);
    json.writeStringField("protocol", "TCP");
    json.writeStringField("addressFamily", "IPV4");
    json.writeStringField(
        "observedBy", c.clientApp() < 0 ? "SERVER" : c.serverApp() < 0 ? "CLIENT" : "BOTH");
    json.writeStringField("clientIp", ip(c.clientIp()));
    writeEnd(json, "client", c.clientApp(), clientZone, "NEVER_SEEN");
    json.writeStringField("serverIp", ip(c.serverIp()));
    writeEnd(json, "server", c.serverApp(), serverZone, "CIDR");
    json.writeNumberField("servicePort", c.port());
    json.writeNumberField(
        "flowRecords", c.clientApp() >= 0 && c.serverApp() >= 0 ? 2L * connections : connections);
    json.writeNumberField("connections", established);
    json.writeNumberField("failedConnections", failed);
    json.writeNumberField("bytesClientToServer", up);
    json.writeNumberField("bytesServerToClient", down);
    json.writeNumberField("segmentsClientToServer", established == 0 ? 0 : segmentsUp);
    json.writeNumberField("segmentsServerToClient", established == 0 ? 0 : segmentsDown);
    json.writeNumberField("retransmits", retransmits);
    if (established > 0) {
      long min = Long.MAX_VALUE;
      long max = 0;
      long sum = 0;
      for (int k = 0; k < established; k++) {
        long micros = (long) (rttMs * 1000 * (0.8 + 0.6 * random.nextDouble()));
        min = Math.min(min, micros);
        max = Math.max(max, micros);
        sum += micros;
      }
      json.writeNumberField("rttSumMicros", sum);
      json.writeNumberField("rttCount", established);
      json.writeNumberField("rttMinMicros", min);
      json.writeNumberField("rttMaxMicros", max);
    } else {
      json.writeNumberField("rttSumMicros", 0);
      json.writeNumberField("rttCount", 0);
    }
    int listed = Math.min(connections, LISTED_PORTS);
    int[] ports = new int[listed];
    for (int k = 0; k < listed; k++) {
      ports[k] = 32_768 + random.nextInt(28_232); // Linux's default ip_local_port_range
    }
    Arrays.sort(ports);
    json.writeArrayFieldStart("ephemeralPorts");
    int previous = -1;
    for (int port : ports) {
      if (port != previous) { // a list of distinct ports, as the collector keeps it
        json.writeNumber(port);
      }
      previous = port;
    }
    json.writeEndArray();
    json.writeNumberField("ephemeralPortsOverflow", connections - listed);
    json.writeEndObject();
  }

  private void writeEnd(JsonGenerator json, String end, int app, int zone, String unattributed)
      throws IOException {
    if (app < 0) {
      json.writeStringField(end + "Attribution", unattributed);
      return;
    }
    App a = apps.get(app);
    json.writeStringField(end + "App", a.name());
    json.writeStringField(end + "Cluster", a.cluster());
    json.writeStringField(end + "Namespace", a.namespace());
    json.writeStringField(end + "WorkloadKind", a.workloadKind());
    json.writeStringField(end + "WorkloadName", a.name());
    json.writeStringField(end + "Zone", zoneName(zone));
    json.writeStringField(end + "Region", REGIONS[a.region()]);
    json.writeStringField(end + "Account", a.account());
    json.writeStringField(end + "Attribution", "OWNER");
  }

  /** IP index to address: the fleet in 10.0.0.0/8, the outside (negative) in 100.64.0.0/10. */
  static String ip(int index) {
    if (index < 0) {
      int k = -1 - index;
      return "100." + (64 + (k >>> 16)) + "." + ((k >>> 8) & 255) + "." + (k & 255);
    }
    int k = index + 1;
    return "10." + ((k >>> 16) & 255) + "." + ((k >>> 8) & 255) + "." + (k & 255);
  }

  private static int geometric(SplittableRandom random, double p) {
    // Failures before the first success, P(success) = p.
    return (int)
        Math.floor(Math.log(1 - random.nextDouble()) / Math.log(1 - Math.min(p, 0.999999)));
  }

  private static double gaussian(SplittableRandom random) {
    // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
    return Math.sqrt(-2 * Math.log(1 - random.nextDouble()))
        * Math.cos(2 * Math.PI * random.nextDouble());
  }

  private static int sample(double[] cumulative, double u) {
    int i = Arrays.binarySearch(cumulative, u);
    return Math.min(cumulative.length - 1, i >= 0 ? i : -i - 1);
  }

  private static int[] permutation(int n, SplittableRandom random) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
