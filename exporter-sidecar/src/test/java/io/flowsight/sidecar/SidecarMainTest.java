package io.flowsight.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.Identity;
import io.flowsight.sidecar.cgroup.CgroupMounts;
import io.flowsight.sidecar.config.SidecarConfig;
import io.flowsight.sidecar.config.SidecarOptions;
import io.flowsight.sidecar.flow.SocketOwners;
import io.flowsight.sidecar.kubernetes.NodePods;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarMainTest {

  @TempDir Path dir;

  @Test
  void shouldLabelEachLocalAddressFromTheIdentityFileAndTheRestWithTheHost() throws IOException {
    Path file = dir.resolve("identities.yaml");
    Files.writeString(
        file,
        "identities:\n"
            + "  - ip: 127.0.0.2\n    app: frontend\n"
            + "  - cidr: 127.0.0.0/8\n    app: localhost\n");
    SidecarConfig config =
        SidecarOptions.parse(
                new String[] {"--identity-file", file.toString(), "--identity.app", "vm-app"},
                Map.of())
            .toConfig();

    Function<byte[], Identity> identity = SidecarMain.localIdentity(config);

    assertThat(identity.apply(IpAddresses.parse("127.0.0.2")).getApp()).isEqualTo("frontend");
    assertThat(identity.apply(IpAddresses.parse("127.0.0.9")).getApp()).isEqualTo("localhost");
    assertThat(identity.apply(IpAddresses.parse("10.1.2.3")).getApp()).isEqualTo("vm-app");
  }

  /** This node's pods as a plain object: one pod holding one IP, the node holding another. */
  private static final class TwoPods implements NodePods {
    static final Identity POD = Identity.newBuilder().setApp("checkout").build();
    static final Identity NODE = Identity.newBuilder().setApp("kubernetes-node").build();

    @Override
    public Optional<Identity> localIdentity(byte[] ip) {
      String text = IpAddresses.toText(ip);
      return text.equals("10.1.2.3")
          ? Optional.of(POD)
          : text.equals("10.0.0.5") ? Optional.of(NODE) : Optional.empty();
    }

    @Override
    public Optional<Identity> pod(String uid) {
      return uid.equals("3b4c1c64-7f0a-4b5e-9a2f-1c2d3e4f5a6b")
          ? Optional.of(POD)
          : Optional.empty();
    }

    @Override
    public void close() {}
  }

  @Test
  void shouldNameLocalAddressesFromTheApiFirstThenAsConfigured() {
    SidecarConfig config =
        SidecarOptions.parse(new String[] {"--identity.app", "vm-app"}, Map.of()).toConfig();

    Function<byte[], Identity> identity =
        SidecarMain.localIdentity(new TwoPods(), SidecarMain.localIdentity(config));

    assertThat(identity.apply(IpAddresses.parse("10.1.2.3"))).isSameAs(TwoPods.POD);
    assertThat(identity.apply(IpAddresses.parse("10.0.0.5"))).isSameAs(TwoPods.NODE);
    assertThat(identity.apply(IpAddresses.parse("127.0.0.1")).getApp()).isEqualTo("vm-app");
  }

  @Test
  void shouldNameContainersAndPodsFromTheCgroup2MountAndCountEachLookup() throws IOException {
    Path mount = Files.createDirectories(dir.resolve("cgroup2"));
    Files.writeString(mount.resolve("cgroup.controllers"), "");
    Path pod =
        Files.createDirectories(
            mount.resolve(
                "kubepods.slice/kubepods-besteffort.slice/"
                    + "kubepods-besteffort-pod3b4c1c64_7f0a_4b5e_9a2f_1c2d3e4f5a6b.slice"));
    Path container =
        Files.createDirectories(pod.resolve("cri-containerd-" + "c".repeat(64) + ".scope"));
    Path unknownPod =
        Files.createDirectories(
            mount.resolve("kubepods.slice/kubepods-pod00000000_0000_4000_8000_000000000000.slice"));
    Path docker =
        Files.createDirectories(mount.resolve("system.slice/docker-" + "d".repeat(64) + ".scope"));
    Path mountinfo =
        Files.writeString(
            dir.resolve("mountinfo"),
            "26 25 0:24 / " + mount + " rw,relatime shared:8 - cgroup2 cgroup2 rw\n");
    SidecarConfig config = SidecarOptions.parse(new String[0], Map.of()).toConfig();
    SidecarMetrics metrics = new SidecarMetrics();

    SocketOwners owners = SidecarMain.socketOwners(config, mountinfo, new TwoPods(), metrics);

    assertThat(owners.ownerOf(inode(container)))
        .isEqualTo(new SocketOwners.Owner("c".repeat(64), TwoPods.POD));
    assertThat(owners.ownerOf(inode(pod))).isEqualTo(new SocketOwners.Owner(null, TwoPods.POD));
    assertThat(owners.ownerOf(inode(unknownPod))).isEqualTo(SocketOwners.Owner.UNKNOWN);
    assertThat(owners.ownerOf(inode(docker)))
        .isEqualTo(new SocketOwners.Owner("d".repeat(64), null));
    assertThat(owners.ownerOf(inode(mount))).isEqualTo(SocketOwners.Owner.UNKNOWN);
    assertThat(owners.ownerOf(0)).isEqualTo(SocketOwners.Owner.UNKNOWN);
    String lookups = "flowsight_sidecar_pod_lookups_total";
    assertThat(metrics.value(lookups, "result", "pod")).isEqualTo(2.0);
    assertThat(metrics.value(lookups, "result", "unknown_pod")).isEqualTo(1.0);
    assertThat(metrics.value(lookups, "result", "node")).isEqualTo(2.0);
    assertThat(metrics.value(lookups, "result", "unknown_cgroup")).isEqualTo(1.0);
  }

  @Test
  void shouldNameNoContainerWithoutACgroup2MountOrWithCgroupRootOff() throws IOException {
    Path v1Only =
        Files.writeString(
            dir.resolve("mountinfo"),
            "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n");
    SidecarConfig auto = SidecarOptions.parse(new String[0], Map.of()).toConfig();
    SidecarConfig off =
        SidecarOptions.parse(new String[] {"--cgroup-root", "off"}, Map.of()).toConfig();

    assertThat(SidecarMain.socketOwners(auto, v1Only, null, new SidecarMetrics()))
        .isSameAs(SocketOwners.NONE);
    assertThat(SidecarMain.socketOwners(off, CgroupMounts.SELF, null, new SidecarMetrics()))
        .isSameAs(SocketOwners.NONE);
    // An explicit root that is a cgroup v1 hierarchy (a DaemonSet on a v1 node): off, no failure.
    Path v1 = Files.createDirectories(dir.resolve("v1/cpu"));
    SidecarConfig v1Root =
        SidecarOptions.parse(new String[] {"--cgroup-root", v1.getParent().toString()}, Map.of())
            .toConfig();
    assertThat(SidecarMain.socketOwners(v1Root, v1Only, null, new SidecarMetrics()))
        .isSameAs(SocketOwners.NONE);
  }

  private static long inode(Path dir) throws IOException {
    return (Long) Files.getAttribute(dir, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }

  @Test
  void shouldExitWithCode2AndNameTheSettingOnABadConfiguration() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--max-connections", "ten"},
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("bad setting --max-connections (env FLOWSIGHT_SIDECAR_MAX_CONNECTIONS")
        .contains("'ten': use a whole number from 1024 to 16777216");
  }

  @Test
  void shouldExitWithCode2WhenTheCgroupRootDoesNotExist() throws IOException {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {
              "--cgroup-root",
              dir.resolve("missing").toString(),
              "--state-dir",
              dir.resolve("state").toString()
            },
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("bad setting --cgroup-root (env FLOWSIGHT_SIDECAR_CGROUP_ROOT")
        .contains("no such directory");
  }

  @Test
  void shouldExitWithCode2WhenTheStateDirectoryCannotBeCreated() throws IOException {
    Path blocker = dir.resolve("a-file");
    Files.writeString(blocker, "");
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--state-dir", blocker.resolve("state").toString(), "--sink", "stdout"},
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("bad setting --state-dir (env FLOWSIGHT_SIDECAR_STATE_DIR")
        .contains("cannot create or write it");
  }

  @Test
  void shouldRejectAnUnknownFlag() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--ring-size", "1"},
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("Unknown options: '--ring-size'");
  }

  @Test
  void shouldPrintEachEffectiveSettingAndWhereItCameFrom() throws IOException {
    Path file = dir.resolve("sidecar.properties");
    Files.writeString(file, "ring-buffer-size=8MiB\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--print-config", "--config", file.toString(), "--topic", "t1"},
            Map.of("FLOWSIGHT_SIDECAR_INTERIM_INTERVAL", "30s"),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8).lines())
        .anyMatch(l -> l.matches("--topic +t1  \\(flag\\)"))
        .anyMatch(
            l ->
                l.matches(
                    "--interim-interval +30s  \\(environment FLOWSIGHT_SIDECAR_INTERIM_INTERVAL\\)"))
        .anyMatch(l -> l.matches("--ring-buffer-size +8MiB  \\(file .*, key ring-buffer-size\\)"))
        .anyMatch(l -> l.matches("--poll-interval +50ms  \\(default\\)"));
  }

  @Test
  void shouldRefuseAConfigFileKeyThatIsNoOption() throws IOException {
    Path file = dir.resolve("sidecar.properties");
    Files.writeString(file, "ringbuffer-size=8MiB\n");
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        SidecarMain.run(
            new String[] {"--config", file.toString()},
            Map.of(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("unknown key 'ringbuffer-size' in --config")
        .contains("did you mean 'ring-buffer-size'?");
  }
}
