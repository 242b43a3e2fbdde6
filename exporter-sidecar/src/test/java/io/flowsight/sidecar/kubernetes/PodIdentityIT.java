package io.flowsight.sidecar.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.enrichment.source.kubernetes.KubernetesIdentities;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.Side;
import io.flowsight.sidecar.Sidecar;
import io.flowsight.sidecar.SidecarMain;
import io.flowsight.sidecar.bpf.BpfObject;
import io.flowsight.sidecar.cgroup.CgroupMounts;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.sidecar.flow.SocketOwners;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.sidecar.sink.FlowSink;
import io.flowsight.testing.Requirements;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A connection made by a process in a pod's cgroup is named by that pod, on this machine's kernel:
 * a cgroup2 hierarchy mounted by the test (this host mounts cgroup v1 only) with the kubelet's
 * systemd-driver layout, the real eBPF program, and fabric8's mock API server serving the pod and
 * the node.
 */
class PodIdentityIT {

  private static final String NODE = "node-pod-it";
  private static final String CLUSTER = "pod-it";

  /** The node's InternalIP as the API says: the server's address (loopback, no other test's). */
  private static final String NODE_IP = "127.0.0.1";

  /** The pod's IP: the client binds it. */
  private static final String POD_IP = "127.0.0.44";

  private static final String CONTAINER_ID =
      "5e1f0c7a9b3d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f";

  private static final CollectingRecords sink = new CollectingRecords();
  private static final SidecarMetrics metrics = new SidecarMetrics();
  private static Path mount;
  private static final List<Path> made = new ArrayList<>();
  private static Path scope;
  private static String podUid;
  private static KubernetesMockServer api;
  private static NamespacedKubernetesClient client;
  private static NodePods pods;
  private static Sidecar sidecar;

  @BeforeAll
  static void start() throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    mount = Files.createTempDirectory("pod-it-cgroup2");
    int mounted = run("mount", "-t", "cgroup2", "none", mount.toString());
    Requirements.require(mounted == 0, "a cgroup2 file system to mount (mount -t cgroup2)");

