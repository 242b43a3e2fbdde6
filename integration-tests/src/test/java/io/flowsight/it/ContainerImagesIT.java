package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.output.FlowAggregate;
import io.flowsight.collector.output.FlowAggregateJsonSerde;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AddressFamily;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.schemas.ObservedBy;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.AvroSerializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import io.flowsight.testing.Requirements;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The container images of {@code ./flowsight images} (deploy/images/), run in the local Docker
 * engine against the real broker and registry: the sidecar image captures a loopback connection
 * this test makes (exact bytes on both ends), the collector image aggregates records produced with
 * the project's serde (exact row), the identity-source image publishes the sample identity file
 * (exact events). Each image stays under the size target and records what went into it in its
 * labels. The images are built once per run by {@code deploy/images/build --skip-build} from the
 * jars the reactor just built (nothing is built again when its inputs did not change).
 */
@ExtendWith(LocalStackExtension.class)
class ContainerImagesIT {

  private static final long SIZE_LIMIT_BYTES = 250_000_000L;
  private static final List<String> COMPONENTS = List.of("sidecar", "collector", "identity-source");
  private static final Map<String, String> JARS =
      Map.of(
          "sidecar", "flowsight-exporter-sidecar",
          "collector", "flowsight-collector",
          "identity-source", "flowsight-identity-sources");
  private static final String CLIENT = "127.0.0.82";
  private static final String SERVER = "127.0.0.83";

  private static String version;

  private final List<String> containers = new ArrayList<>();

  @BeforeAll
  static void buildImages() throws Exception {
    Requirements.require(
        Files.isExecutable(Path.of("/usr/bin/docker"))
            || Files.isExecutable(Path.of("/usr/local/bin/docker")),
        "the docker CLI (apt-get install docker.io)");
    Requirements.require(
        run(List.of("docker", "info"), Duration.ofSeconds(60)).exit == 0,
        "a running Docker engine (dockerd; .ci/run starts one)");
    version = projectVersion();
    Path log = Files.createDirectories(Path.of("target", "it")).resolve("images-build.log");
    Result build =
        run(
            List.of(Repository.file("deploy/images/build").toString(), "--skip-build"),
            Duration.ofMinutes(20));
    Files.writeString(log, build.output);
    assertThat(build.exit)
        .as("deploy/images/build --skip-build (log: %s):%n%s", log.toAbsolutePath(), build.tail())
        .isZero();
  }

  @AfterEach
  void removeContainers() throws Exception {
    for (String name : containers) {
      run(List.of("docker", "rm", "-f", name), Duration.ofSeconds(60));
    }
  }

  @Test
  void shouldStayUnderTheSizeTargetAndRecordWhatWentIn() throws Exception {
    String revision =
        run(List.of("git", "rev-parse", "HEAD"), Duration.ofSeconds(30)).output.trim();
    for (String component : COMPONENTS) {
      String image = image(component);
      Map<String, String> labels = labels(image);
      long size = Long.parseLong(inspect(image, "{{.Size}}"));
      System.out.printf("ContainerImagesIT: %s is %d MB%n", image, size / 1_000_000);
      assertThat(size).as("%s size", image).isLessThan(SIZE_LIMIT_BYTES);
      assertThat(inspect(image, "{{.Config.User}}")).as(image).isEqualTo("65532:65532");

      assertThat(labels)
          .as(image)
          .containsEntry("org.opencontainers.image.version", version)
          .containsEntry("org.opencontainers.image.revision", revision)
          .containsEntry("org.opencontainers.image.title", "flowsight-" + component)
          .containsEntry("io.flowsight.contents", "/opt/flowsight/image-contents.txt");
      assertThat(labels.get("io.flowsight.debian.release")).as(image).matches("bookworm 12\\.\\d+");
      assertThat(labels.get("io.flowsight.jdk.version")).as(image).startsWith("17.");
      List<String> packages = List.of(labels.get("io.flowsight.debian.packages").split(" "));
      assertThat(packages).as(image).anyMatch(p -> p.startsWith("libc6="));
      Predicate<String> libbpf = p -> p.startsWith("libbpf1=");
      if (component.equals("sidecar")) {
        assertThat(packages).as(image).anyMatch(libbpf).anyMatch(p -> p.startsWith("libelf1="));
      } else {
        assertThat(packages).as(image).noneMatch(libbpf);
      }
      List<String> jars = List.of(labels.get("io.flowsight.jars").split(" "));
      assertThat(jars.get(0)).as(image).isEqualTo(JARS.get(component) + "-" + version + ".jar");
      assertThat(jars).as(image).anyMatch(j -> j.startsWith("kafka-clients-"));

      // Inside: the jlink'd runtime has exactly the labelled modules, no compiler, no docs; the
      // contents file lists every jar with its hash.
      String inside =
          exec(
              image,
              "cat /opt/flowsight/jre/release; ls /opt/flowsight/jre/bin; echo ---;"
                  + " ls -A /usr/share/doc /usr/share/man /var/lib/apt/lists /var/cache/apt"
                  + " | grep -v ':$' | grep -v '^$' | wc -l; echo ---;"
                  + " cat /opt/flowsight/image-contents.txt");
      String[] parts = inside.split("---\n");
      Matcher modules = Pattern.compile("MODULES=\"([^\"]*)\"").matcher(parts[0]);
      assertThat(modules.find()).as(parts[0]).isTrue();
      assertThat(Arrays.asList(modules.group(1).split(" ")))
          .as(image)
          .containsExactlyInAnyOrder(labels.get("io.flowsight.jdk.modules").split(","));
      assertThat(parts[0])
          .as(image)
          .contains("java")
          .doesNotContain("javac")
          .doesNotContain("jar\n");
      assertThat(parts[1].trim())
          .as("%s: files of docs, man pages and apt caches", image)
          .isEqualTo("0");
      for (String jar : jars) {
        assertThat(parts[2]).as(image).containsPattern("[0-9a-f]{64}  " + Pattern.quote(jar));
      }
      assertThat(parts[2]).contains("jdk: " + labels.get("io.flowsight.jdk.version"));
    }
  }

