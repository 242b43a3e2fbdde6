package io.flowsight.sidecar.bpf;

import io.flowsight.settings.Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loaded flow.bpf.o: open, size the maps, load, attach, drain the ring buffer, read the
 * counters, close. Not thread-safe: one thread owns it (typically a timer that calls {@link
 * #consume()} every few tens of milliseconds; the kernel side submits without wakeups).
 *
 * <pre>{@code
 * try (BpfObject bpf = BpfObject.load(BpfObject.Options.defaults())) {
 *   bpf.attach();
 *   bpf.onEvents(event -> ...);
 *   every 20 ms: bpf.consume();
 * }
 * }</pre>
 */
public final class BpfObject implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(BpfObject.class);

  private static final int EPERM = 1;
  private static final int ENOENT = 2;
  private static final int EACCES = 13;
  private static final int EINTR = 4;
  private static final int EAGAIN = 11;
  private static final int EINVAL = 22;
  private static final int SNAPSHOT_READ_BYTES = 64 * 1024;
  private static final int PAGE_SIZE = 4096;

  /** The kernel's own BTF: CO-RE relocations are resolved against it. */
  public static final Path KERNEL_BTF = Path.of("/sys/kernel/btf/vmlinux");

  /**
   * Load-time settings.
   *
   * @param ringBufferBytes size of the {@code flow_events} ring buffer: a power of 2 and a multiple
   *     of the page size. 4 MiB dropped nothing at 16.6k connections/s drained every 20 ms.
   * @param socketMapEntries {@code flow_socks} entries: sockets open at once that we keep a pid and
   *     start time for; beyond that, counted in {@link BpfCounters#sockMapFull()}
   * @param kprobes whether to load the optional kprobe programs (a kernel may refuse them; loading
   *     then goes on without them)
   * @param objectFile the compiled object, or null for the classpath resource {@value
   *     BpfNames#OBJECT_RESOURCE}
   */
  public record Options(
      long ringBufferBytes, int socketMapEntries, boolean kprobes, Path objectFile) {

    /** The defaults, as the sidecar's options write them (their annotations read these). */
    public static final String DEFAULT_RING_BUFFER_SIZE = "4MiB";

    public static final String DEFAULT_MAX_CONNECTIONS = "65536";

    public static final long DEFAULT_RING_BUFFER_BYTES =
        Settings.parseBytes(DEFAULT_RING_BUFFER_SIZE);
    public static final int DEFAULT_SOCKET_MAP_ENTRIES = Integer.parseInt(DEFAULT_MAX_CONNECTIONS);

    public Options {
      if (ringBufferBytes < PAGE_SIZE
          || ringBufferBytes > (1L << 30)
          || Long.bitCount(ringBufferBytes) != 1) {
        throw new IllegalArgumentException(
            "ringBufferBytes must be a power of 2 between 4096 and 1 GiB, not " + ringBufferBytes);
      }
      if (socketMapEntries < 1) {
        throw new IllegalArgumentException(
            "socketMapEntries must be positive, not " + socketMapEntries);
      }
    }

    public static Options defaults() {
      return new Options(DEFAULT_RING_BUFFER_BYTES, DEFAULT_SOCKET_MAP_ENTRIES, true, null);
    }

    public Options withRingBufferBytes(long bytes) {
      return new Options(bytes, socketMapEntries, kprobes, objectFile);
    }

    public Options withSocketMapEntries(int entries) {
      return new Options(ringBufferBytes, entries, kprobes, objectFile);
    }

    public Options withKprobes(boolean load) {
      return new Options(ringBufferBytes, socketMapEntries, load, objectFile);
    }

    public Options withObjectFile(Path file) {
      return new Options(ringBufferBytes, socketMapEntries, kprobes, file);
    }
  }

  private final Libs libs;
  private final LibBpf bpf;
  private Pointer obj;
  private final Map<String, HookStatus> hooks = new LinkedHashMap<>();
  private final Map<String, Pointer> links = new LinkedHashMap<>();
  private final int countersFd;
  private final int possibleCpus;

  private Pointer ringBuffer;
  private Consumer<FlowEvent> sink;
  private long sinkErrors;
  private volatile long snapshotDecodeErrors;
  // What latestCounters() answers once the maps are gone (guarded by this).
  private BpfCounters countersAtClose;

  /** Strongly held while the ring buffer exists: libbpf only has the native trampoline. */
  private LibBpf.SampleFn sampleFn;

  private BpfObject(Libs libs, Pointer obj, Map<String, HookStatus> loadedHooks) {
    this.libs = libs;
    this.bpf = libs.bpf;
    this.obj = obj;
    this.hooks.putAll(loadedHooks);
    this.countersFd = libs.check("bpf_map__fd(" + BpfNames.MAP_COUNTERS + ")", mapFd(obj));
    this.possibleCpus = libs.check("libbpf_num_possible_cpus", bpf.libbpf_num_possible_cpus());
  }

  /**
   * Opens the object, sizes its maps and loads every program into the kernel (none attached yet).
   * If the kprobe programs stop the load, loads again without them.
   *
   * @throws BpfException naming the failed stage; for missing privileges it names CAP_BPF and
   *     CAP_PERFMON, for a kernel without BTF it says so
   */
  public static BpfObject load(Options options) {
    Objects.requireNonNull(options, "options");
    Libs libs = Libs.get();
    if (!Files.isReadable(KERNEL_BTF)) {
      throw new BpfException(
          "check kernel BTF",
          ENOENT,
          "this kernel has no BTF ("
              + KERNEL_BTF
              + " missing): the CO-RE program needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
    }
    Path file = options.objectFile();
    Path extracted = null;
    try {
      if (file == null) {
        extracted = extractResource();
        file = extracted;
      }
      // Optional programs a kernel may refuse: first all that were asked for, then without the
      // kprobes, then the tracepoint alone. The verifier's reasons are in the libbpf log.
      Set<String> asked = new LinkedHashSet<>(BpfNames.OPTIONAL_PROGRAMS);
      if (!options.kprobes()) {
        asked.removeAll(BpfNames.KPROBE_PROGRAMS);
      }
      Set<String> withoutKprobes = new LinkedHashSet<>(asked);
      withoutKprobes.removeAll(BpfNames.KPROBE_PROGRAMS);
      List<Set<String>> attempts = new ArrayList<>(List.of(asked));
      if (!withoutKprobes.equals(asked)) {
        attempts.add(withoutKprobes);
      }
      if (!withoutKprobes.isEmpty()) {
        attempts.add(Set.of());
      }
      Map<String, HookStatus> hooks = new LinkedHashMap<>();
      Map<String, BpfException> refused = new LinkedHashMap<>();
      Pointer obj = null;
      for (int i = 0; obj == null; i++) {
        Set<String> optional = attempts.get(i);
        hooks.clear();
        try {
          obj = openAndLoad(libs, file, options, optional, hooks);
        } catch (BpfException e) {
          boolean retry =
              i + 1 < attempts.size()
                  && e.errno() != EPERM
                  && e.operation().equals("bpf_object__load");
          if (!retry) {
            throw e;
          }
          LOG.warn("loading with {} failed ({}); trying without some of them", optional, e);
          for (String name : optional) {
            refused.putIfAbsent(name, e);
          }
        }
      }
      for (Map.Entry<String, BpfException> r : refused.entrySet()) {
        HookStatus h = hooks.get(r.getKey());
        if (!h.loaded()) {
          BpfException e = r.getValue();
          hooks.put(
              h.program(),
              new HookStatus(
                  h.program(),
                  h.hook(),
                  false,
                  false,
                  false,
                  e.errno(),
                  "not loaded: " + e.getMessage()));
        }
      }
      return new BpfObject(libs, obj, hooks);
    } finally {
      if (extracted != null) {
        deleteQuietly(extracted);
      }
    }
  }

  /** Opens and loads the object with the required programs and {@code optional} ones. */
  private static Pointer openAndLoad(
      Libs libs, Path file, Options options, Set<String> optional, Map<String, HookStatus> hooks) {
    LibBpf bpf = libs.bpf;
    Pointer obj =
        libs.checkPointer(
            "bpf_object__open_file(" + file + ")",
            bpf.bpf_object__open_file(file.toString(), null));
    try {
      setMaxEntries(libs, obj, BpfNames.MAP_EVENTS, options.ringBufferBytes());
      setMaxEntries(libs, obj, BpfNames.MAP_SOCKS, options.socketMapEntries());
      List<Pointer> programs = new ArrayList<>();
      for (String name : BpfNames.PROGRAMS) {
        Pointer prog = findProgram(libs, obj, name);
        programs.add(prog);
        if (BpfNames.OPTIONAL_PROGRAMS.contains(name) && !optional.contains(name)) {
          libs.check(
              "bpf_program__set_autoload(" + name + ")",
              bpf.bpf_program__set_autoload(prog, false));
        }
      }
      int rc = bpf.bpf_object__load(obj);
      if (rc < 0) {
        throw loadException(libs, -rc);
      }
      for (int i = 0; i < programs.size(); i++) {
        String name = BpfNames.PROGRAMS.get(i);
        Pointer prog = programs.get(i);
        boolean loaded = bpf.bpf_program__fd(prog) >= 0;
        boolean required = !BpfNames.OPTIONAL_PROGRAMS.contains(name);
        hooks.put(
            name,
            new HookStatus(
                name,
                bpf.bpf_program__section_name(prog),
                required,
                loaded,
                false,
                0,
                loaded ? "loaded, not attached" : "not loaded (disabled)"));
      }
      return obj;
    } catch (RuntimeException e) {
      bpf.bpf_object__close(obj);
      throw e;
    }
  }

  private static BpfException loadException(Libs libs, int errno) {
    String hint;
    if (errno == EPERM || (errno == EACCES && !Capabilities.canLoadBpf())) {
      hint =
          "loading BPF programs needs CAP_BPF and CAP_PERFMON (kernel 5.8+) or CAP_SYS_ADMIN,"
              + " e.g. run as root";
    } else if (errno == EACCES || errno == EINVAL) {
      hint = "the verifier or the kernel rejected a program: see the log of logger 'libbpf' above";
    } else {
      hint = "see the log of logger 'libbpf' above";
    }
    return libs.exception("bpf_object__load", errno, hint);
  }

  private static void setMaxEntries(Libs libs, Pointer obj, String mapName, long entries) {
    Pointer map =
        libs.checkPointer(
            "bpf_object__find_map_by_name(" + mapName + ")",
            libs.bpf.bpf_object__find_map_by_name(obj, mapName));
    libs.check(
        "bpf_map__set_max_entries(" + mapName + ", " + entries + ")",
        libs.bpf.bpf_map__set_max_entries(map, (int) entries));
  }

  private static Pointer findProgram(Libs libs, Pointer obj, String name) {
    return libs.checkPointer(
        "bpf_object__find_program_by_name(" + name + ")",
        libs.bpf.bpf_object__find_program_by_name(obj, name));
  }

  private int mapFd(Pointer object) {
    Pointer map =
        libs.checkPointer(
            "bpf_object__find_map_by_name(" + BpfNames.MAP_COUNTERS + ")",
            bpf.bpf_object__find_map_by_name(object, BpfNames.MAP_COUNTERS));
    return bpf.bpf_map__fd(map);
  }

  private static Path extractResource() {
    try (InputStream in =
        BpfObject.class.getClassLoader().getResourceAsStream(BpfNames.OBJECT_RESOURCE)) {
      if (in == null) {
        throw new BpfException(
            "extract " + BpfNames.OBJECT_RESOURCE,
            ENOENT,
            "resource not on the classpath (built by exec-maven-plugin from bpf/flow.bpf.c)");
      }
      Path file = Files.createTempFile("flowsight-flow-", ".bpf.o");
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      return file;
    } catch (IOException e) {
      throw new BpfException(
          "extract " + BpfNames.OBJECT_RESOURCE, 0, "cannot write a temp file: " + e, e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.debug("cannot delete {}", file, e);
    }
  }

  /**
   * Attaches every loaded program, one by one. The tracepoint must attach (else {@link
   * BpfException}); a kprobe that cannot attach (no kprobe support, as on some VMs) is only
   * recorded in {@link #hooksLive()}.
   *
   * @return {@link #hooksLive()}
   */
  public List<HookStatus> attach() {
    ensureOpen();
    for (String name : BpfNames.PROGRAMS) {
      HookStatus h = hooks.get(name);
      if (h == null || !h.loaded() || h.live()) {
        continue;
      }
      Pointer prog = findProgram(libs, obj, name);
      Pointer link = bpf.bpf_program__attach(prog);
      int errno = libs.lastErrno();
      if (link != null && (link.address() >= 0 || link.address() < -4095)) {
        links.put(name, link);
        hooks.put(name, new HookStatus(name, h.hook(), h.required(), true, true, 0, ""));
        continue;
      }
      if (link != null) {
        errno = (int) -link.address();
      }
      String hint = null;
      if (h.hook().startsWith("tracepoint/") && errno == ENOENT) {
        hint = "tracefs not mounted? mount -t tracefs tracefs /sys/kernel/tracing";
      } else if (h.hook().startsWith("tracepoint/") && errno == EACCES) {
        // libbpf reads the tracepoint's id from tracefs, which is mode 0700, owned by root.
        hint =
            "not root: reading the tracepoint's id from tracefs (/sys/kernel/tracing, mode 0700,"
                + " owned by root) needs CAP_DAC_READ_SEARCH besides CAP_BPF and CAP_PERFMON";
      }
      BpfException e = libs.exception("bpf_program__attach(" + name + ")", errno, hint);
      if (h.required()) {
        throw e;
      }
      hooks.put(
          name,
          new HookStatus(
              name, h.hook(), false, true, false, errno, "attach failed: " + e.getMessage()));
    }
    LOG.info("BPF hooks: {}", hooksLive());
    return hooksLive();
  }

  /** Every program and whether it is loaded and attached, with the errno when not. */
  public List<HookStatus> hooksLive() {
    return List.copyOf(hooks.values());
  }

  /**
   * Sets where {@link #consume()} delivers events; creates the ring buffer reader on first use. The
   * sink runs on the consuming thread; an exception it throws is logged and counted ({@link
   * #sinkErrors()}), and consumption goes on.
   */
  public void onEvents(Consumer<FlowEvent> eventSink) {
    ensureOpen();
    this.sink = Objects.requireNonNull(eventSink, "eventSink");
    if (ringBuffer != null) {
      return;
    }
    Pointer map =
        libs.checkPointer(
            "bpf_object__find_map_by_name(" + BpfNames.MAP_EVENTS + ")",
            bpf.bpf_object__find_map_by_name(obj, BpfNames.MAP_EVENTS));
    int fd = libs.check("bpf_map__fd(" + BpfNames.MAP_EVENTS + ")", bpf.bpf_map__fd(map));
    LibBpf.SampleFn fn = this::onSample;
    ringBuffer = libs.checkPointer("ring_buffer__new", bpf.ring_buffer__new(fd, fn, null, null));
    sampleFn = fn;
  }

  private int onSample(Pointer ctx, Pointer data, long size) {
    try {
      sink.accept(FlowEvent.decode(data, size));
    } catch (RuntimeException e) {
      // never throw into native code; a bad record must not stop the others
      if (sinkErrors++ == 0) {
        LOG.error("flow event sink failed (logged once; see sinkErrors())", e);
      }
    }
    return 0;
  }

  /**
   * Delivers every queued event to the sink, without waiting.
   *
   * @return the number of events consumed
   */
  public int consume() {
    ensureOpen();
    if (ringBuffer == null) {
      throw new IllegalStateException("call onEvents(...) before consume()");
    }
    return libs.check("ring_buffer__consume", bpf.ring_buffer__consume(ringBuffer));
  }

  /** Exceptions thrown by the event sink so far. */
  public long sinkErrors() {
    return sinkErrors;
  }

  /**
   * Every open TCP socket of this host (network namespace) with its counters so far, as {@link
   * FlowEventType#SNAPSHOT} events, read through the iter/tcp program. Listening sockets are
   * included; timewait and request sockets are not.
   *
   * @throws BpfException if the iterator is not attached (see {@link #hooksLive()}) or fails
   */
  public List<FlowEvent> snapshot() {
    ensureOpen();
    Pointer link = links.get(BpfNames.PROG_SNAPSHOT);
    if (link == null) {
      HookStatus h = hooks.get(BpfNames.PROG_SNAPSHOT);
      throw new BpfException(
          "snapshot", 0, "iter/tcp is not attached: " + (h == null ? "not in the object" : h));
    }
    int fd =
        libs.check(
            "bpf_iter_create(" + BpfNames.PROG_SNAPSHOT + ")",
            bpf.bpf_iter_create(bpf.bpf_link__fd(link)));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      Pointer buf = Memory.allocateDirect(libs.runtime, SNAPSHOT_READ_BYTES);
      byte[] chunk = new byte[SNAPSHOT_READ_BYTES];
      while (true) {
        long n = libs.libc.read(fd, buf, SNAPSHOT_READ_BYTES);
        if (n == 0) {
          break;
        }
        if (n < 0) {
          int errno = libs.lastErrno();
          if (errno == EINTR || errno == EAGAIN) {
            continue;
          }
          throw libs.exception("read(iter/tcp)", errno, null);
        }
        buf.get(0, chunk, 0, (int) n);
        bytes.write(chunk, 0, (int) n);
      }
    } finally {
      libs.libc.close(fd);
    }
    try {
      return decodeSnapshot(bytes.toByteArray());
    } catch (BpfException e) {
      snapshotDecodeErrors++; // one writer: the consuming thread
      throw e;
    }
  }

  /**
   * The iterator's output: whole {@code struct flow_event} records of type SNAPSHOT. Anything else
   * (a partial record, an unknown type: a program and a sidecar of different versions) rejects the
   * whole snapshot and is counted (by {@link #snapshot()}) in {@link #snapshotDecodeErrors()}: a
   * snapshot missing sockets would make their connections look closed, so none is better than part
   * of one.
   *
   * @throws BpfException naming what could not be decoded
   */
  static List<FlowEvent> decodeSnapshot(byte[] all) {
    if (all.length % FlowEvent.SIZE != 0) {
      throw new BpfException(
          "read(iter/tcp)", 0, all.length + " bytes is not a whole number of flow_event records");
    }
    List<FlowEvent> sockets = new ArrayList<>(all.length / FlowEvent.SIZE);
    byte[] record = new byte[FlowEvent.SIZE];
    for (int off = 0; off < all.length; off += FlowEvent.SIZE) {
      System.arraycopy(all, off, record, 0, FlowEvent.SIZE);
      FlowEvent event;
      try {
        event = FlowEvent.decode(record);
      } catch (IllegalArgumentException e) {
        throw new BpfException(
            "read(iter/tcp)", 0, "record at byte " + off + ": " + e.getMessage(), e);
      }
      if (event.type() != FlowEventType.SNAPSHOT) {
        throw new BpfException(
            "read(iter/tcp)",
            0,
            "record at byte " + off + " is a " + event.type() + ", not a SNAPSHOT");
      }
      sockets.add(event);
    }
    return sockets;
  }

  /** Snapshots rejected because the iterator's output could not be decoded. */
  public long snapshotDecodeErrors() {
    return snapshotDecodeErrors;
  }

  /** The kernel side's counters, summed over all possible CPUs. */
  public BpfCounters counters() {
    ensureOpen();
    Pointer key = Memory.allocateDirect(libs.runtime, 4);
    Pointer values = Memory.allocateDirect(libs.runtime, 8L * possibleCpus);
    long[] sums = new long[BpfCounters.MAX];
    for (int i = 0; i < BpfCounters.MAX; i++) {
      key.putInt(0, i);
      int rc = bpf.bpf_map_lookup_elem(countersFd, key, values);
      if (rc < 0) {
        throw libs.exception("bpf_map_lookup_elem(" + BpfNames.MAP_COUNTERS + ")", -rc, null);
      }
      long sum = 0;
      for (int cpu = 0; cpu < possibleCpus; cpu++) {
        sum += values.getLong(8L * cpu); // per-CPU values are 8-byte aligned slots
      }
      sums[i] = sum;
    }
    return BpfCounters.of(sums);
  }

  /**
   * The counters now, or once closed the ones read as it closed (null if they could not be read):
   * for a metrics scrape that may race the shutdown. This method and close exclude each other, so
   * the maps are never read while they are freed.
   */
  public synchronized BpfCounters latestCounters() {
    return obj == null ? countersAtClose : counters();
  }

  /** Current max_entries of a map of the object (after load: what the kernel got). */
  public long maxEntries(String mapName) {
    ensureOpen();
    Pointer map =
        libs.checkPointer(
            "bpf_object__find_map_by_name(" + mapName + ")",
            bpf.bpf_object__find_map_by_name(obj, mapName));
    return Integer.toUnsignedLong(bpf.bpf_map__max_entries(map));
  }

  private void ensureOpen() {
    if (obj == null) {
      throw new IllegalStateException("BpfObject is closed");
    }
  }

  /** Detaches everything and frees the object; the kernel drops programs and maps. */
  @Override
  public synchronized void close() {
    if (obj == null) {
      return;
    }
    try {
      countersAtClose = counters();
    } catch (RuntimeException e) {
      LOG.warn("could not read the kernel's counters before closing: {}", e.getMessage());
    }
    if (ringBuffer != null) {
      bpf.ring_buffer__free(ringBuffer);
      ringBuffer = null;
      sampleFn = null;
    }
    for (Map.Entry<String, Pointer> link : links.entrySet()) {
      int rc = bpf.bpf_link__destroy(link.getValue());
      if (rc < 0) {
        LOG.warn("bpf_link__destroy({}) failed: errno {}", link.getKey(), -rc);
      }
    }
    links.clear();
    bpf.bpf_object__close(obj);
    obj = null;
  }
}