    api =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesMixedDispatcher(new HashMap<>()),
            false);
    api.init();
    client = api.createClient();
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(NODE)
                .addToLabels(KubernetesIdentities.ZONE_LABEL, "lab-1a")
                .endMetadata()
                .withNewStatus()
                .addNewAddress(NODE_IP, "InternalIP")
                .endStatus()
                .build())
        .create();
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("checkout-7d9f5-x2kq8")
            .withNamespace("shop")
            .addToLabels("app", "checkout")
            .addToLabels("pod-template-hash", "7d9f5")
            .addNewOwnerReference()
            .withApiVersion("apps/v1")
            .withKind("ReplicaSet")
            .withName("checkout-7d9f5")
            .withUid("rs-uid")
            .withController(true)
            .endOwnerReference()
            .endMetadata()
            .withNewSpec()
            .withNodeName(NODE)
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .addNewPodIP(POD_IP)
            .addNewCondition()
            .withType("PodReadyToStartContainers")
            .withStatus("True")
            .withLastTransitionTime(Instant.now().minus(Duration.ofMinutes(5)).toString())
            .endCondition()
            .endStatus()
            .build();
    podUid = client.pods().inNamespace("shop").resource(pod).create().getMetadata().getUid();

    // The kubelet's layout under the systemd driver, containerd's scope for the container.
    Path qos = mkdir(mkdir(mount.resolve("kubepods.slice")).resolve("kubepods-besteffort.slice"));
    Path podSlice =
        mkdir(qos.resolve("kubepods-besteffort-pod" + podUid.replace('-', '_') + ".slice"));
    scope = mkdir(podSlice.resolve("cri-containerd-" + CONTAINER_ID + ".scope"));

    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {
                  "--sink",
                  "stdout",
                  "--interim-interval",
                  "60s",
                  "--poll-interval",
                  "10ms",
                  "--metrics-address",
                  "127.0.0.1:0",
                  "--observer-id",
                  NODE,
                  "--state-dir",
                  Files.createTempDirectory("pod-it-state").toString(),
                  "--cgroup-root",
                  mount.toString(),
                  "--kubernetes-node",
                  NODE,
                  "--kubernetes-cluster",
                  CLUSTER
                },
                Map.of())
            .toConfig();
    // As SidecarMain wires it, with the mock API server's client (no spec.nodeName selector).
    pods = KubernetesNodePods.start(client, CLUSTER, NODE, Duration.ofSeconds(30), false);
    SocketOwners owners = SidecarMain.socketOwners(config, CgroupMounts.SELF, pods, metrics);
    sidecar =
        Sidecar.start(
            config,
            metrics,
            sink,
            SidecarMain.localIdentity(pods, SidecarMain.localIdentity(config)),
            owners);
  }

  @AfterAll
  static void stop() throws Exception {
    if (sidecar != null) {
      sidecar.close();
    }
    if (pods != null) {
      pods.close();
    }
    if (client != null) {
      client.close();
      api.destroy();
    }
    // The hierarchy outlives the mount: remove what the test made, deepest first.
    for (int i = made.size() - 1; i >= 0; i--) {
      Files.deleteIfExists(made.get(i));
    }
    if (mount != null) {
      run("umount", mount.toString());
      Files.deleteIfExists(mount);
    }
  }

  private static Path mkdir(Path dir) throws IOException {
    Files.createDirectory(dir);
    made.add(dir);
    return dir;
  }

  private static int run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).inheritIO().start();
    return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }

  private static long inode(Path dir) throws IOException {
    return (Long) Files.getAttribute(dir, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }

  /** A server on the node's IP: reads to the end, answers {@code reply} bytes, closes. */
  private static ServerSocket server(int reply) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName(NODE_IP));
    Thread t =
        new Thread(
            () -> {
              try (Socket accepted = server.accept()) {
                InputStream in = accepted.getInputStream();
                while (in.read() != -1) {
                  // the request, to the client's end
                }
                accepted.getOutputStream().write(new byte[reply]);
              } catch (IOException e) {
                // the test fails on the missing records
              }
            },
            "pod-it-server");
    t.setDaemon(true);
    t.start();
    return server;
  }

  private static Predicate<FlowRecord> connection(int clientPort, int serverPort) {
    return r ->
        r.getKind() == FlowKind.CLOSED
            && (r.getSide() == Side.CLIENT
                ? r.getLocalPort() == clientPort && r.getRemotePort() == serverPort
                : r.getLocalPort() == serverPort && r.getRemotePort() == clientPort);
  }

  private static FlowRecord side(List<FlowRecord> records, Side side) {
    List<FlowRecord> of = records.stream().filter(r -> r.getSide() == side).toList();
    assertThat(of).as("%s records", side).hasSize(1);
    return of.get(0);
  }

  @Test
  void shouldNameThePodAndContainerOfAProcessInThePodsCgroup() throws Exception {
    int clientPort;
    int serverPort;
    try (ServerSocket server = server(3000)) {
      serverPort = server.getLocalPort();
      String java = ProcessHandle.current().info().command().orElseThrow();
      String classes =
          new File(PodClient.class.getProtectionDomain().getCodeSource().getLocation().toURI())
              .getPath();
      // Into the container's cgroup first, then the client: its socket is created there.
      Process p =
          new ProcessBuilder(
                  "sh",
                  "-c",
                  "echo $$ > \"$0\"/cgroup.procs && exec \"$1\" -cp \"$2\" "
                      + PodClient.class.getName()
                      + " "
                      + POD_IP
                      + " "
                      + NODE_IP
                      + " "
                      + serverPort
                      + " 1000",
                  scope.toString(),
                  java,
                  classes)
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("client finished").isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertThat(p.exitValue()).as("client exit, output %s", out).isZero();
      clientPort = Integer.parseInt(out);
    }
    List<FlowRecord> records = sink.await(connection(clientPort, serverPort), 2);
    FlowRecord client = side(records, Side.CLIENT);
    FlowRecord server = side(records, Side.SERVER);

    // The kernel's id of the socket's cgroup is the inode of the cgroup's directory (64-bit
    // kernfs): what the sidecar's walk relies on.
    assertThat(client.getCgroupId()).isEqualTo(inode(scope));
    assertThat(client.getBytesSent()).isEqualTo(1000);
    assertThat(client.getBytesReceived()).isEqualTo(3000);
    assertThat(client.getContainerId()).isEqualTo(CONTAINER_ID);
    Identity pod = client.getPod();
    assertThat(pod).isNotNull();
    assertThat(pod.getInstanceId()).isEqualTo("checkout-7d9f5-x2kq8");
    assertThat(pod.getNamespace()).isEqualTo("shop");
    assertThat(pod.getApp()).isEqualTo("checkout");
    assertThat(pod.getWorkloadKind()).isEqualTo("Deployment");
    assertThat(pod.getWorkloadName()).isEqualTo("checkout");
    assertThat(pod.getCluster()).isEqualTo(CLUSTER);
    assertThat(pod.getNode()).isEqualTo(NODE);
    assertThat(pod.getZone()).isEqualTo("lab-1a");
    // Its local IP is the pod's: the same identity.
    assertThat(IpAddresses.toText(client.getLocalIp().array())).isEqualTo(POD_IP);
    assertThat(client.getLocalIdentity()).isEqualTo(pod);

    // The accepting end is this test's JVM, in no pod's cgroup, on the node's IP.
    assertThat(server.getPod()).isNull();
    assertThat(server.getContainerId()).isNull();
    // An accepted socket has its listener's cgroup, pid or not (the SERVER side has none).
    assertThat(server.getCgroupId()).isNotNull().isNotEqualTo(inode(scope));
    assertNode(server.getLocalIdentity());

    assertThat(metrics.value("flowsight_sidecar_pod_lookups_total", "result", "pod"))
        .as("records naming a pod: only this client's")
        .isEqualTo(1.0);
    assertThat(metrics.value("flowsight_sidecar_pod_lookups_total", "result", "unknown_pod"))
        .isZero();
  }

  @Test
  void shouldNameNoPodForAProcessOutsideAnyPodsCgroup() throws Exception {
    int clientPort;
    int serverPort;
    try (ServerSocket server = server(10);
        Socket socket = new Socket(InetAddress.getByName(NODE_IP), server.getLocalPort())) {
      serverPort = server.getLocalPort();
      clientPort = socket.getLocalPort();
      socket.getOutputStream().write(new byte[20]);
      socket.shutdownOutput();
      InputStream in = socket.getInputStream();
      while (in.read() != -1) {
        // the reply
      }
    }
    List<FlowRecord> records = sink.await(connection(clientPort, serverPort), 2);
    for (FlowRecord r : records) {
      assertThat(r.getPod()).as("%s pod", r.getSide()).isNull();
      assertThat(r.getContainerId()).as("%s container", r.getSide()).isNull();
      assertNode(r.getLocalIdentity());
    }
    assertThat(side(records, Side.CLIENT).getCgroupId()).isNotNull();
  }

  @Test
  void shouldNotLoadTheKubernetesClientWithoutKubernetesNode() throws Exception {
    // The client is on the class path (this test uses it)...
    assertThat(Class.forName("io.fabric8.kubernetes.client.KubernetesClient")).isNotNull();
    // ...but a sidecar without --kubernetes-node never loads a class of it. It runs to the end of
    // its start (cgroup walk, eBPF loaded) and stops there: its metrics port is taken.
    String java = ProcessHandle.current().info().command().orElseThrow();
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      Process p =
          new ProcessBuilder(
                  java,
                  "-verbose:class",
                  "-cp",
                  System.getProperty("java.class.path"),
                  "io.flowsight.sidecar.SidecarMain",
                  "--sink",
                  "stdout",
                  "--cgroup-root",
                  mount.toString(),
                  "--state-dir",
                  Files.createTempDirectory("pod-it-classes").toString(),
                  "--metrics-address",
                  "127.0.0.1:" + taken.getLocalPort())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isEqualTo(2);
      assertThat(out).contains("cannot open the metrics endpoint");
      assertThat(out).contains("io.flowsight.sidecar.cgroup.CgroupDirectory");
      assertThat(out.lines().filter(l -> l.contains("io.fabric8")).toList()).isEmpty();
    }
  }

  private static void assertNode(Identity identity) {
    assertThat(identity).isNotNull();
    assertThat(identity.getApp()).isEqualTo(KubernetesIdentities.NODE_APP);
    assertThat(identity.getInstanceId()).isEqualTo(NODE);
    assertThat(identity.getCluster()).isEqualTo(CLUSTER);
    assertThat(identity.getZone()).isEqualTo("lab-1a");
  }

  /** Keeps every record (a plain object standing in for the output, not for a server). */
  private static final class CollectingRecords implements FlowSink {
    private final List<FlowRecord> records = new ArrayList<>();

    @Override
    public synchronized void accept(FlowRecord record) {
      records.add(record);
      notifyAll();
    }

    synchronized List<FlowRecord> await(Predicate<FlowRecord> filter, int count)
        throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      List<FlowRecord> found = records.stream().filter(filter).toList();
      while (found.size() < count && System.nanoTime() < deadline) {
        wait(50);
        found = records.stream().filter(filter).toList();
      }
      assertThat(found).as("records of the connection").hasSize(count);
      return found;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