  @Test
  void shouldCaptureALoopbackConnectionWithExactBytesFromTheSidecarImage(LocalStack stack)
      throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    Requirements.require(
        Files.isDirectory(Path.of("/sys/kernel/tracing/events")),
        "tracefs mounted at /sys/kernel/tracing");
    String topic = stack.createTopic("flows-raw-v1", 1);
    String name = container("sidecar");
    // Docker 20.10 knows neither CAP_BPF nor CAP_PERFMON and gives no capability to a user other
    // than 0: root of the container, holding CAP_SYS_ADMIN alone (docs/deploy.md).
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--user",
        "0",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "SYS_ADMIN",
        "--network",
        "host",
        "--read-only",
        "--tmpfs",
        "/tmp:exec",
        "--tmpfs",
        "/var/lib/flowsight/sidecar:uid=65532,gid=0,mode=0770",
        "-v",
        "/sys/kernel/tracing:/sys/kernel/tracing:ro",
        "-e",
        "FLOWSIGHT_SIDECAR_BOOTSTRAP_SERVERS=" + stack.bootstrapServers(),
        "-e",
        "FLOWSIGHT_SIDECAR_REGISTRY_URL=" + stack.registryUrl(),
        "-e",
        "FLOWSIGHT_SIDECAR_TOPIC=" + topic,
        image("sidecar"),
        "--poll-interval",
        "10ms",
        "--metrics-address",
        "127.0.0.1:" + freePort(),
        "--observer-id",
        "image-it");
    awaitLog(name, "sidecar running", Duration.ofSeconds(90));

    int serverPort;
    int clientPort;
    try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getByName(SERVER))) {
      serverPort = listener.getLocalPort();
      Exchanges.serve(listener, 1234, 4321);
      clientPort = callAndReturnClientPort(serverPort);
    }

    int service = serverPort;
    List<FlowRecord> records =
        consume(
            stack,
            topic,
            FlowRecord.class,
            2,
            r -> r.getServicePort() == service,
            Duration.ofSeconds(60));
    FlowRecord client = bySide(records, Side.CLIENT);
    FlowRecord server = bySide(records, Side.SERVER);
    assertThat(records).hasSize(2);
    assertThat(client.getKind()).isEqualTo(FlowKind.CLOSED);
    assertThat(ip(client.getLocalIp())).isEqualTo(CLIENT);
    assertThat(client.getLocalPort()).isEqualTo(clientPort);
    assertThat(ip(client.getRemoteIp())).isEqualTo(SERVER);
    assertThat(client.getRemotePort()).isEqualTo(serverPort);
    assertThat(client.getBytesSent()).isEqualTo(1234);
    assertThat(client.getBytesReceived()).isEqualTo(4321);
    assertThat(client.getObserverId()).isEqualTo("image-it");
    assertThat(server.getKind()).isEqualTo(FlowKind.CLOSED);
    assertThat(ip(server.getLocalIp())).isEqualTo(SERVER);
    assertThat(server.getRemotePort()).isEqualTo(clientPort);
    assertThat(server.getBytesSent()).isEqualTo(4321);
    assertThat(server.getBytesReceived()).isEqualTo(1234);
    assertThat(running(name)).as("sidecar container running").isTrue();

    // docker stop: SIGTERM to the JVM; the flow table is saved in the state directory.
    docker("stop", "-t", "60", name);
    assertThat(inspect(name, "{{.State.ExitCode}}")).isEqualTo("143");
    assertThat(logs(name)).contains("saved to /var/lib/flowsight/sidecar/flow-table.state");
  }

  @Test
  void shouldStopAndNameTheCapabilitiesWhenTheSidecarImageRunsAsItsDefaultUser() throws Exception {
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    String name = container("sidecar-nonroot");
    // uid 65532 holds no capability in the container, whatever --cap-add says (no ambient ones).
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--cap-drop",
        "ALL",
        "--cap-add",
        "SYS_ADMIN",
        "--network",
        "none",
        "-v",
        "/sys/kernel/tracing:/sys/kernel/tracing:ro",
        image("sidecar"),
        "--sink",
        "stdout",
        "--metrics-address",
        "127.0.0.1:0");
    assertThat(docker("wait", name).trim()).isEqualTo("3");
    assertThat(logs(name))
        .contains("bpf_object__load failed (errno 1)")
        .contains("CAP_BPF and CAP_PERFMON");
  }

  @Test
  void shouldAggregateRecordsIntoExactRowsInTheCollectorImage(LocalStack stack) throws Exception {
    String flows = stack.createTopic("flows-raw-v1", 1);
    String identities = stack.createTopic("ip-identity-v1", 1);
    String output = stack.createTopic("flows-aggregated-v1", 1);
    String dlq = stack.createTopic("flows-dlq-v1", 1);
    String run = UUID.randomUUID().toString().substring(0, 8);
    Identity clientApp = app("image-client-" + run);
    Identity serverApp = app("image-server-" + run);
    String clientIp = "10.41.0.2";
    String serverIp = "10.41.0.3";
    // Minutes in the past, whole windows apart: the connection, a marker connection two windows
    // later, and a record far later whose stream time closes both (window 1m + settle + grace).
    long minute = 60_000;
    Instant t0 = Instant.ofEpochMilli((System.currentTimeMillis() / minute - 30) * minute);
    SchemaRegistryClient registry =
        new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl()));
    try (KafkaProducer<String, IpIdentityChange> producer =
        new KafkaProducer<>(
            stack.producerConfig(),
            new StringSerializer(),
            new AvroSerializer<IpIdentityChange>(registry, false))) {
      producer.send(new ProducerRecord<>(identities, clientIp, assign(clientIp, clientApp, t0)));
      producer.send(new ProducerRecord<>(identities, serverIp, assign(serverIp, serverApp, t0)));
      producer.flush();
    }
    try (KafkaProducer<String, FlowRecord> producer =
        new KafkaProducer<>(
            stack.producerConfig(),
            new StringSerializer(),
            new AvroSerializer<FlowRecord>(registry, false))) {
      int[] ports = {40_001, 40_002, 40_003};
      long[] offsets = {5_000, 2 * minute + 5_000, 10 * minute};
      for (int i = 0; i < ports.length; i++) {
        Instant start = t0.plusMillis(offsets[i]);
        Instant end = start.plusMillis(800);
        for (Side side : List.of(Side.CLIENT, Side.SERVER)) {
          FlowRecord r =
              flow(side, clientIp, ports[i], serverIp, 8443, start, end, clientApp, serverApp);
          String key = side == Side.CLIENT ? clientIp : serverIp;
          producer.send(new ProducerRecord<>(flows, null, end.toEpochMilli(), key, r));
        }
      }
      producer.flush();
    }

    String name = container("collector");
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "-e",
        "FLOWSIGHT_COLLECTOR_BOOTSTRAP_SERVERS=" + stack.bootstrapServers(),
        "-e",
        "FLOWSIGHT_COLLECTOR_REGISTRY_URL=" + stack.registryUrl(),
        "-e",
        "FLOWSIGHT_COLLECTOR_FLOWS_TOPIC=" + flows,
        "-e",
        "FLOWSIGHT_COLLECTOR_IDENTITY_TOPIC=" + identities,
        "-e",
        "FLOWSIGHT_COLLECTOR_OUTPUT_TOPIC=" + output,
        "-e",
        "FLOWSIGHT_COLLECTOR_DLQ_TOPIC=" + dlq,
        "-e",
        "FLOWSIGHT_COLLECTOR_APPLICATION_ID=image-it-" + run,
        "-e",
        "FLOWSIGHT_COLLECTOR_METRICS_ADDRESS=127.0.0.1:" + freePort(),
        "-e",
        "FLOWSIGHT_COLLECTOR_REPLICATION_FACTOR=1",
        image("collector"),
        "--commit-interval",
        "200ms");

    // The marker row (port 40002, two windows later) comes after every row of the first window.
    FlowAggregateJsonSerde json = new FlowAggregateJsonSerde();
    Map<String, Object> config = stack.consumerConfig();
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<FlowAggregate> rows = new ArrayList<>();
    boolean marker = false;
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(output));
      while (!marker && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          FlowAggregate a = json.deserialize(output, r.value());
          if (a.windowStart() >= t0.toEpochMilli() + 2 * minute) {
            marker = true;
            break;
          }
          rows.add(a);
        }
        if (!running(name)) {
          break;
        }
      }
    }
    assertThat(marker).as("the marker row arrived; collector log:%n%s", tail(logs(name))).isTrue();
    assertThat(rows).hasSize(1);
    FlowAggregate row = rows.get(0);
    assertThat(row.windowStart()).isEqualTo(t0.toEpochMilli());
    assertThat(row.windowEnd()).isEqualTo(t0.toEpochMilli() + minute);
    assertThat(row.protocol()).isEqualTo(Protocol.TCP);
    assertThat(row.clientIp()).isEqualTo(clientIp);
    assertThat(row.serverIp()).isEqualTo(serverIp);
    assertThat(row.servicePort()).isEqualTo(8443);
    assertThat(row.client().app()).isEqualTo(clientApp.getApp());
    assertThat(row.server().app()).isEqualTo(serverApp.getApp());
    assertThat(row.clientAttribution()).isEqualTo(AttributionStatus.OWNER);
    assertThat(row.serverAttribution()).isEqualTo(AttributionStatus.OWNER);
    assertThat(row.observedBy()).isEqualTo(ObservedBy.BOTH);
    assertThat(row.connections()).isEqualTo(1);
    assertThat(row.failedConnections()).isZero();
    assertThat(row.bytesClientToServer()).isEqualTo(1234);
    assertThat(row.bytesServerToClient()).isEqualTo(4321);
    assertThat(row.ephemeralPorts()).containsExactly(40_001);
    // Both ends reported it: one record counted, the other end's is the duplicate.
    assertThat(row.flowRecords()).isEqualTo(1);
    assertThat(deadLetterReasons(stack, dlq)).as("dead letters").isEmpty();
  }

  @Test
  void shouldPublishTheMountedIdentityFileFromTheIdentitySourceImage(LocalStack stack)
      throws Exception {
    String topic = stack.createTopic("ip-identity-v1", 1);
    Path file = Repository.file("deploy/local/sample-identities.yaml");
    String name = container("identity");
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "-v",
        file + ":/etc/flowsight/identities.yaml:ro",
        "-e",
        "FLOWSIGHT_IDENTITY_BOOTSTRAP_SERVERS=" + stack.bootstrapServers(),
        "-e",
        "FLOWSIGHT_IDENTITY_REGISTRY_URL=" + stack.registryUrl(),
        "-e",
        "FLOWSIGHT_IDENTITY_TOPIC=" + topic,
        image("identity-source"),
        "static",
        "--file",
        "/etc/flowsight/identities.yaml",
        "--once");
    // --once: it exits after the producer flushed, so everything it published is in the topic.
    assertThat(docker("wait", name).trim()).as("exit status; log:%n%s", logs(name)).isEqualTo("0");

    List<IpIdentityChange> events =
        consume(stack, topic, IpIdentityChange.class, 3, e -> true, Duration.ofSeconds(30));
    assertThat(countAll(stack, topic)).as("events in the topic").isEqualTo(3);
    assertThat(events)
        .extracting(
            e -> ip(e.getIp()),
            IpIdentityChange::getPrefixLength,
            IpIdentityChange::getAction,
            e -> e.getIdentity().getApp(),
            e -> e.getIdentity().getCluster(),
            e -> e.getIdentity().getZone(),
            e -> e.getIdentity().getWorkloadKind(),
            IpIdentityChange::getSource,
            IpIdentityChange::getSourceInstance)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(
                "127.0.0.2",
                null,
                IdentityAction.ASSIGN,
                "frontend",
                "local",
                "local-a",
                "Process",
                "static",
                "/etc/flowsight/identities.yaml"),
            org.assertj.core.groups.Tuple.tuple(
                "127.0.0.3",
                null,
                IdentityAction.ASSIGN,
                "backend",
                "local",
                "local-a",
                "Process",
                "static",
                "/etc/flowsight/identities.yaml"),
            org.assertj.core.groups.Tuple.tuple(
                "127.0.0.0",
                8,
                IdentityAction.ASSIGN,
                "localhost",
                "local",
                "local-a",
                null,
                "static",
                "/etc/flowsight/identities.yaml"));
  }

  // ---- helpers
  // -----------------------------------------------------------------------------------

  private int callAndReturnClientPort(int serverPort) throws IOException {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.bind(new java.net.InetSocketAddress(InetAddress.getByName(CLIENT), 0));
      socket.connect(new java.net.InetSocketAddress(InetAddress.getByName(SERVER), serverPort));
      socket.getOutputStream().write(new byte[1234]);
      socket.getOutputStream().flush();
      Exchanges.readExactly(socket.getInputStream(), 4321);
      socket.shutdownOutput();
      Exchanges.readExactly(socket.getInputStream(), 0);
      return socket.getLocalPort();
    }
  }

  private static FlowRecord bySide(List<FlowRecord> records, Side side) {
    return records.stream()
        .filter(r -> r.getSide() == side)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + side + " record in " + records));
  }

  private static Identity app(String app) {
    return Identity.newBuilder().setApp(app).setZone("zone-a").setLabels(Map.of()).build();
  }

  private static IpIdentityChange assign(String ip, Identity who, Instant at) {
    return IpIdentityChange.newBuilder()
        .setAddressFamily(AddressFamily.IPV4)
        .setIp(ByteBuffer.wrap(IpAddresses.parse(ip)))
        .setPrefixLength(null)
        .setAction(IdentityAction.ASSIGN)
        .setIdentity(who)
        .setEventTime(at)
        .setSource("static")
        .setSourceInstance("container-images-it")
        .build();
  }

  /** One connection as its {@code side}'s sidecar reports it: 1234 bytes up, 4321 down. */
  private static FlowRecord flow(
      Side side,
      String clientIp,
      int clientPort,
      String serverIp,
      int servicePort,
      Instant start,
      Instant end,
      Identity client,
      Identity server) {
    boolean isClient = side == Side.CLIENT;
    return FlowRecord.newBuilder()
        .setObserverId(isClient ? "client-host" : "server-host")
        .setSidecarRunId("image-it")
        .setSequence(clientPort)
        .setKind(FlowKind.CLOSED)
        .setProtocol(Protocol.TCP)
        .setAddressFamily(AddressFamily.IPV4)
        .setLocalIp(ByteBuffer.wrap(IpAddresses.parse(isClient ? clientIp : serverIp)))
        .setLocalPort(isClient ? clientPort : servicePort)
        .setRemoteIp(ByteBuffer.wrap(IpAddresses.parse(isClient ? serverIp : clientIp)))
        .setRemotePort(isClient ? servicePort : clientPort)
        .setSide(side)
        .setServicePort(servicePort)
        .setConnectionStartTime(start)
        .setStartTime(start)
        .setEndTime(end)
        .setBytesSent(isClient ? 1234 : 4321)
        .setBytesReceived(isClient ? 4321 : 1234)
        .setSegmentsSent(10)
        .setSegmentsReceived(12)
        .setRetransmits(0)
        .setSrttMicros(300)
        .setRttVarMicros(50)
        .setCongestionWindow(10)
        .setLocalIdentity(isClient ? client : server)
        .build();
  }

  /** Reads {@code topic} until {@code count} records match (or the timeout), and returns them. */
  private static <T extends org.apache.avro.specific.SpecificRecord> List<T> consume(
      LocalStack stack,
      String topic,
      Class<T> type,
      int count,
      Predicate<T> mine,
      Duration timeout) {
    Deserializer<T> deserializer =
        new AvroDeserializer<>(
            new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl())), type);
    List<T> found = new ArrayList<>();
    try (KafkaConsumer<String, T> consumer =
        new KafkaConsumer<>(stack.consumerConfig(), new StringDeserializer(), deserializer)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (found.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, T> r : consumer.poll(Duration.ofMillis(200))) {
          if (mine.test(r.value())) {
            found.add(r.value());
          }
        }
      }
    }
    return found;
  }

  /**
   * How many committed records {@code topic} (one partition) holds: read up to its end offset
   * (transaction markers take offsets too, so the offset alone is no count).
   */
  private static long countAll(LocalStack stack, String topic) {
    Map<String, Object> config = new HashMap<>(stack.consumerConfig());
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long end = consumer.endOffsets(List.of(partition)).get(partition);
      long count = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (consumer.position(partition) < end && System.nanoTime() < deadline) {
        count += consumer.poll(Duration.ofMillis(200)).count();
      }
      return count;
    }
  }

  /** The reason header of every dead letter in {@code dlq}. */
  private static List<String> deadLetterReasons(LocalStack stack, String dlq) {
    Map<String, Object> config = new HashMap<>(stack.consumerConfig());
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<String> reasons = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition partition = new TopicPartition(dlq, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long end = consumer.endOffsets(List.of(partition)).get(partition);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (consumer.position(partition) < end && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          StringBuilder reason = new StringBuilder();
          r.headers()
              .forEach(
                  h ->
                      reason
                          .append(h.key())
                          .append('=')
                          .append(new String(h.value(), StandardCharsets.UTF_8))
                          .append(' '));
          reasons.add(reason.toString().trim());
        }
      }
    }
    return reasons;
  }

  private static String ip(ByteBuffer bytes) {
    byte[] b = new byte[bytes.remaining()];
    bytes.duplicate().get(b);
    try {
      return InetAddress.getByAddress(b).getHostAddress();
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static String image(String component) {
    return "flowsight/" + component + ":" + version;
  }

  private String container(String what) {
    String name = "flowsight-it-" + what + "-" + UUID.randomUUID().toString().substring(0, 8);
    containers.add(name);
    return name;
  }

  private static String docker(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("docker"));
    command.addAll(List.of(args));
    Result r = run(command, Duration.ofMinutes(3));
    assertThat(r.exit).as("%s:%n%s", String.join(" ", command), r.tail()).isZero();
    return r.output;
  }

  private static String inspect(String object, String format) throws Exception {
    return docker("inspect", "-f", format, object).trim();
  }

  private static Map<String, String> labels(String image) throws Exception {
    String out =
        docker("inspect", "-f", "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}\n{{end}}", image);
    Map<String, String> labels = new HashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        labels.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return labels;
  }

  /** Runs {@code script} with the image's shell in a throwaway container. */
  private static String exec(String image, String script) throws Exception {
    return docker(
        "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image, "-c", script);
  }

  private static boolean running(String name) throws Exception {
    return "true".equals(inspect(name, "{{.State.Running}}"));
  }

  private static String logs(String name) throws Exception {
    return run(List.of("docker", "logs", name), Duration.ofSeconds(60)).output;
  }

  private static void awaitLog(String name, String text, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      String log = logs(name);
      if (log.contains(text)) {
        return;
      }
      if (!running(name)) {
        throw new AssertionError(name + " stopped:\n" + tail(log));
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no '" + text + "' from " + name + " within " + timeout);
  }

  private static String tail(String log) {
    String[] lines = log.split("\n");
    return String.join(
        "\n", Arrays.asList(lines).subList(Math.max(0, lines.length - 40), lines.length));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The project's version: the parent pom's. */
  private static String projectVersion() throws IOException {
    String pom = Files.readString(Repository.file("pom.xml"));
    Matcher m =
        Pattern.compile("<artifactId>flowsight-parent</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(pom);
    if (!m.find()) {
      throw new IllegalStateException("no version of flowsight-parent in pom.xml");
    }
    return m.group(1);
  }

  private record Result(int exit, String output) {
    String tail() {
      return ContainerImagesIT.tail(output);
    }
  }

  private static Result run(List<String> command, Duration timeout) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      return new Result(-1, new String(out, StandardCharsets.UTF_8) + "\n(timed out)");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
