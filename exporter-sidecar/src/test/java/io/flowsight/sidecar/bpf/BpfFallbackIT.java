package io.flowsight.sidecar.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.testing.Requirements;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A kprobe program the verifier rejects (flow.bpf.c built with -DFLOW_TEST_BROKEN_KPROBE) must not
 * cost the tracepoint: the load falls back to the tracepoint alone, the hooks say why, and the
 * verifier's log reaches SLF4J through libbpf_set_print (log4j2-test.xml copies logger "libbpf" to
 * target/libbpf-test.log).
 */
class BpfFallbackIT {

  static final Path LIBBPF_LOG = Path.of("target", "libbpf-test.log");

  @Test
  void shouldFallBackToTheTracepointAndLogTheVerifierRejection() throws Exception {
    Requirements.requireRoot();
    Requirements.require(
        Files.isReadable(BpfObject.KERNEL_BTF), "a kernel with BTF (/sys/kernel/btf/vmlinux)");
    Path broken = testResource("bpf/flow-broken-kprobe.bpf.o");

    try (BpfObject bpf = BpfObject.load(BpfObject.Options.defaults().withObjectFile(broken))) {
      List<HookStatus> hooks = bpf.attach();
      hooks.forEach(h -> System.out.println("fallback hook " + h));

      assertThat(hooks.get(0).live()).isTrue();
      // the second attempt, without the kprobes, keeps the iterator
      HookStatus iter = hooks.get(BpfNames.PROGRAMS.indexOf(BpfNames.PROG_SNAPSHOT));
      assertThat(iter.loaded()).isTrue();
      assertThat(iter.live()).isTrue();
      assertThat(bpf.snapshot()).isNotEmpty();
      for (HookStatus h : hooks.subList(1, 4)) {
        assertThat(BpfNames.KPROBE_PROGRAMS).contains(h.program());
        assertThat(h.loaded()).isFalse();
        assertThat(h.live()).isFalse();
        assertThat(h.errno()).isEqualTo(13); // EACCES: the verifier said no
        assertThat(h.error()).contains("bpf_object__load failed (errno 13)").contains("verifier");
      }
    }
    String log = Files.readString(LIBBPF_LOG);
    assertThat(log)
        .contains("prog 'on_v4_connect': BPF program load failed")
        .contains("-- BEGIN PROG LOAD LOG --")
        .contains("invalid mem access 'map_value_or_null'");
  }

  private static Path testResource(String name) throws URISyntaxException {
    URL url = BpfFallbackIT.class.getClassLoader().getResource(name);
    assertThat(url).as(name + " (built by exec-maven-plugin from bpf/flow.bpf.c)").isNotNull();
    return Path.of(url.toURI());
  }
}
