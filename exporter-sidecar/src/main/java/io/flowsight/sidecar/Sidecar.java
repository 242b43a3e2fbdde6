package io.flowsight.sidecar;

import io.flowsight.ops.OpsServer;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.bpf.BpfCounters;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.bpf.FlowEvent;
import io.flowsight.sidecar.bpf.HookStatus;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.flow.FlowTable;
import io.flowsight.sidecar.flow.KernelClock;
import io.flowsight.sidecar.flow.RecordNumbering;
import io.flowsight.sidecar.flow.SavedConnection;
import io.flowsight.sidecar.flow.SocketOwners;
import io.flowsight.sidecar.flow.StateFile;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.sidecar.sink.FlowSink;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running sidecar: the eBPF program in the kernel, one thread that drains its ring buffer on a
 * timer (no wakeup per event) into the flow table and takes the interim snapshots, the sink, and
 * the operations endpoint.
 */
public final class Sidecar implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Sidecar.class);

  private final SidecarConfig config;
  private final SidecarMetrics metrics;
  private final FlowSink sink;
  private final BpfObject bpf;
  private final FlowTable table;
  private final ScheduledExecutorService loop;
  private final OpsServer ops;
  private final List<HookStatus> hooks;
  private final StateFile state;
  private volatile boolean closed;

  private Sidecar(
      SidecarConfig config,
      SidecarMetrics metrics,
      FlowSink sink,
      BpfObject bpf,
      FlowTable table,
      List<HookStatus> hooks,
      OpsServer ops,
      StateFile state) {
    this.config = config;
    this.state = state;
    this.metrics = metrics;
    this.sink = sink;
    this.bpf = bpf;
    this.table = table;
    this.hooks = hooks;
    this.ops = ops;
    this.loop =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "flowsight-kernel-consumer");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Loads and attaches the eBPF program and starts consuming.
   *
   * @throws io.flowsight.sidecar.bpf.BpfException when the kernel refuses (the message says which
   *     privilege or feature is missing)
   */
  public static Sidecar start(
      SidecarConfig config,
      SidecarMetrics metrics,
      FlowSink sink,
      Function<byte[], Identity> localIdentity)
      throws IOException {
    return start(config, metrics, sink, localIdentity, SocketOwners.NONE);
  }

  /**
   * As {@link #start(SidecarConfig, SidecarMetrics, FlowSink, Function)}, naming each record's
   * container and pod with {@code owners}.
   */
  public static Sidecar start(
      SidecarConfig config,
      SidecarMetrics metrics,
      FlowSink sink,
      Function<byte[], Identity> localIdentity,
      SocketOwners owners)
      throws IOException {
    BpfObject bpf =
        BpfObject.load(
            BpfObject.Options.defaults()
                .withRingBufferBytes(config.ringBufferBytes())
                .withSocketMapEntries(config.maxConnections()));
    try {
      List<HookStatus> hooks = bpf.attach();
      // BpfObject logs each hook's state; the metrics and /health expose it.
      for (HookStatus hook : hooks) {
        metrics.hook(hook.hook(), hook.live());
      }
      RecordNumbering numbering = new RecordNumbering();
      FlowTable table =
          new FlowTable(
              config.observerId(),
              config.maxConnections(),
              new KernelClock(),
              localIdentity,
              owners,
              record -> {
                if (config.excluded().excludes(record)) {
                  metrics.recordExcluded();
                } else {
                  sink.accept(numbering.number(record));
                }
              },
              new FlowTable.Listener() {
                @Override
                public void recordEmitted(FlowKind kind) {
                  metrics.recordEmitted(kind.name());
                }

                @Override
                public void connectionUntracked() {
                  metrics.connectionUntracked();
                }

                @Override
                public void connectionPartial() {
                  metrics.connectionPartial();
                }

                @Override
                public void connectionVanished() {
                  metrics.connectionVanished();
                }
              });
      metrics.connectionsTracked(table::size);
      metrics.connectionsUntracked(table::untracked);
      metrics.snapshotDecodeErrors(bpf::snapshotDecodeErrors);
      // latestCounters: a scrape racing the shutdown gets the counters read as it closed.
      metrics.kernelCounters(() -> kernelCounters(bpf.latestCounters()));
      bpf.onEvents(
          event -> {
            metrics.eventConsumed(event.type().name());
            table.onEvent(event);
          });
      StateFile state =
          new StateFile(config.stateDir().resolve(StateFile.NAME), StateFile.currentBootId());
      Optional<List<SavedConnection>> saved = state.readAndDelete();
      // The sockets open now, taken once the program is attached: from here on every close is
      // seen. Nothing is consumed before this, so a close queued meanwhile finds them tracked.
      table.start(startSnapshot(bpf), saved.orElse(null));
      log.info(
          "flow table: {} connections open at start, {}",
          table.size(),
          saved.isEmpty()
              ? "no state of a previous run: those open before are partial"
              : saved.get().size() + " taken over from the previous run's state");
      Sidecar[] self = new Sidecar[1];
      OpsServer ops =
          config.metricsPort() == 0
              ? null
              : new OpsServer(
                  config.metricsHost(),
                  config.metricsPort(),
                  metrics.registry(),
                  () -> self[0].health(),
                  config.opsSecurity());
      Sidecar sidecar = new Sidecar(config, metrics, sink, bpf, table, hooks, ops, state);
      self[0] = sidecar;
      sidecar.schedule();
      log.info(
          "sidecar running: observer {}, run {}, ring buffer {} bytes, interim every {}s{}",
          config.observerId(),
          table.runId(),
          config.ringBufferBytes(),
          config.interimInterval().toSeconds(),
          ops == null
              ? ""
              : ", metrics on "
                  + config.opsSecurity().scheme()
                  + "://"
                  + config.metricsHost()
                  + ":"
                  + ops.port()
                  + "/metrics");
      return sidecar;
    } catch (RuntimeException | IOException e) {
      bpf.close();
      throw e;
    }
  }

  /** The sockets open now; none when the iterator is not attached (no interim records then). */
  private static List<FlowEvent> startSnapshot(BpfObject bpf) {
    try {
      return bpf.snapshot();
    } catch (RuntimeException e) {
      log.warn("no snapshot of the sockets open at start: {}", e.getMessage());
      return List.of();
    }
  }

  private void schedule() {
    long pollMs = config.pollInterval().toMillis();
    loop.scheduleWithFixedDelay(this::drain, pollMs, pollMs, TimeUnit.MILLISECONDS);
    long interimMs = config.interimInterval().toMillis();
    loop.scheduleAtFixedRate(this::snapshot, interimMs, interimMs, TimeUnit.MILLISECONDS);
  }

  private void drain() {
    try {
      bpf.consume();
    } catch (RuntimeException e) {
      log.error("draining the ring buffer failed", e);
    }
  }

  private void snapshot() {
    try {
      // Events queued before the snapshot first, so a close is never mistaken for a vanish.
      bpf.consume();
      table.onSnapshot(bpf.snapshot());
    } catch (RuntimeException e) {
      log.error("interim snapshot failed", e);
    }
  }

  /** The ops endpoint's port, or -1 when it is off. */
  public int opsPort() {
    return ops == null ? -1 : ops.port();
  }

  /** Which hooks are attached. */
  public List<HookStatus> hooks() {
    return hooks;
  }

  OpsServer.Health health() {
    boolean required = hooks.stream().filter(HookStatus::required).allMatch(HookStatus::live);
    BpfCounters counters = bpf.counters();
    StringBuilder json = new StringBuilder();
    json.append("{\"status\":\"").append(required && !closed ? "UP" : "DOWN").append('"');
    json.append(",\"observerId\":\"").append(config.observerId().replace("\"", "")).append('"');
    json.append(",\"connectionsTracked\":").append(table.size());
    json.append(",\"ringBufferDrops\":").append(counters.ringBufferDrops());
    json.append(",\"hooks\":{");
    for (int i = 0; i < hooks.size(); i++) {
      HookStatus h = hooks.get(i);
      json.append(i == 0 ? "" : ",").append('"').append(h.hook()).append("\":").append(h.live());
    }
    json.append("}}");
    return new OpsServer.Health(required && !closed, json.toString());
  }

  private static Map<String, Long> kernelCounters(BpfCounters c) {
    if (c == null) {
      return Map.of();
    }
    Map<String, Long> values = new LinkedHashMap<>();
    values.put("events", c.events());
    values.put("ringbuf_drops", c.ringBufferDrops());
    values.put("sock_map_full", c.sockMapFull());
    values.put("active_open", c.activeOpen());
    values.put("active_established", c.activeEstablished());
    values.put("passive_established", c.passiveEstablished());
    values.put("close", c.close());
    values.put("listen", c.listen());
    values.put("kprobe_connect", c.kprobeConnect());
    values.put("kprobe_accept", c.kprobeAccept());
    return values;
  }

  /**
   * Stops consuming, drains what the kernel still holds into the table, reports every open
   * connection up to now (a last INTERIM each) and saves what was reported for the next run ({@code
   * --state-dir}), flushes and closes the sink, and detaches the program.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    loop.shutdown();
    try {
      if (!loop.awaitTermination(10, TimeUnit.SECONDS)) {
        loop.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      // Closes queued so far, then a last INTERIM for every open connection, then the closes
      // that happened meanwhile: what is left open is reported up to this instant.
      bpf.consume();
      table.onSnapshot(bpf.snapshot());
      bpf.consume();
      List<SavedConnection> open = table.openConnections();
      state.write(open);
      log.info("{} open connections reported up to now and saved to {}", open.size(), state.path());
    } catch (IOException | RuntimeException e) {
      log.error(
          "could not report and save the open connections ({}): the next start takes those open"
              + " as partial",
          e.toString());
    }
    sink.close();
    bpf.close();
    if (ops != null) {
      ops.close();
    }
    log.info("sidecar stopped");
  }
}
